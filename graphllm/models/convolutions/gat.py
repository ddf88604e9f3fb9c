r"""The graph attention layer of Veličković et al., "Graph Attention Networks" (ICLR 2018), as PyG's `GATConv`
with edge features:

.. math::
    h_v' = \frac{1}{K} \sum_{k=1}^{K} \sum_{u \in \mathcal{N}(v) \cup \{v\}} \alpha^k_{vu}\, W^k h_u,

    \alpha^k_{vu} = \mathrm{softmax}_u\big(\mathrm{LeakyReLU}(a^{k\top}
                    [W^k h_v \,\|\, W^k h_u \,\|\, W^k_e e_{vu}])\big)

The heads are averaged (``concat=False``) so the width stays ``d``; the edge feature :math:`e_{vu}` is a
capacity where the task has one (max flow), else 0.

Args (recipe ``gnn.conv``): ``heads``, :math:`K`.

Shapes: node states ``[N, d]``, ``edge_index`` ``[2, E]``, ``edge_attr`` ``[E, 1]`` -> ``[N, d]``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from torch import nn
from torch_geometric.nn import GATConv

from graphllm.models.convolutions.registry import register_convolution


class GATOptions(BaseModel):
    """`gnn.conv: {kind: gat, heads: 4}`."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["gat"] = "gat"
    heads: int = Field(default=4, ge=1)


@register_convolution("gat", GATOptions, supports_edge_attr=True)
def _make(d: int, options: GATOptions) -> nn.Module:
    return GATConv(d, d, heads=options.heads, concat=False, edge_dim=1)
