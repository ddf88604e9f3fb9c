"""Bridges by name. Each bridge module registers its name, its typed options (a pydantic model whose `kind` is
the bridge's name, so that a recipe's `bridge:` is one member of a discriminated union and is checked against
the bridge it names) and how it is built around an LLM; adding a bridge is adding one module to this package
and touches no other file."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel

from graphllm.models.kinds import check_kind


@dataclass(frozen=True)
class BridgeEntry:
    name: str
    options: type[BaseModel]
    build: Callable  # (gnn_dim: int, shape: LLMShape, llm, options, tokenizer) -> nn.Module returning a BridgeOutput


REGISTRY: dict[str, BridgeEntry] = {}


def register_bridge(name: str, options: type[BaseModel]):
    """Register the decorated builder under `name`, with `options` as the schema of its recipe options."""
    check_kind(name, options)

    def decorate(build: Callable) -> Callable:
        if name in REGISTRY:
            raise ValueError(f"bridge {name!r} registered twice")
        REGISTRY[name] = BridgeEntry(name, options, build)
        return build

    return decorate
