r"""The graph encoder: node features that break symmetry, a stack of PyG convolutions, and readouts.

Structure-only graphs (GraphQA) have no node features, and message passing alone cannot tell symmetric
nodes apart, so each node gets a learned id embedding (its index in its graph) and, optionally, Laplacian
eigenvector positional encodings:

.. math::
    h_v^{(0)} = E_{id}[v] + W_{pe}\,\mathrm{PE}(v) + E_{label}[y_v + 1] \qquad (+\, W_x x_v \text{ with features})

where :math:`y_v = -1` (no known label) gives :math:`E_{label}[0] = 0`;
then :math:`L` layers of the chosen convolution with ReLU and residual connections. Readouts:
:math:`k` pooled graph tokens from attention over the nodes with :math:`k` learned queries (plus, with
``sum_token``, one from :math:`W_s \sum_v h_v / 16`, which keeps the graph's size that a weighted mean loses), and
one token per node the question names. With ``degree``, :math:`h_v^{(0)}` also gets :math:`E_{deg}[\deg v]`; with
``count_readout`` the tokens come with the graph's exact counts (``count_readout.py``).

Shapes: node states ``[N, d]``; ``tokens`` ``[B, k + m, d]`` (``k + 1`` with ``sum_token``) with ``mask``
``[B, k + m]`` where ``m`` is the largest number of named nodes in the batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import nn
from torch_geometric.nn import global_add_pool
from torch_geometric.utils import to_dense_batch

from graphllm.models.convolutions import CONVOLUTIONS
from graphllm.models.count_readout import Counts, graph_counts
from graphllm.models.kinds import kind_union

ConvOptions = kind_union(c.options for c in CONVOLUTIONS.values())  # a registered layer and its options


class GNNConfig(BaseModel):
    """A recipe's `gnn:` settings (typed, so a misspelt one is an error when the recipe loads)."""

    model_config = ConfigDict(extra="forbid")
    conv: ConvOptions = Field(default_factory=lambda: CONVOLUTIONS["gin"].options())  # `gin` or {kind: gat, heads: 2}
    layers: int = Field(default=3, ge=0)  # 0: the input embeddings alone
    hidden: int = Field(default=128, ge=4, multiple_of=4)  # divisible by the 4 heads of the pooling attention
    node_ids: bool = True
    laplacian_pe: int = Field(default=8, ge=0)  # eigenvectors; 0 disables
    max_nodes: int = Field(default=64, ge=1)
    input_dim: int | None = None  # node feature size when the graphs carry features (x); set from the data
    graph_tokens: int = Field(default=4, ge=1)
    num_labels: int = Field(default=8, ge=0)  # known node labels (node classification)
    degree: bool = False  # a learned embedding of each node's degree in its input (GraphQA asks for degrees)
    sum_token: bool = False  # one more graph token, from the sum of the node states: it keeps the graph's size
    count_readout: bool = False  # exact node and edge counts and named nodes' degrees with the tokens


@dataclass
class GraphTokens:
    tokens: torch.Tensor  # [B, k + m, d]
    mask: torch.Tensor  # [B, k + m] bool
    counts: Counts | None = None  # with count_readout


def laplacian_pe(edge_index: torch.Tensor, batch: torch.Tensor, ptr: torch.Tensor, k: int,
                 random_sign: bool) -> torch.Tensor:
    """The k eigenvectors of each graph's normalised Laplacian after the trivial one, zero-padded."""
    out = torch.zeros(int(ptr[-1]), k)
    for g in range(len(ptr) - 1):
        lo, hi = int(ptr[g]), int(ptr[g + 1])
        n = hi - lo
        if n < 2:
            continue
        mask = (edge_index[0] >= lo) & (edge_index[0] < hi)
        adj = torch.zeros(n, n)
        adj[edge_index[0, mask] - lo, edge_index[1, mask] - lo] = 1.0
        deg = adj.sum(1)
        inv = torch.where(deg > 0, deg.pow(-0.5), torch.zeros_like(deg))
        lap = torch.eye(n) - inv[:, None] * adj * inv[None, :]
        _, vectors = torch.linalg.eigh(lap)
        take = vectors[:, 1: k + 1]
        if random_sign:  # eigenvector signs are arbitrary: train on both
            take = take * (torch.randint(0, 2, (1, take.shape[1])) * 2 - 1)
        out[lo:hi, : take.shape[1]] = take
    return out


