"""Drafts by name. Each draft module registers how `name[:argument]` on the command line becomes a draft
(`@register_draft`), and a draft that is trained registers how `graphllm distill --draft name` trains it
(`@register_trainer`, with the options it declares); `make_draft`, `graphllm distill` and the command line's help
find them here, so adding a draft is adding one module or folder to this package and touches no other file."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


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


@dataclass
class DraftTraining:
    """What `graphllm distill` hands a trained draft's trainer: the target, where the draft goes, and the command
    line's options (the shared ones: tasks, data, train_examples, lr, seed, restart; and those the draft declared,
    None where the user gave none)."""

    target: object  # the GraphLLM to draft for
    recipe: object
    tokenizer: object
    run_dir: Path | None
    out: Path
    options: argparse.Namespace
    progress: bool = False
    log: Callable[[str], None] = print


@dataclass(frozen=True)
class TrainerEntry:
    name: str
    summary: str  # what the draft is and what it trains on, for `graphllm distill --help`
    declare: Callable  # (argument group) -> None: the draft's own options
    check: Callable  # (options: Namespace) -> None: raises ValueError on a bad option, before any model loads
    train: Callable  # (DraftTraining) -> str: trains, saves the draft in `out`, returns the one-line report
    needs_run: bool = False  # trained for a run directory (its own GNN and bridge), not for an untrained recipe
    folder: str = "draft"  # where the draft goes under the run directory when --out is not given


TRAINERS: dict[str, TrainerEntry] = {}


def at_least_one(options: argparse.Namespace, *names: str) -> None:
    """A trainer's check: each named option is 1 or more (a ValueError naming the first that is not)."""
    for name in names:
        if getattr(options, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be at least 1, not {getattr(options, name)}")


def register_trainer(name: str, summary: str, declare: Callable, check: Callable = lambda options: None,
                     needs_run: bool = False, folder: str = "draft"):
    """Register the decorated function as how `graphllm distill --draft name` trains the draft `name`."""

    def decorate(train: Callable) -> Callable:
        if name in TRAINERS:
            raise ValueError(f"trained draft {name!r} registered twice")
        TRAINERS[name] = TrainerEntry(name, summary, declare, check, train, needs_run, folder)
        return train

    return decorate
