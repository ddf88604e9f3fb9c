"""What `graphllm bench train` reports, as data first: one row per method (ours, PyG's GRetriever, the majority
class) with training and evaluation examples/s, trainable parameters and accuracy per task; the ratios, the text
table and the JSON file (`--json`). Needs no torch."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from graphllm.results.files import read_report, write_report

FORMAT = 1
OURS = "graphllm graph-token"
PEER = "PyG GRetriever"
MAJORITY = "majority class"


@dataclass
class MethodRow:
    method: str
    tasks: dict[str, float]  # accuracy per task
    train_examples_per_second: float | None = None  # None: nothing is trained (the majority class)
    eval_examples_per_second: float | None = None
    trainable: int | None = None  # trainable parameters

    @property
    def accuracy(self) -> float:
        """The mean over tasks, which have equal numbers of test questions."""
        return sum(self.tasks.values()) / len(self.tasks)


@dataclass
class TrainBenchReport:
    tasks: list[str]
    gnn: str
    steps: int
    batch_size: int
    test_questions: int
    device: str  # e.g. "CPU, 2 threads, fp32"
    rows: list[MethodRow]
    date: str = ""
    format: int = FORMAT

    def row(self, method: str) -> MethodRow:
        return next(r for r in self.rows if r.method == method)

    def text(self) -> str:
        width = max(len(t) for t in self.tasks) + 2
        lines = [f"{', '.join(self.tasks)}: {self.gnn.upper()}, {self.steps} steps x {self.batch_size}, "
                 f"{self.test_questions} test questions, SmolLM2-135M frozen, {self.device}",
                 f"{'':<22}{'train ex/s':>11}{'eval ex/s':>11}{'trainable':>12}{'accuracy':>10}"
                 + "".join(f"{t:>{width}}" for t in self.tasks)]
        for r in self.rows:
            lines.append(f"{r.method:<22}{_number(r.train_examples_per_second, '>11.2f')}"
                         f"{_number(r.eval_examples_per_second, '>11.2f')}{_number(r.trainable, '>12,')}"
                         f"{r.accuracy:>10.3f}" + "".join(f"{r.tasks[t]:>{width}.3f}" for t in self.tasks))
        ours, theirs = self.row(OURS), self.row(PEER)
        lines.append(f"ratios (ours / PyG): training "
                     f"{ours.train_examples_per_second / theirs.train_examples_per_second:.2f}x, evaluation "
                     f"{ours.eval_examples_per_second / theirs.eval_examples_per_second:.2f}x, accuracy "
                     f"{ours.accuracy - theirs.accuracy:+.3f}")
        return "\n".join(lines)

    def write(self, path: str | Path) -> None:
        write_report(dataclasses.asdict(self), path)

    @classmethod
    def read(cls, path: str | Path) -> TrainBenchReport:
        return read_report(path, "graphllm bench train", FORMAT,
                           lambda data: cls(**{**data, "rows": [MethodRow(**row) for row in data["rows"]]}))


def _number(value, spec: str) -> str:
    return " " * len(format(0.0, spec)) if value is None else format(value, spec)
