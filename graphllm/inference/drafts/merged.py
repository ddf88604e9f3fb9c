"""Several drafts' trees merged into one: paths with a common start share nodes, so the target verifies the
union in one pass and accepts the longest path any draft got right."""

from __future__ import annotations

import torch

from graphllm.inference.config import GenerationConfig, TreeShape
from graphllm.inference.drafts.base import Draft
from graphllm.inference.state import DecodeState
from graphllm.inference.tree import TokenTree, TreeBuilder


class MergedDraft(Draft):
    def __init__(self, drafts: list[Draft]) -> None:
        if len(drafts) < 2:
            raise ValueError("merging needs at least two drafts")
        self.drafts = drafts
        self.name = "+".join(d.name for d in drafts)
        self.needs_hidden = any(d.needs_hidden for d in drafts)
        self.own_state = any(d.own_state for d in drafts)

    def modules(self) -> list[torch.nn.Module]:
        return [m for draft in self.drafts for m in draft.modules()]

    def start(self, model, batch, state) -> None:
        for draft in self.drafts:
            draft.start(model, batch, state)

    def commit(self, state, accepted) -> None:
        for draft in self.drafts:
            draft.commit(state, accepted)

    def select_rows(self, keep) -> None:
        for draft in self.drafts:
            draft.select_rows(keep)

    def propose(self, state: DecodeState, roots: list[int], contexts: list[list[int]], shape: TreeShape,
                config: GenerationConfig, generator: torch.Generator | None) -> TokenTree:
        # Deterministic children only: a merged node may come from several drafts, so there is no one draft
        # distribution to sample from; verification then uses the rule that is exact for any fixed children.
        greedy = GenerationConfig(max_new_tokens=config.max_new_tokens)
        builder = TreeBuilder(roots)
        for draft in self.drafts:
            tree = draft.propose(state, roots, contexts, shape, greedy, generator)
            scores = tree.scores.tolist() if tree.scores is not None else None
            for row, children in enumerate(tree.children):
                stack = [(0, 0)]  # (node in the draft's tree, node in the merged tree)
                while stack:
                    node, merged = stack.pop()
                    for token, child in children.get(node, ()):
                        score = scores[row][child] if scores is not None else None
                        stack.append((child, builder.add(row, merged, token, score=score)))
        return builder.build(state.mask.device)
