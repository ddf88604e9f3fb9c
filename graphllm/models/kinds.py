"""Recipe options typed per registered kind: a registry's option models, each with a `kind: Literal[name]`, become
one discriminated union, so a recipe's `bridge:` or `gnn.conv:` is checked against the kind it names and a typo
is an error, not a default. A bare name stands for that kind with its defaults (`conv: gin`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, Union

from pydantic import BaseModel, BeforeValidator, Field


def check_kind(name: str, options: type[BaseModel]) -> None:
    """Raise unless `options` declares `kind` with the default `name` (the union's tag)."""
    field = options.model_fields.get("kind")
    if field is None or field.default != name:
        raise ValueError(f"{options.__name__} must declare kind: Literal[{name!r}] = {name!r}")


def _bare_name(value: Any) -> Any:
    return {"kind": value} if isinstance(value, str) else value


def kind_union(options: Iterable[type[BaseModel]]) -> Any:
    """The annotated union of `options`, told apart by their `kind`."""
    members = tuple(options)
    if len(members) == 1:  # a union of one has nothing to discriminate
        return Annotated[members[0], BeforeValidator(_bare_name)]
    return Annotated[Union[members], Field(discriminator="kind"), BeforeValidator(_bare_name)]  # noqa: UP007
