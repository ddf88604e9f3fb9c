"""What `graphllm bench train` reports, as data first: one row per method (ours, PyG's GRetriever, the majority
class) with training and evaluation examples/s, trainable parameters and accuracy per task; the ratios, the text
table and the JSON file (`--json`). Needs no torch."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from graphllm.results.files import ReportFile

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
    seed_accuracy: list[float] = field(default_factory=list)  # the accuracy of each seed's run, when several

    @property
    def accuracy(self) -> float:
        """The mean over tasks, which have equal numbers of test questions."""
        return sum(self.tasks.values()) / len(self.tasks)

    @property
    def spread(self) -> float | None:
        """The sample standard deviation of the seeds' accuracies (None with fewer than two seeds)."""
        return statistics.stdev(self.seed_accuracy) if len(self.seed_accuracy) > 1 else None


def combine_seeds(rows: list[MethodRow]) -> MethodRow:
    """One method's runs that differ only in their seed: the mean of each figure, and each seed's accuracy."""
    def mean(values):
        return None if values[0] is None else sum(values) / len(values)

    return MethodRow(rows[0].method, {t: mean([r.tasks[t] for r in rows]) for t in rows[0].tasks},
                     mean([r.train_examples_per_second for r in rows]),
                     mean([r.eval_examples_per_second for r in rows]),
                     rows[0].trainable, [r.accuracy for r in rows] if len(rows) > 1 else [])


@dataclass
class TrainBenchReport(ReportFile):
    COMMAND, FORMAT = "graphllm bench train", FORMAT

    tasks: list[str]
    gnn: str
    steps: int
    batch_size: int
    test_questions: int
    device: str  # e.g. "CPU, 2 threads, fp32"
    rows: list[MethodRow]
    seeds: list[int] = field(default_factory=lambda: [0])  # training seeds; the examples are those of seed 0
    date: str = ""
    format: int = FORMAT

    def row(self, method: str) -> MethodRow:
        return next(r for r in self.rows if r.method == method)

    def text(self) -> str:
        width = max(len(t) for t in self.tasks) + 2
        seeds = (f"mean of seeds {','.join(map(str, self.seeds))} (± the seeds' standard deviation)"
                 if len(self.seeds) > 1 else f"seed {self.seeds[0]}")
        lines = [f"{', '.join(self.tasks)}: {self.gnn.upper()}, {self.steps} steps x {self.batch_size}, "
                 f"{self.test_questions} test questions, SmolLM2-135M frozen, {self.device}, {seeds}",
                 f"{'':<22}{'train ex/s':>11}{'eval ex/s':>11}{'trainable':>12}{'accuracy':>16}"
                 + "".join(f"{t:>{width}}" for t in self.tasks)]
        for r in self.rows:
            accuracy = f"{r.accuracy:.3f}" + (f" ±{r.spread:.3f}" if r.spread is not None else "")
            lines.append(f"{r.method:<22}{_number(r.train_examples_per_second, '>11.2f')}"
                         f"{_number(r.eval_examples_per_second, '>11.2f')}{_number(r.trainable, '>12,')}"
                         f"{accuracy:>16}" + "".join(f"{r.tasks[t]:>{width}.3f}" for t in self.tasks))
        ours, theirs = self.row(OURS), self.row(PEER)
        lines.append(f"ratios (ours / PyG): training "
                     f"{ours.train_examples_per_second / theirs.train_examples_per_second:.2f}x, evaluation "
                     f"{ours.eval_examples_per_second / theirs.eval_examples_per_second:.2f}x, accuracy "
                     f"{ours.accuracy - theirs.accuracy:+.3f}")
        return "\n".join(lines)




def _number(value, spec: str) -> str:
    return " " * len(format(0.0, spec)) if value is None else format(value, spec)
