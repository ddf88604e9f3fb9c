"""GQA scene graphs as G-Retriever stores them: `questions.csv` (question, answer, image_id) beside
`nodes/<image_id>.csv` (node_id, node_attr) and `edges/<image_id>.csv` (src, edge_attr, dst)."""

from __future__ import annotations

import csv
from pathlib import Path

from graphllm.data.tag.textgraph import TagFormatError, TextGraph


def _rows(path: Path, columns: list[str]) -> list[tuple[int, dict[str, str]]]:
    if not path.exists():
        raise TagFormatError(f"{path}:0: file not found")
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            raise TagFormatError(f"{path}:1: missing column(s) {', '.join(missing)}; have {reader.fieldnames}")
        out = []
        for row in reader:
            if None in row or any(row[c] is None for c in columns):
                raise TagFormatError(f"{path}:{reader.line_num}: wrong number of fields")
            out.append((reader.line_num, row))
        return out


def read_graph(root: Path, image_id: str) -> tuple[list[str], list[tuple[int, int]], list[str]]:
    nodes_path, edges_path = root / "nodes" / f"{image_id}.csv", root / "edges" / f"{image_id}.csv"
    node_rows = _rows(nodes_path, ["node_id", "node_attr"])
    ids = {}
    for line, row in node_rows:
        try:
            node = int(row["node_id"])
        except ValueError:
            raise TagFormatError(f"{nodes_path}:{line}: node_id {row['node_id']!r} is not an integer") from None
        if node != len(ids):
            raise TagFormatError(f"{nodes_path}:{line}: node ids must be 0, 1, 2, ... in order; got {node}")
        ids[node] = row["node_attr"]
    edges, texts = [], []
    for line, row in _rows(edges_path, ["src", "edge_attr", "dst"]):
        try:
            src, dst = int(row["src"]), int(row["dst"])
        except ValueError:
            raise TagFormatError(f"{edges_path}:{line}: src and dst must be node ids") from None
        if src not in ids or dst not in ids:
            raise TagFormatError(f"{edges_path}:{line}: edge {src}->{dst} names a node not in {nodes_path.name}")
        edges.append((src, dst))
        texts.append(row["edge_attr"])
    return list(ids.values()), edges, texts


def read(root: str | Path) -> list[TextGraph]:
    root = Path(root)
    graphs: dict[str, tuple] = {}
    out = []
    for line, row in _rows(root / "questions.csv", ["question", "answer", "image_id"]):
        image = row["image_id"].strip()
        if image not in graphs:
            graphs[image] = read_graph(root, image)
        node_texts, edges, edge_texts = graphs[image]
        out.append(TextGraph(id=f"{image}-{line - 1}", node_texts=node_texts, edges=edges, edge_texts=edge_texts,
                             question=row["question"], answer=row["answer"], answers=[row["answer"]]))
    return out
