"""A separately trained small draft with its own bridge: the target's first k layers, copied, plus a fresh GNN
and bridge of the target's recipe sized for the small model, distilled from the target's next-token
distributions (`training.py` beside this file).

Unlike the early-exit draft it keeps a cache of its own: after each verification the tokens the target
committed are fed to it, so its cache always holds the committed text.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

from torch import nn

from graphllm.errors import GraphLLMError
from graphllm.fileio import atomic_write_text
from graphllm.inference.drafts.early_exit import decoder_layers
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
    draft = (build_model(recipe.model_copy(update={"adaptation": "frozen"}), small, tokenizer=target.tokenizer)
             if graph else GraphLLM(small))
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
