"""Drafts for speculative decoding, by name: `make_draft("early-exit:4")`, `make_draft("ngram+early-exit")`.

Every module of this package is imported here, and each draft module registers itself
(`registry.register_draft`): `DRAFTS` names them in the order of their modules, for the command line."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from graphllm.inference.drafts.base import Draft
from graphllm.inference.drafts.early_exit import EarlyExitDraft
from graphllm.inference.drafts.merged import MergedDraft
from graphllm.inference.drafts.ngram import NGramDraft
from graphllm.inference.drafts.registry import REGISTRY, TRAINERS, DraftTraining

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

DRAFTS = tuple(REGISTRY)


def parse_draft_spec(spec: str) -> list[tuple[str, str]]:
    """[(name, argument)] of `name[:argument]` parts joined by `+`; an unknown name is a ValueError. Cheap, so a
    command can check a spec before it loads any model."""
    parts = []
    for part in spec.split("+"):
        name, _, argument = part.strip().partition(":")
        if name not in REGISTRY:
            raise ValueError(f"unknown draft {name!r}; choose from {', '.join(REGISTRY)} (join several with +)")
        parts.append((name, argument))
    return parts


def make_draft(spec: str, target=None, recipe=None, run_dir: Path | None = None) -> Draft:
    """`name[:argument]`, several joined by `+` for a merged tree (see `usage()` for the names)."""
    parts = []
    for name, argument in parse_draft_spec(spec):
        entry = REGISTRY[name]
        if entry.needs_target and target is None:
            raise ValueError(f"the {name} draft needs the target model")
        parts.append(entry.build(argument, target, recipe, run_dir))
    return parts[0] if len(parts) == 1 else MergedDraft(parts)


def usage() -> str:
    """One line per registered draft, for `--help`."""
    return "; ".join(entry.usage for entry in REGISTRY.values())


__all__ = ["DRAFTS", "TRAINERS", "Draft", "DraftTraining", "EarlyExitDraft", "MergedDraft", "NGramDraft", "make_draft",
           "parse_draft_spec", "usage"]
