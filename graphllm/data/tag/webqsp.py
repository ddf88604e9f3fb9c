"""WebQSP as in RoG / G-Retriever: JSON lines with `id, question, answer (list), q_entity (list), graph` where
`graph` is a list of `[head, relation, tail]` triples from Freebase."""

from __future__ import annotations

import json
from pathlib import Path

from graphllm.data.tag.explagraphs import from_triples
from graphllm.data.tag.textgraph import TagFormatError, TextGraph

REQUIRED = ("id", "question", "answer", "q_entity", "graph")


def read(path: str | Path) -> list[TextGraph]:
    path = Path(path)
    out = []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise TagFormatError(f"{where}: not JSON ({exc.msg})") from None
            missing = [k for k in REQUIRED if k not in row]
            if missing:
                raise TagFormatError(f"{where}: missing field(s) {', '.join(missing)}")
            if not isinstance(row["answer"], list) or not row["answer"]:
                raise TagFormatError(f"{where}: answer must be a non-empty list")
            triples = []
            for i, triple in enumerate(row["graph"]):
                if not (isinstance(triple, list) and len(triple) == 3 and all(isinstance(x, str) for x in triple)):
                    raise TagFormatError(f"{where}: graph[{i}] is not a [head, relation, tail] triple of strings")
                triples.append(tuple(triple))
            graph = from_triples(triples, id=str(row["id"]), question=row["question"],
                                 answer="|".join(row["answer"]), answers=list(row["answer"]))
            names = {name: i for i, name in enumerate(graph.node_texts)}
            graph.nodes = [names[e] for e in row["q_entity"] if e in names]
            out.append(graph)
    return out
