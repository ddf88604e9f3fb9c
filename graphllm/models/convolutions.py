"""The message-passing layers a GNN encoder can stack, by name. Each declares whether it reads edge features
(as PyG's `BasicGNN` subclasses declare `supports_edge_attr`), so the encoder asks the layer instead of
testing its type; adding one is one registered function here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn
from torch_geometric.nn import GATConv, GCNConv, GINConv, TransformerConv


@dataclass(frozen=True)
class Convolution:
    name: str
    make: Callable[[int], nn.Module]  # width d -> a layer mapping [N, d] node states to [N, d]
    supports_edge_attr: bool  # called as conv(h, edge_index, edge_attr [E, 1]) rather than conv(h, edge_index)


CONVOLUTIONS: dict[str, Convolution] = {}


def register_convolution(name: str, supports_edge_attr: bool = False):
    def decorate(make: Callable[[int], nn.Module]) -> Callable[[int], nn.Module]:
        CONVOLUTIONS[name] = Convolution(name, make, supports_edge_attr)
        return make

    return decorate


@register_convolution("gcn")
def _gcn(d: int) -> nn.Module:
    return GCNConv(d, d)  # Kipf & Welling 2017


@register_convolution("gin")
def _gin(d: int) -> nn.Module:
    return GINConv(nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Linear(d, d)))  # Xu et al. 2019: sums neighbours


@register_convolution("gat", supports_edge_attr=True)
def _gat(d: int) -> nn.Module:
    return GATConv(d, d, heads=4, concat=False, edge_dim=1)  # Veličković et al. 2018


@register_convolution("transformer", supports_edge_attr=True)
def _transformer(d: int) -> nn.Module:
    return TransformerConv(d, d, heads=4, concat=False, edge_dim=1)  # Shi et al. 2021
