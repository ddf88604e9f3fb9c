"""The distilled draft at decoding time: its own cache of the committed text, fed the tokens the target accepts
after each verification; registered as `--draft distilled[:DIR]`. The model is `model.py`."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from graphllm.inference.config import GenerationConfig, TreeShape
from graphllm.inference.drafts.base import Draft, grow_tree
from graphllm.inference.drafts.distilled.model import load_draft
from graphllm.inference.drafts.registry import register_draft
from graphllm.inference.state import DecodeState
from graphllm.inference.tree import TokenTree
from graphllm.models.graph_llm import GraphLLM


class DistilledDraft(Draft):
    name = "distilled"
    own_state = True

    def __init__(self, draft: GraphLLM) -> None:
        self.model = draft
        self.state: DecodeState | None = None
        self.roots: list[int] = []

    def modules(self) -> list[nn.Module]:
        return [self.model]

    def start(self, model, batch, state: DecodeState) -> None:
        self.state, _ = DecodeState.prefill(self.model, batch)

    def propose(self, state: DecodeState, roots: list[int], contexts: list[list[int]], shape: TreeShape,
                config: GenerationConfig, generator: torch.Generator | None) -> TokenTree:
        own = self.state
        committed = own.length
        self.roots = roots

        def forward(tokens, positions, block_attend, _parents):
            return own.block(tokens, positions, block_attend, committed=committed)

        tree = grow_tree(forward, roots, own.next_position, shape, config, generator)
        own.truncate(committed)
        return tree

    def commit(self, state: DecodeState, accepted: list[list[int]]) -> None:
        """Feed each row its old root and the accepted draft tokens (the bonus token is the next root)."""
        own = self.state
        chains = [[root] + new[:-1] for root, new in zip(self.roots, accepted, strict=True)]
        width = max(len(c) for c in chains)
        device = own.mask.device
        tokens = torch.zeros(len(chains), width, dtype=torch.long)
        valid = torch.zeros(len(chains), width, dtype=torch.bool)
        for i, chain in enumerate(chains):
            tokens[i, : len(chain)] = torch.tensor(chain)
            valid[i, : len(chain)] = True
        valid = valid.to(device)
        causal = torch.ones(width, width, dtype=torch.bool, device=device).tril()
        start = own.length
        own.block(tokens.to(device), own.next_position[:, None] + torch.arange(width, device=device),
                  causal[None] & valid[:, None, :], need_logits=False)
        own.compact(start, torch.arange(width, device=device).expand(len(chains), -1), valid)
        own.next_position = own.next_position + valid.sum(1)

    def select_rows(self, keep: list[int]) -> None:
        self.state.select_rows(keep)
        self.roots = [self.roots[i] for i in keep]


@register_draft("distilled", "distilled[:DIR]  a small copy with its own bridge, trained by `graphllm distill` "
                "(default: the run's draft/)", needs_target=True)
def _build(argument: str, target, recipe, run_dir) -> DistilledDraft:
    if not argument and run_dir is None:
        raise ValueError("say where the distilled draft is: distilled:DIR")
    return DistilledDraft(load_draft(target, recipe, Path(argument) if argument else Path(run_dir) / "draft"))
