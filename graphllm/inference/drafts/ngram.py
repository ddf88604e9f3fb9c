"""Prompt lookup: the continuation of the latest earlier occurrence of the last n tokens (n from `max_n` down to 1).

Free to run and strong when answers copy from the prompt (node lists, edge lists, names). Several distinct
continuations make a tree sharing their common starts: the latest longest match first, then earlier and
shorter ones.

Each node is scored with an estimate of the chance that the target accepts it, so the tree budget can trim
n-gram trees like model-drafted ones: the product, down its path, of how often the token at that depth of a
match of that length was the target's own choice, given that the tokens before it were. The rates are counted
from the passes this draft has seen (the committed tokens, bonus token included, are the target's choices
there) and forget old passes, so they follow the kind of text being decoded.
"""

from __future__ import annotations

import torch

from graphllm.inference.config import GenerationConfig, TreeShape
from graphllm.inference.drafts.base import Draft, whole_number
from graphllm.inference.drafts.registry import register_draft
from graphllm.inference.state import DecodeState
from graphllm.inference.tree import TokenTree, TreeBuilder


def matches(context: list[int], length: int, max_n: int = 3, branches: int = 1, min_n: int = 1,
            short_length: int | None = None) -> list[tuple[int, list[int]]]:
    """Up to `branches` (n, continuation) pairs: distinct continuations (of up to `length` tokens; `short_length`
    for matches shorter than `max_n`) of the context's last n tokens, n from `max_n` down to `min_n`, longest
    match first and, among matches of one length, the latest first."""
    found: list[tuple[int, list[int]]] = []
    end = len(context)
    for n in range(min(max_n, end - 1), min_n - 1, -1):
        pattern = context[end - n:]
        take = length if n == max_n or short_length is None else min(length, short_length)
        for start in range(end - n - 1, -1, -1):
            if context[start:start + n] == pattern:
                follow = context[start + n: start + n + take]
                if follow and all(follow != seen for _, seen in found):
                    found.append((n, follow))
                    if len(found) == branches:
                        return found
    return found


class AcceptanceRates:
    """How often the token at depth d of a length-n match was accepted, given the ones before it were."""

    def __init__(self, prior_rate: float = 0.5, prior_weight: float = 2.0, forget: float = 0.99) -> None:
        self.prior_rate, self.prior_weight, self.forget = prior_rate, prior_weight, forget
        self.hits: dict[tuple[int, int], float] = {}
        self.trials: dict[tuple[int, int], float] = {}

    def rate(self, n: int, depth: int) -> float:
        hits, trials = self.hits.get((n, depth), 0.0), self.trials.get((n, depth), 0.0)
        return (hits + self.prior_rate * self.prior_weight) / (trials + self.prior_weight)

    def path_scores(self, n: int, length: int) -> list[float]:
        scores, score = [], 1.0
        for depth in range(1, length + 1):
            score *= self.rate(n, depth)
            scores.append(score)
        return scores

    def observe(self, n: int, proposed: list[int], committed: list[int]) -> None:
        """Depth d is a trial when the d - 1 tokens before it were accepted and the target's token at d is known."""
        for depth, (token, chosen) in enumerate(zip(proposed, committed, strict=False), start=1):
            key = (n, depth)
            self.trials[key] = self.trials.get(key, 0.0) + 1
            if token != chosen:
                break
            self.hits[key] = self.hits.get(key, 0.0) + 1

    def decay(self) -> None:
        for counts in (self.hits, self.trials):
            for key in counts:
                counts[key] *= self.forget


class NGramDraft(Draft):
    name = "ngram"

    def __init__(self, max_n: int = 3, min_n: int | None = None, short_length: int | None = 1) -> None:
        # A one-token match is mostly chance: on SmolLM2's long answers it got fewer tokens accepted per pass
        # than it cost in tree size (`graphllm bench decode`, with and without one-token matches). Shorter
        # matches than `max_n` propose `short_length` tokens: once a full match starts copying, copying goes
        # on, while a shorter match's later tokens are rarely right, and every extra tree token costs a share
        # of a pass.
        min_n = min(2, max_n) if min_n is None else min_n
        if not 1 <= min_n <= max_n:
            raise ValueError(f"the n-gram lengths must satisfy 1 <= min <= max, not {min_n}..{max_n}")
        self.max_n, self.min_n, self.short_length = max_n, min_n, short_length
        self.rates = AcceptanceRates()
        self._proposed: list[list[tuple[int, list[int]]]] = []

    def propose(self, state: DecodeState, roots: list[int], contexts: list[list[int]], shape: TreeShape,
                config: GenerationConfig, generator: torch.Generator | None) -> TokenTree:
        builder = TreeBuilder(roots)
        branches = max(shape.widths)
        self._proposed = []
        for row, context in enumerate(contexts):
            found = matches(context, shape.depth, self.max_n, branches, self.min_n, self.short_length)
            self._proposed.append(found)
            for n, path in found:
                parent = 0
                for token, score in zip(path, self.rates.path_scores(n, len(path)), strict=True):
                    parent = builder.add(row, parent, token, score=score)
        return builder.build(state.mask.device)

    def commit(self, state: DecodeState, accepted: list[list[int]]) -> None:
        self.rates.decay()
        for found, committed in zip(self._proposed, accepted, strict=True):
            for n, path in found:
                self.rates.observe(n, path, committed)
        self._proposed = []


@register_draft("ngram", "ngram:N  prompt lookup: continue the longest match of up to N tokens (default 3)")
def _build(argument: str, target, recipe, run_dir) -> NGramDraft:
    return NGramDraft(whole_number("ngram", argument)) if argument else NGramDraft()
