"""GraphQA datasets: generation from a seed, splits that never share a graph, PyG `Data`, files, statistics.

On-disk format (no pickle), a directory with:

* `meta.json`: `{"format": "graphllm-graphqa", "version": 1, "config": {...}, "counts": {split: n}}`
* `train.jsonl.gz`, `validation.jsonl.gz`, `test.jsonl.gz`: one JSON object per example with the fields of
  `Example` below. `edges` is a list of `[u, v]` pairs (u < v, nodes 0..num_nodes-1); `capacities`, when
  present, is aligned with `edges`; `value` is the parsed answer (bool, int, null, list of node ids, or a
  class name); `nodes` are the nodes the question names; `text` is the graph in words (the encoder's text
  plus facts such as capacities) for text-only baselines.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import tempfile
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from graphllm.data.graphqa.encoders import ENCODERS, encode_graph
from graphllm.data.graphqa.graphs import GENERATORS, SIZE_CLASSES, Graph, generate_graph, stochastic_block_model
from graphllm.data.graphqa.tasks import TASKS
from graphllm.errors import GraphLLMError

FORMAT = "graphllm-graphqa"
VERSION = 1
SPLITS = ("train", "validation", "test")


class DatasetError(GraphLLMError):
    pass


@dataclass
class GraphQAConfig:
    examples: int = 12_000
    seed: int = 0
    tasks: list[str] = field(default_factory=lambda: list(TASKS))
    generators: list[str] = field(default_factory=lambda: list(GENERATORS))
    encoders: list[str] = field(default_factory=lambda: list(ENCODERS))
    split: tuple[float, float, float] = (0.8, 0.1, 0.1)

    def check(self) -> None:
        for kind, chosen, known in (("task", self.tasks, TASKS), ("generator", self.generators, GENERATORS),
                                    ("encoder", self.encoders, ENCODERS)):
            unknown = [c for c in chosen if c not in known]
            if unknown or not chosen:
                raise DatasetError(f"unknown or no {kind}(s) {unknown or chosen}; choose from: {', '.join(known)}")
        if self.examples < 1:
            raise DatasetError("--examples must be at least 1")
        if len(self.split) != 3 or abs(sum(self.split) - 1) > 1e-6 or min(self.split) < 0:
            raise DatasetError("split must be three non-negative shares that sum to 1, e.g. 0.8 0.1 0.1")


@dataclass
class Example:
    id: str
    split: str
    task: str
    generator: str
    encoder: str
    num_nodes: int
    edges: list[list[int]]
    question: str
    answer: str
    value: Any
    nodes: list[int]
    text: str
    capacities: list[int] | None = None
    known_labels: dict[str, int] | None = None  # node id (as text, JSON keys) -> class index
    classes: list[str] | None = None

    def prompt(self) -> str:
        """The text-only prompt in the reference format: graph text, then `Q: ...\\nA: `."""
        return f"{self.text}Q: {self.question}\nA: "

    def names(self) -> list[str]:
        return encode_graph(Graph(self.num_nodes, (), self.generator), self.encoder)[1]

    def parse(self, answer: str) -> Any:
        return TASKS[self.task].parse(answer, self.names())


def split_of(graph: Graph, shares: tuple[float, float, float]) -> str:
    """By the graph's isomorphism-invariant hash: a graph and all its relabelings land in one split."""
    bucket = int(graph.wl_hash(), 16) % 10_000 / 10_000
    if bucket < shares[0]:
        return "train"
    return "validation" if bucket < shares[0] + shares[1] else "test"


def _examples_for_graph(config: GraphQAConfig, index: int) -> list[Example]:
    rng = random.Random(f"graphqa:{config.seed}:{index}")
    graph = generate_graph(rng, config.generators[index % len(config.generators)])
    out = []
    for task_name in config.tasks:
        task = TASKS[task_name]
        g = graph
        if task.needs == "sbm2":
            size_class = rng.choice(list(SIZE_CLASSES))
            g = stochastic_block_model(rng, rng.randint(*SIZE_CLASSES[size_class]), size_class, blocks=2)
        encoder = rng.choice(config.encoders)
        text, names = encode_graph(g, encoder)
        item = task.make(g, names, rng)
        out.append(Example(
            id=f"{config.seed}-{index}-{task_name}", split=split_of(g, config.split), task=task_name,
            generator=g.generator, encoder=encoder, num_nodes=g.n, edges=[list(e) for e in g.edges],
            question=item.question, answer=item.answer, value=item.value, nodes=item.nodes,
            text=text + item.extra_text,
            capacities=[item.capacities[e] for e in g.edges] if item.capacities is not None else None,
            known_labels={str(k): v for k, v in item.known_labels.items()} or None,
            classes=item.classes or None))
    return out


def _chunk(args: tuple[GraphQAConfig, int, int]) -> list[Example]:
    config, start, stop = args
    return [e for i in range(start, stop) for e in _examples_for_graph(config, i)]


