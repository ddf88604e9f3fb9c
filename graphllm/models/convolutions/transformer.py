r"""The graph transformer layer of Shi et al., "Masked Label Prediction: Unified Message Passing Model for
Semi-Supervised Classification" (IJCAI 2021), as PyG's `TransformerConv` with edge features:

.. math::
    h_v' = W_1 h_v + \frac{1}{K} \sum_{k=1}^{K} \sum_{u \in \mathcal{N}(v)} \alpha^k_{vu}\,(W^k_2 h_u + W^k_e e_{vu}),
    \qquad \alpha^k_{vu} = \mathrm{softmax}_u\Big(\frac{(W^k_3 h_v)^\top (W^k_4 h_u + W^k_e e_{vu})}{\sqrt{d}}\Big)

Heads averaged (``concat=False``); :math:`e_{vu}` as in ``gat.py``.

Args (recipe ``gnn.conv``): ``heads``, :math:`K`.

Shapes: node states ``[N, d]``, ``edge_index`` ``[2, E]``, ``edge_attr`` ``[E, 1]`` -> ``[N, d]``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from torch import nn
from torch_geometric.nn import TransformerConv

from graphllm.models.convolutions.registry import register_convolution


class TransformerOptions(BaseModel):
    """`gnn.conv: {kind: transformer, heads: 4}`."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["transformer"] = "transformer"
    heads: int = Field(default=4, ge=1)


@register_convolution("transformer", TransformerOptions, supports_edge_attr=True)
def _make(d: int, options: TransformerOptions) -> nn.Module:
    return TransformerConv(d, d, heads=options.heads, concat=False, edge_dim=1)
