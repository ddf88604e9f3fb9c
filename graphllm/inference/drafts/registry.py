"""Drafts by name. Each draft module registers how `name[:argument]` on the command line becomes a draft
(`@register_draft`); `make_draft` and the command line's help find them here, so adding a draft is adding
one module to this package and touches no other file."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class DraftEntry:
    name: str
    usage: str  # e.g. "early-exit:K  the target's first K layers (default 4)"
    build: Callable  # (argument: str, target, recipe, run_dir) -> Draft; raises ValueError on a bad argument
    needs_target: bool = False


REGISTRY: dict[str, DraftEntry] = {}


def register_draft(name: str, usage: str, needs_target: bool = False):
    """Register the decorated builder under `name`."""

    def decorate(build: Callable) -> Callable:
        if name in REGISTRY:
            raise ValueError(f"draft {name!r} registered twice")
        REGISTRY[name] = DraftEntry(name, usage, build, needs_target)
        return build

    return decorate