class GNNEncoder(nn.Module):
    def __init__(self, config: GNNConfig) -> None:
        super().__init__()
        self.config = config
        convolution = CONVOLUTIONS[config.conv.kind]
        self.edge_attr = convolution.supports_edge_attr
        d = config.hidden
        self.node_id = nn.Embedding(config.max_nodes, d) if config.node_ids else None
        self.pe = nn.Linear(config.laplacian_pe, d) if config.laplacian_pe else None
        self.features = nn.Linear(config.input_dim, d) if config.input_dim else None
        # Index 0 is "no known label" and adds nothing: a vector shared by every node would dominate averaging
        # convolutions (GAT, GCN), so that pooled graph tokens hardly differed between graphs and the LLM
        # learned to ignore them (bench train --gnn gat stayed at the majority class).
        self.label = nn.Embedding(config.num_labels + 1, d, padding_idx=0)
        self.degree = nn.Embedding(config.max_nodes, d) if config.degree else None
        self.sum_proj = nn.Linear(d, d) if config.sum_token else None
        self.convs = nn.ModuleList(convolution.make(d, config.conv) for _ in range(config.layers))
        self.norms = nn.ModuleList(nn.LayerNorm(d) for _ in range(config.layers))
        self.queries = nn.Parameter(torch.randn(config.graph_tokens, d) / d**0.5)
        self.pool = nn.MultiheadAttention(d, num_heads=4, batch_first=True)

    def node_states(self, graph) -> torch.Tensor:
        n = graph.num_nodes
        device = graph.edge_index.device
        ptr = graph.ptr if hasattr(graph, "ptr") else torch.tensor([0, n], device=device)
        batch = (graph.batch if getattr(graph, "batch", None) is not None
                 else torch.zeros(n, dtype=torch.long, device=device))
        h = torch.zeros(n, self.config.hidden, device=device)
        if self.features is not None and getattr(graph, "x", None) is not None:
            h = h + self.features(graph.x.float())
        if self.node_id is not None:
            local = torch.arange(n, device=device) - ptr[batch]
            h = h + self.node_id(local.clamp(max=self.config.max_nodes - 1))
        if self.pe is not None:
            pe = laplacian_pe(graph.edge_index.cpu(), batch.cpu(), ptr.cpu(), self.config.laplacian_pe, self.training)
            h = h + self.pe(pe.to(device))
        if self.degree is not None:
            degree = torch.bincount(graph.edge_index[1], minlength=n)
            h = h + self.degree(degree.clamp(max=self.config.max_nodes - 1))
        known = getattr(graph, "known_label", None)
        if known is not None:
            h = h + self.label((known + 1).clamp(min=0, max=self.config.num_labels))
        edge_attr = getattr(graph, "edge_capacity", None)
        edge_attr = edge_attr.float().unsqueeze(-1) / 10 if edge_attr is not None else None
        if self.edge_attr and edge_attr is None:
            edge_attr = torch.zeros(graph.edge_index.shape[1], 1, device=device)
        for conv, norm in zip(self.convs, self.norms, strict=True):
            if self.edge_attr:
                update = conv(h, graph.edge_index, edge_attr)
            else:
                update = conv(h, graph.edge_index)
            h = norm(h + torch.relu(update))
        return h

    def forward(self, graph, node_index: torch.Tensor) -> GraphTokens:
        """`node_index` [B, m]: positions of the nodes each question names in the batched node dimension."""
        h = self.node_states(graph)
        batch = (graph.batch if getattr(graph, "batch", None) is not None
                 else torch.zeros(h.shape[0], dtype=torch.long, device=h.device))
        dense, present = to_dense_batch(h, batch)
        queries = self.queries.unsqueeze(0).expand(dense.shape[0], -1, -1)
        pooled, _ = self.pool(queries, dense, dense, key_padding_mask=~present)
        if self.sum_proj is not None:
            # attention pooling is a weighted mean and the layer norms fix each node state's scale, so counts
            # (nodes, edges) are invisible to the other tokens; a sum grows with them. /16: GraphQA's size range
            summed = global_add_pool(h, batch, size=dense.shape[0])
            pooled = torch.cat([pooled, self.sum_proj(summed / 16)[:, None]], dim=1)
        named_mask = node_index >= 0
        named = h[node_index.clamp(min=0)] * named_mask.unsqueeze(-1)
        tokens = torch.cat([pooled, named], dim=1)
        mask = torch.cat([torch.ones(pooled.shape[:2], dtype=torch.bool, device=h.device), named_mask], dim=1)
        counts = (graph_counts(graph.edge_index, batch, dense.shape[0], node_index) if self.config.count_readout
                  else None)
        return GraphTokens(tokens, mask, counts)
