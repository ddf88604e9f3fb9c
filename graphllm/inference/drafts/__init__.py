"""Drafts for speculative decoding, by name: `make_draft("early-exit:4")`, `make_draft("ngram+early-exit")`.

`distilled[:DIR]` loads a draft trained with `graphllm distill` (default: the `draft/` folder of the run),
`feature[:DIR]` one trained with `graphllm distill --draft feature` (default: the run's `feature-draft/`)."""

from __future__ import annotations

from pathlib import Path

from graphllm.inference.drafts.base import Draft
from graphllm.inference.drafts.early_exit import EarlyExitDraft
from graphllm.inference.drafts.merged import MergedDraft
from graphllm.inference.drafts.ngram import NGramDraft

DRAFTS = ("early-exit", "ngram", "distilled", "feature")


def _one(name: str, argument: str, target, recipe, run_dir: Path | None) -> Draft:
    if name == "distilled":
        from graphllm.inference.drafts.distilled import DistilledDraft, load_draft

        if target is None:
            raise ValueError("the distilled draft needs the target model")
        if not argument and run_dir is None:
            raise ValueError("say where the distilled draft is: distilled:DIR")
        return DistilledDraft(load_draft(target, recipe, Path(argument) if argument else Path(run_dir) / "draft"))
    if name == "feature":
        from graphllm.inference.drafts.feature import FeatureDraft, load_feature_draft

        if target is None:
            raise ValueError("the feature draft needs the target model")
        if not argument and run_dir is None:
            raise ValueError("say where the feature draft is: feature:DIR")
        folder = Path(argument) if argument else Path(run_dir) / "feature-draft"
        return FeatureDraft(load_feature_draft(target.llm, folder))
    if argument and not argument.isdigit():
        raise ValueError(f"{name} takes a whole number after ':', not {argument!r}")
    draft = EarlyExitDraft if name == "early-exit" else NGramDraft
    return draft(int(argument)) if argument else draft()


def parse_draft_spec(spec: str) -> list[tuple[str, str]]:
    """[(name, argument)] of `name[:argument]` parts joined by `+`; an unknown name is a ValueError. Cheap, so a
    command can check a spec before it loads any model."""
    parts = []
    for part in spec.split("+"):
        name, _, argument = part.strip().partition(":")
        if name not in DRAFTS:
            raise ValueError(f"unknown draft {name!r}; choose from {', '.join(DRAFTS)} (join several with +)")
        parts.append((name, argument))
    return parts


def make_draft(spec: str, target=None, recipe=None, run_dir: Path | None = None) -> Draft:
    """`name[:argument]`, several joined by `+` for a merged tree: early-exit:K (layers, default 4),
    ngram:N (longest match, default 3), distilled[:DIR], feature[:DIR]."""
    parts = [_one(name, argument, target, recipe, run_dir) for name, argument in parse_draft_spec(spec)]
    return parts[0] if len(parts) == 1 else MergedDraft(parts)


__all__ = ["DRAFTS", "Draft", "EarlyExitDraft", "MergedDraft", "NGramDraft", "make_draft", "parse_draft_spec"]
