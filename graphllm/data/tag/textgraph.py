"""A question about a graph whose nodes and edges carry text, and its PyG form."""

from __future__ import annotations

from dataclasses import dataclass, field

from graphllm.errors import GraphLLMError


class TagFormatError(GraphLLMError):
    """Malformed input; the message starts with `file:line:`."""


@dataclass
class TextGraph:
    id: str
    node_texts: list[str]
    edges: list[tuple[int, int]]
    edge_texts: list[str]
    question: str
    answer: str
    answers: list[str] = field(default_factory=list)  # every accepted answer (WebQSP has several)
    nodes: list[int] = field(default_factory=list)  # nodes the question names (e.g. WebQSP's topic entities)

    def text(self) -> str:
        """The graph in words, G-Retriever style: a node table, then an edge table."""
        lines = ["node_id,node_attr"] + [f"{i},{t}" for i, t in enumerate(self.node_texts)]
        lines += ["src,edge_attr,dst"] + [f"{u},{t},{v}" for (u, v), t in zip(self.edges, self.edge_texts, strict=True)]
        return "\n".join(lines) + "\n"


def to_data(graph: TextGraph, encoder):
    """PyG `Data` with x = node-text embeddings [N, d], edge_attr = edge-text embeddings [E, d]."""
    import torch
    from torch_geometric.data import Data

    x = encoder.encode(graph.node_texts)
    edge_attr = encoder.encode(graph.edge_texts) if graph.edge_texts else torch.zeros(0, x.shape[1])
    edge_index = torch.tensor(graph.edges, dtype=torch.long).reshape(-1, 2).t().contiguous()
    data = Data(x=x, edge_index=edge_index, edge_attr=edge_attr, num_nodes=len(graph.node_texts))
    data.question, data.answer, data.text, data.example_id = graph.question, graph.answer, graph.text(), graph.id
    data.nodes = torch.tensor(graph.nodes, dtype=torch.long)
    return data
