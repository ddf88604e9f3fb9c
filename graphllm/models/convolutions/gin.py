r"""The graph isomorphism layer of Xu et al., "How Powerful are Graph Neural Networks?" (ICLR 2019), as PyG's
`GINConv`:

.. math::
    h_v' = \mathrm{MLP}\Big((1 + \epsilon)\, h_v + \sum_{u \in \mathcal{N}(v)} h_u\Big)

with a two-layer MLP of width ``d``. The sum over neighbours is why it is the default: it is as strong as the
1-WL test and keeps counts (degrees, sizes) that mean aggregators lose.

Args (recipe ``gnn.conv``): ``train_eps``, learn :math:`\epsilon` (else 0).

Shapes: node states ``[N, d]``, ``edge_index`` ``[2, E]`` -> ``[N, d]``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict
from torch import nn
from torch_geometric.nn import GINConv

from graphllm.models.convolutions.registry import register_convolution


class GINOptions(BaseModel):
    """`gnn.conv: {kind: gin, train_eps: false}`."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["gin"] = "gin"
    train_eps: bool = False


@register_convolution("gin", GINOptions)
def _make(d: int, options: GINOptions) -> nn.Module:
    return GINConv(nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Linear(d, d)), train_eps=options.train_eps)
