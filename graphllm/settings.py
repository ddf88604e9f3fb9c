"""Settings files that users write (`catalog/upstreams.yaml`, a link-check config): YAML read with its file and
line in every error, validated into a pydantic model with one line per problem, and regular expressions checked
where they load, so that a typo is one clear line and not an error deep in a run."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError


def read_yaml(path: Path, error: type[Exception], what: str = "") -> Any:
    """The YAML document in `path`; an unreadable file or a syntax error raises `error` with file:line."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise error(f"cannot read {what}{path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise error(f"{where}: YAML syntax error: {getattr(exc, 'problem', exc)}") from None


def validated(model: type[BaseModel], data: Any, source: str, error: type[Exception]) -> BaseModel:
    """`data` as `model`; the first problem raises `error`: "source: field 'a.b': what is wrong"."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise error(f"{source}: field {field!r}: {first['msg']}") from None


def checked_pattern(pattern: str, what: str) -> str:
    """`pattern` unchanged if it compiles; otherwise a ValueError naming `what` (e.g. "title pattern")."""
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"{what} {pattern!r} is not a regular expression: {exc}") from None
    return pattern
