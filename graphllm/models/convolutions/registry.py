"""Message-passing layers by name. Each layer module registers its typed options (a pydantic model whose `kind`
is the layer's name, so that a recipe's `gnn.conv` is one member of a discriminated union), how the layer is made
and whether it reads edge features (as PyG's `BasicGNN` subclasses declare `supports_edge_attr`), so the encoder
asks the layer instead of testing its type. Adding a layer is adding one module to this package."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel
from torch import nn

from graphllm.models.kinds import check_kind


@dataclass(frozen=True)
class Convolution:
    name: str
    options: type[BaseModel]
    make: Callable[[int, BaseModel], nn.Module]  # (width d, options) -> a layer mapping [N, d] node states to [N, d]
    supports_edge_attr: bool  # called as conv(h, edge_index, edge_attr [E, 1]) rather than conv(h, edge_index)


CONVOLUTIONS: dict[str, Convolution] = {}


def register_convolution(name: str, options: type[BaseModel], supports_edge_attr: bool = False):
    """Register the decorated `make(d, options)` under `name`; `options.kind` must be `Literal[name]`."""
    check_kind(name, options)

    def decorate(make: Callable[[int, BaseModel], nn.Module]) -> Callable[[int, BaseModel], nn.Module]:
        if name in CONVOLUTIONS:
            raise ValueError(f"convolution {name!r} registered twice")
        CONVOLUTIONS[name] = Convolution(name, options, make, supports_edge_attr)
        return make

    return decorate
