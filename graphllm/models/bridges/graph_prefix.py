r"""A per-layer key/value prefix generated from the graph: prefix tuning whose prefix depends on the input.

For every graph token :math:`t_i` and layer :math:`\ell`:

.. math::
    [K_\ell; V_\ell]_i = \begin{cases} W_2 \tanh(W_1 t_i) & \text{mlp (reparameterised, as in prefix tuning)} \\
    W t_i & \text{direct (as in P-tuning v2)} \end{cases}

reshaped to ``[B, kv_heads, T, head_dim]`` per layer and handed to the LLM as its KV cache, so every layer
attends to the graph. With ``count_digits`` the encoder's counts also go in as the LLM's own digit tokens.
Input ``[B, T, d]``; output ``layers`` pairs of ``[B, kv_heads, T, head_dim]``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from torch import nn

from graphllm.models.bridges.base import BridgeOutput
from graphllm.models.bridges.count_digits import CountDigits
from graphllm.models.bridges.registry import register_bridge
from graphllm.models.gnn import GraphTokens
from graphllm.models.llm import LLMShape


class GraphPrefixBridge(nn.Module):
    def __init__(self, gnn_dim: int, shape: LLMShape, mode: str = "mlp", mid_dim: int = 256,
                 init_scale: float = 0.02, count_digits: CountDigits | None = None) -> None:
        super().__init__()
        self.count_digits = count_digits
        if mode not in ("mlp", "direct"):
            raise ValueError(f"prefix mode must be 'mlp' or 'direct', not {mode!r}")
        self.shape = shape
        out = shape.layers * 2 * shape.kv_heads * shape.head_dim
        if mode == "mlp":
            self.project = nn.Sequential(nn.Linear(gnn_dim, mid_dim), nn.Tanh(), nn.Linear(mid_dim, out))
        else:
            self.project = nn.Linear(gnn_dim, out)
        last = self.project[-1] if mode == "mlp" else self.project
        nn.init.normal_(last.weight, std=init_scale)
        nn.init.zeros_(last.bias)

    def forward(self, graph: GraphTokens) -> BridgeOutput:
        b, t, _ = graph.tokens.shape
        s = self.shape
        kv = self.project(graph.tokens).view(b, t, s.layers, 2, s.kv_heads, s.head_dim)
        kv = kv.permute(2, 3, 0, 4, 1, 5)  # [layers, 2, B, kv_heads, T, head_dim]
        out = BridgeOutput(prefix=[(kv[layer, 0], kv[layer, 1]) for layer in range(s.layers)], prefix_mask=graph.mask)
        if self.count_digits is not None:
            if graph.counts is None:
                raise ValueError("count_digits needs the encoder's counts: set count_readout: true under gnn")
            out.embeds, out.embeds_mask = self.count_digits(graph.counts)
        return out


class GraphPrefixOptions(BaseModel):
    """A recipe's `bridge: {kind: graph-prefix, ...}`."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["graph-prefix"] = "graph-prefix"
    mode: Literal["mlp", "direct"] = "mlp"  # prefix tuning's reparameterisation, or P-tuning v2's direct prefix
    mid_dim: int = Field(default=256, ge=1)
    init_scale: float = Field(default=0.02, gt=0)
    count_digits: bool = False  # the encoder's counts also go in as the LLM's digit tokens (count_digits.py)


@register_bridge("graph-prefix", GraphPrefixOptions)
def _build(gnn_dim: int, shape: LLMShape, llm, options: GraphPrefixOptions, tokenizer=None) -> GraphPrefixBridge:
    digits = CountDigits(llm, tokenizer) if options.count_digits else None
    return GraphPrefixBridge(gnn_dim, shape, options.mode, options.mid_dim, options.init_scale, digits)
