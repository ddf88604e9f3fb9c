"""Early-exit self-draft: the first k layers of the target itself, then its final norm and LM head.

The draft needs no weights of its own and shares the target's cache: the keys and values of the first k
layers for the committed tokens (graph prefix included) are exactly what the draft would compute, so it
only adds its tree nodes to those layers and the slots are cut off again before the target verifies.
"""

from __future__ import annotations

from contextlib import contextmanager

import torch
from torch import nn

from graphllm.inference.config import GenerationConfig, TreeShape
from graphllm.inference.drafts.base import Draft, grow_tree, whole_number
from graphllm.inference.drafts.registry import register_draft
from graphllm.inference.state import DecodeState
from graphllm.inference.tree import TokenTree
from graphllm.models.llm import LLMShape


def decoder_layers(llm) -> tuple[nn.Module, str]:
    """(parent module, attribute) of the list of decoder layers, whatever the architecture calls it."""
    count = LLMShape.of(llm.config).layers
    for module in llm.modules():
        for name, child in module.named_children():
            if isinstance(child, nn.ModuleList) and len(child) == count:
                return module, name
    raise ValueError(f"cannot find the {count} decoder layers of {type(llm).__name__}")


@contextmanager
def first_layers(llm, k: int):
    """Run the model with only its first k decoder layers."""
    parent, name = decoder_layers(llm)
    layers = getattr(parent, name)
    setattr(parent, name, nn.ModuleList(list(layers)[:k]))
    try:
        yield
    finally:
        setattr(parent, name, layers)


class EarlyExitDraft(Draft):
    name = "early-exit"

    def __init__(self, layers: int = 4) -> None:
        if layers < 1:
            raise ValueError(f"the early-exit draft needs at least one layer, not {layers}")
        self.layers = layers

    def propose(self, state: DecodeState, roots: list[int], contexts: list[list[int]], shape: TreeShape,
                config: GenerationConfig, generator: torch.Generator | None) -> TokenTree:
        total = LLMShape.of(state.model.llm.config).layers
        if self.layers >= total:
            raise ValueError(f"the early-exit draft must use fewer layers than the target's {total}")
        committed = state.length

        def forward(tokens, positions, block_attend, _parents):
            return state.block(tokens, positions, block_attend, committed=committed)

        with first_layers(state.model.llm, self.layers):
            tree = grow_tree(forward, roots, state.next_position, shape, config, generator)
        state.truncate(committed, layers=self.layers)
        return tree


@register_draft("early-exit", "early-exit:K  the target's first K layers, sharing its cache and prefix (default 4)")
def _build(argument: str, target, recipe, run_dir) -> EarlyExitDraft:
    return EarlyExitDraft(whole_number("early-exit", argument)) if argument else EarlyExitDraft()
