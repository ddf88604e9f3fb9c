"""A separately trained small draft with its own bridge: the target's first k layers, copied, plus a fresh GNN
and bridge of the target's recipe sized for the small model, distilled from the target's next-token
distributions (see `graphllm/inference/distill.py`).

Unlike the early-exit draft it keeps a cache of its own: after each verification the tokens the target
committed are fed to it, so its cache always holds the committed text.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import torch
from torch import nn

from graphllm.errors import GraphLLMError
from graphllm.fileio import atomic_write_text
from graphllm.inference.config import GenerationConfig, TreeShape
from graphllm.inference.drafts.base import Draft, grow_tree
from graphllm.inference.drafts.early_exit import decoder_layers
from graphllm.inference.drafts.registry import register_draft
from graphllm.inference.state import DecodeState
from graphllm.inference.tree import TokenTree
from graphllm.models.build import Recipe, build_model
from graphllm.models.graph_llm import GraphLLM
from graphllm.tensorio import atomic_save_tensors

WEIGHTS, CONFIG = "draft.safetensors", "draft.json"


def build_draft_model(target: GraphLLM, recipe: Recipe | None, layers: int) -> GraphLLM:
    """The draft's architecture: its decoder layers and graph bridge train, its embeddings and head do not."""
    base = target.llm.get_base_model() if hasattr(target.llm, "get_base_model") else target.llm
    small = copy.deepcopy(base)
    parent, name = decoder_layers(small)
    total = len(getattr(parent, name))
    if not 1 <= layers < total:
        raise ValueError(f"a distilled draft takes 1 to {total - 1} of the target's {total} layers, not {layers}")
    setattr(parent, name, nn.ModuleList(list(getattr(parent, name))[:layers]))
    for attribute in ("num_hidden_layers", "n_layer", "num_layers"):
        if hasattr(small.config, attribute):
            setattr(small.config, attribute, layers)
    graph = recipe is not None and recipe.bridge is not None
    draft = build_model(recipe.model_copy(update={"adaptation": "frozen"}), small) if graph else GraphLLM(small)
    for p in getattr(parent, name).parameters():
        p.requires_grad_(True)
    return draft.eval()


def save_draft(draft: GraphLLM, out_dir: Path, info: dict) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_save_tensors(out_dir / WEIGHTS, draft.trainable_parameters())
    atomic_write_text(out_dir / CONFIG, json.dumps(info, indent=2) + "\n")


def load_draft(target: GraphLLM, recipe: Recipe | None, path: Path) -> GraphLLM:
    from graphllm.train import load_trainable

    try:
        info = json.loads((path / CONFIG).read_text())
    except (OSError, ValueError):
        raise GraphLLMError(f"{path} holds no distilled draft; train one with `graphllm distill`") from None
    draft = build_draft_model(target, recipe, int(info["layers"]))
    load_trainable(draft, path / WEIGHTS)
    return draft


class DistilledDraft(Draft):
    name = "distilled"

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
