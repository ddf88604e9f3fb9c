"""What `graphllm train` and `graphllm eval --results` write, as typed data: one `ExperimentResult` per run (a
run of one model per task is one result, its parts combined), versioned JSON read back by the experiments, the
demo and the site's leaderboard. Needs no torch, so the site builds without loading a model."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

from graphllm.errors import GraphLLMError
from graphllm.fileio import atomic_write_text

FORMAT = 1  # version of the JSON file; a later change of its meaning bumps it (files without one are version 1)


class ResultError(GraphLLMError):
    pass


@dataclass
class TrainingSummary:
    """How a result's model was trained (summed over the models of a per-task run)."""

    config: dict  # graphllm.config.TrainConfig as a dict
    steps: int  # the most steps any of its models trained
    examples: int
    seconds: float  # of training steps
    trainable_parameters: int  # of one model
    train_loss: list[tuple[int, float]] = field(default_factory=list)  # (step, loss); per-task parts keep theirs
    val_loss: list[tuple[int, float]] = field(default_factory=list)
    models: int = 1  # > 1: one model per task
    part_steps: dict[str, int] | None = None  # per task, for a per-task run


@dataclass
class ExperimentResult:
    """Accuracy per task on a test sample, beside the majority answer's, and how the model came to be."""

    run: str  # the run directory's name
    recipe: str
    llm: str
    tasks: list[str]
    accuracy: dict[str, float]  # task -> exact-match accuracy
    n: dict[str, int]  # task -> test questions
    majority: dict[str, float]  # task -> accuracy of the training split's most common answer
    eval_examples_per_second: float
    samples: list[dict]  # a few answers per task: task, question, answer, output, correct
    train: TrainingSummary | None  # None: nothing was trained (zero-shot, few-shot)
    created: str  # ISO time, UTC
    data: dict | None = None  # fingerprint of the data (per task for a per-task run); None in the oldest results
    seed: int | None = None  # None in results written before runs were seeded
    per_task: bool = False
    # A result of several runs that differ only in their seed: `accuracy` is their mean, and per task each
    # seed's accuracy in the order of `seeds`.
    seeds: list[int] | None = None
    seed_accuracy: dict[str, list[float]] | None = None
    format: int = FORMAT
    file: str = field(default="", compare=False)  # where it was read from; not written

    @property
    def mean_accuracy(self) -> float:
        return sum(self.accuracy.values()) / max(len(self.accuracy), 1)

    @property
    def models(self) -> int:
        return self.train.models if self.train else 1

    def spread(self, task: str) -> float | None:
        """The sample standard deviation of a task's accuracy over the seeds (None for one run)."""
        values = (self.seed_accuracy or {}).get(task)
        if not values or len(values) < 2:
            return None
        mean = sum(values) / len(values)
        return (sum((v - mean) ** 2 for v in values) / (len(values) - 1)) ** 0.5

    def to_dict(self) -> dict:
        out = dataclasses.asdict(self)
        del out["file"]
        if out["train"] is not None:
            out["train"] = {k: v for k, v in out["train"].items() if v is not None}
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"

    @classmethod
    def from_dict(cls, data: dict, source: str = "result") -> ExperimentResult:
        """A result from its JSON object; what is not one (a missing or unknown field, a newer format) is a
        ResultError naming `source`."""
        if not isinstance(data, dict):
            raise ResultError(f"{source}: not a result (a JSON object is expected)")
        version = data.get("format", 1)
        if version != FORMAT:
            raise ResultError(f"{source}: result format {version}, this graphllm reads {FORMAT}; upgrade graphllm")
        train = data.get("train")
        try:
            if train is not None:
                train = TrainingSummary(**{**train, "train_loss": [tuple(x) for x in train.get("train_loss", [])],
                                           "val_loss": [tuple(x) for x in train.get("val_loss", [])]})
            return cls(**{**data, "train": train, "format": version})
        except TypeError as exc:  # a missing or unknown field
            raise ResultError(f"{source}: not a result of this graphllm ({exc})") from None


def read_result(path: str | Path) -> ExperimentResult:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ResultError(f"{path}: no readable result ({exc.__class__.__name__})") from None
    result = ExperimentResult.from_dict(data, str(path))
    result.file = path.name
    return result


def write_result(result: ExperimentResult, path: str | Path) -> None:
    """Written atomically: a reader never sees half a result."""
    atomic_write_text(path, result.to_json())


def read_results(folder: str | Path) -> tuple[list[ExperimentResult], list[str]]:
    """(every result in `folder/*.json` by file name; one line per file that claims to be a result and is not
    one). Files that are not JSON objects with an accuracy (foreign files) are passed over."""
    results, problems = [], []
    for path in sorted(Path(folder).glob("*.json")) if Path(folder).is_dir() else []:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not (isinstance(data, dict) and "accuracy" in data):
            continue
        try:
            result = ExperimentResult.from_dict(data, str(path))
        except ResultError as exc:
            problems.append(str(exc))
            continue
        result.file = path.name
        results.append(result)
    return results, problems
