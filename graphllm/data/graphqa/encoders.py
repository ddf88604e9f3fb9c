"""Graph-to-text encoders, phrased as in "Talk like a Graph" (its known glitches fixed: no double periods,
a sentence for graphs without edges, a working `expert` encoder).

Each encoder names the nodes (integers, first names or letters) and writes the graph as text; the task
question follows it.
"""

from __future__ import annotations

import string
from collections.abc import Callable

from graphllm.data.graphqa.graphs import Graph

# Our own list of common first names, all distinct (graphs have at most 19 nodes).
FIRST_NAMES = [
    "Alice", "Bob", "Carol", "David", "Emma", "Frank", "Grace", "Henry", "Irene", "James", "Karen", "Liam",
    "Maria", "Noah", "Olivia", "Peter", "Quinn", "Rachel", "Sam", "Tina", "Umar", "Vera", "Walter", "Xenia",
]
LETTERS = list(string.ascii_uppercase)


def node_names(encoder: str, n: int) -> list[str]:
    style = ENCODERS[encoder][0]
    if style == "integer":
        return [str(i) for i in range(n)]
    if style == "first-names":
        return FIRST_NAMES[:n]
    return LETTERS[:n]


def join_names(names: list[str]) -> str:
    """'0, 1, 2, and 3' as in the paper ('0 and 1' for two)."""
    if len(names) == 1:
        return names[0]
    if len(names) == 2:
        return f"{names[0]} and {names[1]}"
    return ", ".join(names[:-1]) + ", and " + names[-1]


def _adjacency(graph: Graph, names: list[str]) -> str:
    text = ("In an undirected graph, (i,j) means that node i and node j are connected with an undirected edge. "
            f"G describes a graph among nodes {join_names(names)}.\n")
    if not graph.edges:
        return text + "G has no edges.\n"
    return text + "The edges in G are: " + " ".join(f"({names[u]}, {names[v]})" for u, v in graph.edges) + ".\n"


def _incident(graph: Graph, names: list[str]) -> str:
    lines = [f"G describes a graph among nodes {join_names(names)}."]
    if not graph.edges:
        return lines[0] + "\nG has no edges.\n"
    lines.append("In this graph:")
    for v in range(graph.n):
        neighbours = sorted(graph.adjacency[v])
        if len(neighbours) == 1:
            lines.append(f"Node {names[v]} is connected to node {names[neighbours[0]]}.")
        elif neighbours:
            lines.append(f"Node {names[v]} is connected to nodes {', '.join(names[u] for u in neighbours)}.")
    return "\n".join(lines) + "\n"


def _pairs(header: str, intro: str, phrase: str) -> Callable[[Graph, list[str]], str]:
    def encode(graph: Graph, names: list[str]) -> str:
        text = header.format(nodes=join_names(names)) + "\n"
        if not graph.edges:
            return text + "G has no edges.\n"
        return text + intro + "\n" + "".join(phrase.format(a=names[u], b=names[v]) + "\n" for u, v in graph.edges)

    return encode


# name -> (node naming, encoder)
ENCODERS: dict[str, tuple[str, Callable[[Graph, list[str]], str]]] = {
    "adjacency": ("integer", _adjacency),
    "incident": ("integer", _incident),
    "friendship": ("first-names", _pairs("G describes a friendship graph among nodes {nodes}.",
                                         "We have the following edges in G:", "{a} and {b} are friends.")),
    "coauthorship": ("first-names", _pairs("G describes a coauthorship graph among nodes {nodes}.",
                                           "In this coauthorship graph:", "{a} and {b} wrote a paper together.")),
    "social_network": ("first-names", _pairs("G describes a social network graph among nodes {nodes}.",
                                             "We have the following edges in G:", "{a} and {b} are connected.")),
    "expert": ("letters", _pairs("You are a graph analyst and you have been given a graph G among nodes {nodes}.",
                                 "G has the following undirected edges:", "{a} -> {b}")),
}


def encode_graph(graph: Graph, encoder: str) -> tuple[str, list[str]]:
    """The graph as text, and the node names it uses."""
    if encoder not in ENCODERS:
        raise ValueError(f"unknown graph encoder {encoder!r}; known: {', '.join(ENCODERS)}")
    names = node_names(encoder, graph.n)
    return ENCODERS[encoder][1](graph, names), names