def generate(config: GraphQAConfig, workers: int | None = None, progress=None) -> list[Example]:
    """Exactly `config.examples` examples, the same for a given config whatever the number of workers."""
    config.check()
    graphs = -(-config.examples // len(config.tasks))
    workers = workers or min(os.cpu_count() or 1, 8)
    size = max(50, graphs // (workers * 8) or 1)
    chunks = [(config, start, min(start + size, graphs)) for start in range(0, graphs, size)]
    out: list[Example] = []
    if workers == 1 or len(chunks) == 1:
        results = map(_chunk, chunks)
    else:
        pool = ProcessPoolExecutor(workers)
        results = pool.map(_chunk, chunks)
    try:
        for part in results:
            out.extend(part)
            if progress:
                progress(len(part))
    finally:
        if workers != 1 and len(chunks) != 1:
            pool.shutdown()
    return out[: config.examples]


def to_data(example: Example):
    """A PyG `Data`: the graph (both edge directions), the question and answer, the referenced nodes,
    edge capacities (maximum flow) and known node classes (node classification, -1 elsewhere)."""
    import torch
    from torch_geometric.data import Data

    edges = torch.tensor(example.edges, dtype=torch.long).reshape(-1, 2).t()
    edge_index = torch.cat([edges, edges.flip(0)], dim=1)
    data = Data(edge_index=edge_index, num_nodes=example.num_nodes)
    # Every example carries the same attributes (zeros / -1 when unused) so mixed tasks batch together.
    caps = torch.tensor(example.capacities or [0] * len(example.edges), dtype=torch.float)
    data.edge_capacity = torch.cat([caps, caps])
    known = torch.full((example.num_nodes,), -1, dtype=torch.long)
    for node, label in (example.known_labels or {}).items():
        known[int(node)] = label
    data.known_label = known
    data.nodes = torch.tensor(example.nodes, dtype=torch.long)
    data.question, data.answer, data.task, data.text = example.question, example.answer, example.task, example.text
    data.generator, data.encoder, data.example_id = example.generator, example.encoder, example.id
    data.value = json.dumps(example.value)
    return data


# --- files ---------------------------------------------------------------------------------------


def save(examples: list[Example], out_dir: str | Path, config: GraphQAConfig) -> dict[str, int]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    counts = {}
    for split in SPLITS:
        rows = [e for e in examples if e.split == split]
        counts[split] = len(rows)
        fd, tmp = tempfile.mkstemp(dir=out_dir, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, compresslevel=6) as gz:
                for example in rows:
                    gz.write((json.dumps(asdict(example), separators=(",", ":")) + "\n").encode())
            os.replace(tmp, out_dir / f"{split}.jsonl.gz")
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    meta = {"format": FORMAT, "version": VERSION, "config": asdict(config), "counts": counts}
    from graphllm.fileio import atomic_write_text

    atomic_write_text(out_dir / "meta.json", json.dumps(meta, indent=2) + "\n")
    return counts


def load(directory: str | Path, split: str | None = None) -> list[Example]:
    directory = Path(directory)
    meta_path = directory / "meta.json"
    try:
        meta = json.loads(meta_path.read_text())
    except FileNotFoundError:
        raise DatasetError(f"{directory} holds no GraphQA dataset (no meta.json); create one with "
                           "`graphllm data graphqa --out DIR`") from None
    except ValueError as exc:
        raise DatasetError(f"{meta_path}: not valid JSON ({exc})") from None
    if meta.get("format") != FORMAT or meta.get("version") != VERSION:
        raise DatasetError(f"{meta_path}: format {meta.get('format')} v{meta.get('version')} is not "
                           f"{FORMAT} v{VERSION}")
    fields = set(Example.__dataclass_fields__)
    out = []
    for name in [split] if split else SPLITS:
        if name not in SPLITS:
            raise DatasetError(f"unknown split {name!r}; choose from {', '.join(SPLITS)}")
        path = directory / f"{name}.jsonl.gz"
        try:
            with gzip.open(path, "rt", encoding="utf-8") as fh:
                for number, line in enumerate(fh, start=1):
                    try:
                        row = json.loads(line)
                        if set(row) != fields:
                            raise ValueError(f"fields {sorted(set(row) ^ fields)} unexpected or missing")
                        out.append(Example(**row))
                    except (ValueError, TypeError) as exc:
                        raise DatasetError(f"{path}:{number}: bad example: {exc}") from None
        except (OSError, EOFError) as exc:
            raise DatasetError(f"{path}: cannot read ({exc})") from None
    return out


# --- statistics ----------------------------------------------------------------------------------


def _label(example: Example) -> str:
    """What the label distribution counts: the answer, a list's length, or which offered class is right."""
    value = example.value
    if example.classes:
        return f"option {example.classes.index(value) + 1}"  # the classes change per question
    if isinstance(value, list):
        return f"{len(value)} nodes"
    return "none" if value is None else str(value).lower()


def statistics(examples: list[Example]) -> dict[str, dict]:
    """Per task: count, label distribution, and majority-class accuracy (always giving the most common
    answer; for node classification, always picking the same offered option)."""
    by_task: dict[str, list[Example]] = {}
    for example in examples:
        by_task.setdefault(example.task, []).append(example)
    out = {}
    for task, rows in sorted(by_task.items()):
        labels = Counter(_label(e) for e in rows)
        keys = Counter(_label(e) if e.classes else json.dumps(e.value) for e in rows)
        majority, majority_count = keys.most_common(1)[0]
        out[task] = {"count": len(rows), "labels": dict(labels.most_common()),
                     "majority_answer": majority if rows[0].classes else json.loads(majority),
                     "majority_accuracy": majority_count / len(rows)}
    return out


def format_statistics(stats: dict[str, dict], top: int = 6) -> str:
    lines = [f"{'task':<20}{'count':>7}{'majority':>10}  label distribution (share)"]
    for task, s in stats.items():
        labels = ", ".join(f"{k}: {v / s['count']:.0%}" for k, v in list(s["labels"].items())[:top])
        more = " …" if len(s["labels"]) > top else ""
        lines.append(f"{task:<20}{s['count']:>7}{s['majority_accuracy']:>10.3f}  {labels}{more}")
    return "\n".join(lines)
