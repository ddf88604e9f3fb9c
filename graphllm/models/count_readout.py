r"""The counts a sum readout gives exactly: each graph's node and edge counts and the degree of each node a
question names, for a bridge that hands them to the LLM as digits (`bridges/count_digits.py`).

.. math::
    n = \sum_v 1, \qquad m = \tfrac{1}{2} \sum_v \deg(v), \qquad \deg(u) = \sum_{w \in \mathcal{N}(u)} 1

These are what a GIN layer's sum aggregation computes from a constant input (Xu et al. 2019, "How Powerful are
Graph Neural Networks?"). They are read with fixed weights, not learned: linear heads trained on a count loss alone
did not become exact within a recipe's steps (the Experiments page has the figures), because
Adam moves each weight by about the learning rate while a count of 171 must come out within 0.5, and a degree
embedding is a lookup table that says nothing of degrees rare in training.

Shapes: ``edge_index`` ``[2, E]`` with both directions of each edge; ``batch`` ``[N]``; ``node_index`` ``[B, m]``
(-1 where a row names fewer than ``m`` nodes); returns ``Counts`` of ``[B, 2 + m]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class Counts:
    values: torch.Tensor  # [B, 2 + m] long: node count, edge count, then one degree per named node
    mask: torch.Tensor  # [B, 2 + m] bool: False where a row names fewer than m nodes


def graph_counts(edge_index: torch.Tensor, batch: torch.Tensor, graphs: int, node_index: torch.Tensor) -> Counts:
    ones = torch.ones_like(batch)
    nodes = torch.zeros(graphs, dtype=torch.long, device=batch.device).index_add_(0, batch, ones)
    edges = torch.zeros(graphs, dtype=torch.long, device=batch.device).index_add_(
        0, batch[edge_index[0]], torch.ones_like(edge_index[0])) // 2
    degree = torch.bincount(edge_index[1], minlength=batch.numel())
    named_mask = node_index >= 0
    named = degree[node_index.clamp(min=0)] * named_mask
    mask = torch.cat([torch.ones(graphs, 2, dtype=torch.bool, device=batch.device), named_mask], dim=1)
    return Counts(torch.cat([nodes[:, None], edges[:, None], named], dim=1), mask)
