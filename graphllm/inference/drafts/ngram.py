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


def continuations(context: list[int], length: int, max_n: int = 3, branches: int = 1, min_n: int = 1,
                  short_length: int | None = None) -> list[list[int]]:
    """Up to `branches` distinct continuations (of up to `length` tokens; `short_length` for matches shorter than
    `max_n`) of the context's last `min_n` to `max_n` tokens, longest match first and, among matches of one
    length, the latest first."""
    found: list[list[int]] = []
    end = len(context)
    for n in range(min(max_n, end - 1), min_n - 1, -1):
        pattern = context[end - n:]
        take = length if n == max_n or short_length is None else min(length, short_length)
        for start in range(end - n - 1, -1, -1):
            if context[start:start + n] == pattern:
                follow = context[start + n: start + n + take]
                if follow and follow not in found:
                    found.append(follow)
                    if len(found) == branches:
                        return found
    return found


class NGramDraft(Draft):
    name = "ngram"

    def __init__(self, max_n: int = 3, min_n: int | None = None, short_length: int | None = 1) -> None:
        # A one-token match is mostly chance: on SmolLM2's long answers it got fewer tokens accepted per pass
        # than it cost in tree size (bench decode: 1.01x with one-token matches, 1.10x without). Shorter matches
        # than `max_n` propose `short_length` tokens: on the bench's answers a full 3-token match had its next
        # 1..6 tokens accepted 57%, 45%, 33%, 31%, 31%, 30% of the time (copying, once started, goes on), a
        # 2-token match only 39%, 20%, 16%, ..., and on a CPU every extra tree token costs 5-20% of a pass.
        min_n = min(2, max_n) if min_n is None else min_n
        if not 1 <= min_n <= max_n:
            raise ValueError(f"the n-gram lengths must satisfy 1 <= min <= max, not {min_n}..{max_n}")
        self.max_n, self.min_n, self.short_length = max_n, min_n, short_length

    def propose(self, state: DecodeState, roots: list[int], contexts: list[list[int]], shape: TreeShape,
                config: GenerationConfig, generator: torch.Generator | None) -> TokenTree:
        builder = TreeBuilder(roots)
        branches = max(shape.widths)
        for row, context in enumerate(contexts):
            for path in continuations(context, shape.depth, self.max_n, branches, self.min_n, self.short_length):
                builder.add_path(row, path)
        return builder.build(state.mask.device)
