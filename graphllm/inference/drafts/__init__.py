"""Drafts for speculative decoding, by name: `make_draft("early-exit:4")`, `make_draft("ngram+early-exit")`."""

from __future__ import annotations

from graphllm.inference.drafts.base import Draft
from graphllm.inference.drafts.early_exit import EarlyExitDraft
from graphllm.inference.drafts.merged import MergedDraft
from graphllm.inference.drafts.ngram import NGramDraft

DRAFTS = {"early-exit": EarlyExitDraft, "ngram": NGramDraft}


def make_draft(spec: str) -> Draft:
    """`name[:argument]`, several joined by `+` for a merged tree (early-exit:K layers, ngram:N longest match)."""
    parts = []
    for part in spec.split("+"):
        name, _, argument = part.strip().partition(":")
        if name not in DRAFTS:
            raise ValueError(f"unknown draft {name!r}; choose from {', '.join(DRAFTS)} (join several with +)")
        try:
            parts.append(DRAFTS[name](int(argument)) if argument else DRAFTS[name]())
        except ValueError as exc:
            raise ValueError(f"draft {part!r}: {exc}") from None
    return parts[0] if len(parts) == 1 else MergedDraft(parts)


__all__ = ["DRAFTS", "Draft", "EarlyExitDraft", "MergedDraft", "NGramDraft", "make_draft"]
