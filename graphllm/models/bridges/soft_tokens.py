r"""Soft tokens (GraphToken; G-Retriever's graph token): graph tokens projected into the LLM's input space.

.. math::
    e_i = \mathrm{PromptEncoder}(t_1, \dots, t_T)_i, \qquad t_i \in \mathbb{R}^{d},\ e_i \in \mathbb{R}^{H}

The prompt encoder is an MLP per token, or as in P-tuning a bidirectional LSTM over the tokens followed by
an MLP. Input ``[B, T, d]`` graph tokens; output ``[B, T, H]`` embeddings, spliced into the text where the
question starts.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict
from torch import nn

from graphllm.models.bridges.base import BridgeOutput
from graphllm.models.bridges.registry import register_bridge
from graphllm.models.gnn import GraphTokens
from graphllm.models.llm import LLMShape


class SoftTokenBridge(nn.Module):
    def __init__(self, gnn_dim: int, shape: LLMShape, encoder: str = "mlp", embed_scale: float = 1.0) -> None:
        super().__init__()
        if encoder not in ("mlp", "lstm"):
            raise ValueError(f"prompt encoder must be 'mlp' or 'lstm', not {encoder!r}")
        self.lstm = nn.LSTM(gnn_dim, gnn_dim // 2, batch_first=True, bidirectional=True) if encoder == "lstm" else None
        self.mlp = nn.Sequential(nn.Linear(gnn_dim, shape.hidden), nn.GELU(), nn.Linear(shape.hidden, shape.hidden))
        self.embed_scale = embed_scale  # the typical norm of the LLM's own token embeddings

    def forward(self, graph: GraphTokens) -> BridgeOutput:
        tokens = graph.tokens
        if self.lstm is not None:
            tokens, _ = self.lstm(tokens)
        embeds = self.mlp(tokens) * self.embed_scale
        return BridgeOutput(embeds=embeds, embeds_mask=graph.mask)


class SoftTokenOptions(BaseModel):
    """A recipe's `bridge: {kind: soft-tokens, ...}`."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["soft-tokens"] = "soft-tokens"
    encoder: Literal["mlp", "lstm"] = "mlp"


@register_bridge("soft-tokens", SoftTokenOptions)
def _build(gnn_dim: int, shape: LLMShape, llm, options: SoftTokenOptions, tokenizer=None) -> SoftTokenBridge:
    # Scaled to the typical norm of the LLM's own token embeddings, so soft tokens start where words are.
    weight = llm.get_input_embeddings().weight
    scale = weight.detach().norm(dim=1).mean().item() / weight.shape[1] ** 0.5
    return SoftTokenBridge(gnn_dim, shape, options.encoder, scale)
