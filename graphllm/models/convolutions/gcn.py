r"""The graph convolution of Kipf & Welling, "Semi-Supervised Classification with Graph Convolutional Networks"
(ICLR 2017), as PyG's `GCNConv`:

.. math::
    h_v' = \sum_{u \in \mathcal{N}(v) \cup \{v\}} \frac{1}{\sqrt{\hat d_u \hat d_v}}\, W h_u

with :math:`\hat d` the degree counting the self loop. A normalised mean: it smooths, and it cannot count
neighbours, which GraphQA's degree and count questions need (GIN's sum can).

Shapes: node states ``[N, d]``, ``edge_index`` ``[2, E]`` -> ``[N, d]``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict
from torch import nn
from torch_geometric.nn import GCNConv

from graphllm.models.convolutions.registry import register_convolution


class GCNOptions(BaseModel):
    """`gnn.conv: gcn` (no options)."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["gcn"] = "gcn"


@register_convolution("gcn", GCNOptions)
def _make(d: int, options: GCNOptions) -> nn.Module:
    return GCNConv(d, d)
