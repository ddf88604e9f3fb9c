"""A user's own graph as a question for a trained model: read a graph file, name its nodes the way GraphQA
does, and build the same PyG `Data` the models were trained on.

Formats: JSON `{"num_nodes": 5, "edges": [[0, 1], [1, 2]]}`, or an edge list with one `u v` pair of node
numbers per line (`#` starts a comment; the nodes are 0 .. the largest number).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from graphllm.data.graphqa.dataset import Example, to_data
from graphllm.data.graphqa.encoders import ENCODERS, encode_graph
from graphllm.data.graphqa.graphs import Graph
from graphllm.errors import GraphLLMError


class GraphFileError(GraphLLMError):
    """A graph file that cannot be read."""


def read_graph(path: str | Path) -> Graph:
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise GraphFileError(f"cannot read graph file {path}: {exc.strerror}") from None
    if path.suffix == ".json":
        try:
            raw = json.loads(text)
        except ValueError as exc:
            raise GraphFileError(f"{path}: not JSON ({exc})") from None
        return graph_from_json(raw, str(path))
    return graph_from_edge_list(text, str(path))


def graph_from_json(raw, source: str = "graph") -> Graph:
    """`{"num_nodes": N, "edges": [[u, v], ...]}` (num_nodes defaults to one more than the largest node)."""
    try:
        edges = [(_node(u), _node(v)) for u, v in raw["edges"]]
        n = _node(raw.get("num_nodes", 1 + max((max(e) for e in edges), default=-1)))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise GraphFileError(f"{source}: expected {{\"num_nodes\": N, \"edges\": [[u, v], ...]}} with whole numbers "
                             f"({exc.__class__.__name__}: {exc})") from None
    return _checked(n, edges, source)


def graph_from_edge_list(text: str, source: str = "graph") -> Graph:
    """One `u v` pair of node numbers per line (`#` starts a comment; the nodes are 0 .. the largest number)."""
    edges = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.replace(",", " ").split()
        if len(parts) != 2 or not all(p.isdigit() for p in parts):
            raise GraphFileError(f"{source}:{number}: expected two node numbers, e.g. '0 3', not {line!r}")
        edges.append((int(parts[0]), int(parts[1])))
    return _checked(1 + max((max(e) for e in edges), default=-1), edges, source)


def _node(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{value!r} is not a whole number")
    return value


def _checked(n: int, edges: list[tuple[int, int]], source: str) -> Graph:
    if n < 1:
        raise GraphFileError(f"{source}: the graph has no nodes")
    wrong = next(((u, v) for u, v in edges if not (0 <= u < n and 0 <= v < n)), None)
    if wrong is not None:
        raise GraphFileError(f"{source}: edge {list(wrong)} names a node outside 0..{n - 1}")
    return Graph.build(n, edges, "file")


def question_data(graph: Graph, question: str, encoder: str = "adjacency"):
    """The graph and a free-form question as a PyG `Data`; the nodes the question names (by the encoder's node
    names, e.g. `node 3` for adjacency or `Alice` for friendship) become the named-node tokens."""
    if encoder not in ENCODERS:
        raise GraphFileError(f"unknown graph encoder {encoder!r}; choose from {', '.join(ENCODERS)}")
    text, names = encode_graph(graph, encoder)
    named = []
    for index, name in enumerate(names):
        if re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", question) and index not in named:
            named.append(index)
    example = Example(id="question", split="test", task="question", generator="file", encoder=encoder,
                      num_nodes=graph.n, edges=[list(e) for e in graph.edges], question=question, answer="",
                      value=None, nodes=named, text=text)
    return to_data(example)
