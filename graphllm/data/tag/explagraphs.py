"""ExplaGraphs (Saha et al. 2021) as G-Retriever reads it: a TSV with columns `arg1, arg2, label, graph`,
the graph a string of `(concept; relation; concept)` triples. The question asks whether the two arguments
support or counter each other."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from graphllm.data.tag.textgraph import TagFormatError, TextGraph

QUESTION = ("Argument 1: {arg1}\nArgument 2: {arg2}\nQuestion: Do argument 1 and argument 2 support or counter "
            "each other? Answer in one word in the form of 'support' or 'counter'.")
_TRIPLE = re.compile(r"\(([^()]*)\)")


def parse_triples(graph: str, where: str) -> list[tuple[str, str, str]]:
    triples = []
    leftover = _TRIPLE.sub("", graph).strip()
    if leftover:
        raise TagFormatError(f"{where}: text outside (a; relation; b) triples: {leftover[:40]!r}")
    for body in _TRIPLE.findall(graph):
        parts = [p.strip() for p in body.split(";")]
        if len(parts) != 3 or not all(parts):
            raise TagFormatError(f"{where}: triple ({body}) does not have the form (a; relation; b)")
        triples.append((parts[0], parts[1], parts[2]))
    if not triples:
        raise TagFormatError(f"{where}: no triples in the graph column")
    return triples


def from_triples(triples, **fields) -> TextGraph:
    """Nodes in order of first appearance; one edge per triple."""
    index: dict[str, int] = {}
    edges, edge_texts = [], []
    for head, relation, tail in triples:
        for name in (head, tail):
            index.setdefault(name, len(index))
        edges.append((index[head], index[tail]))
        edge_texts.append(relation)
    return TextGraph(node_texts=list(index), edges=edges, edge_texts=edge_texts, **fields)


def read(path: str | Path) -> list[TextGraph]:
    path = Path(path)
    out = []
    with path.open(encoding="utf-8", newline="") as fh:
        rows = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(rows, None)
        if header != ["arg1", "arg2", "label", "graph"]:
            raise TagFormatError(f"{path}:1: header must be arg1, arg2, label, graph (tab-separated), got {header}")
        for number, row in enumerate(rows, start=2):
            if not row:
                continue
            if len(row) != 4:
                raise TagFormatError(f"{path}:{number}: expected 4 tab-separated columns, found {len(row)}")
            arg1, arg2, label, graph = (c.strip() for c in row)
            if label not in ("support", "counter"):
                raise TagFormatError(f"{path}:{number}: label must be 'support' or 'counter', not {label!r}")
            out.append(from_triples(parse_triples(graph, f"{path}:{number}"), id=f"{path.stem}-{number - 1}",
                                    question=QUESTION.format(arg1=arg1, arg2=arg2), answer=label, answers=[label]))
    return out
