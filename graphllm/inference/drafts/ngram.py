"""Prompt lookup: the continuation of the latest earlier occurrence of the last n tokens (n from `max_n` down to 1).

Free to run and strong when answers copy from the prompt (node lists, edge lists, names). Several distinct
continuations make a tree sharing their common starts: the latest longest match first, then earlier and
shorter ones.
"""

from __future__ import annotations

import torch

from graphllm.inference.config import GenerationConfig, TreeShape
from graphllm.inference.drafts.base import Draft
from graphllm.inference.state import DecodeState
from graphllm.inference.tree import TokenTree, TreeBuilder


def continuations(context: list[int], length: int, max_n: int = 3, branches: int = 1, min_n: int = 1
                  ) -> list[list[int]]:
    """Up to `branches` distinct continuations (of up to `length` tokens) of the context's last `min_n` to `max_n`
    tokens, longest match first and, among matches of one length, the latest first."""
    found: list[list[int]] = []
    end = len(context)
    for n in range(min(max_n, end - 1), min_n - 1, -1):
        pattern = context[end - n:]
        for start in range(end - n - 1, -1, -1):
            if context[start:start + n] == pattern:
                follow = context[start + n: start + n + length]
                if follow and follow not in found:
                    found.append(follow)
                    if len(found) == branches:
                        return found
    return found


class NGramDraft(Draft):
    name = "ngram"

    def __init__(self, max_n: int = 3, min_n: int | None = None) -> None:
        # A one-token match is mostly chance: on SmolLM2's long answers it got fewer tokens accepted per pass
        # than it cost in tree size (bench decode: 1.01x with one-token matches, 1.10x without).
        min_n = min(2, max_n) if min_n is None else min_n
        if not 1 <= min_n <= max_n:
            raise ValueError(f"the n-gram lengths must satisfy 1 <= min <= max, not {min_n}..{max_n}")
        self.max_n, self.min_n = max_n, min_n

    def propose(self, state: DecodeState, roots: list[int], contexts: list[list[int]], shape: TreeShape,
                config: GenerationConfig, generator: torch.Generator | None) -> TokenTree:
        builder = TreeBuilder(roots)
        branches = max(shape.widths)
        for row, context in enumerate(contexts):
            for path in continuations(context, shape.depth, self.max_n, branches, self.min_n):
                builder.add_path(row, path)
        return builder.build(state.mask.device)
