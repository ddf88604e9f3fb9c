"""The examples an experiment trains, validates and tests on: the first n per task of each split of a GraphQA
directory, and a fingerprint that names them in results."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from graphllm.data.graphqa.dataset import load, to_data
from graphllm.errors import GraphLLMError


@dataclass
class ExperimentData:
    train: list
    validation: list
    test: list

    def of_task(self, task: str) -> ExperimentData:
        return ExperimentData(*([d for d in split if d.task == task] for split in (self.train, self.validation,
                                                                                   self.test)))

    def fingerprint(self) -> dict:
        """Example counts and one digest of every split's questions, answers and graphs: a stored result names the
        data it came from, and a per-task run reuses a finished part only when the data is the same."""
        digest = hashlib.sha256()
        for split in (self.train, self.validation, self.test):
            for d in split:
                digest.update("\0".join((d.example_id, d.question, d.answer, d.text)).encode() + b"\n")
            digest.update(b"\x1e")
        return {"train": len(self.train), "validation": len(self.validation), "test": len(self.test),
                "sha256": digest.hexdigest()}


def load_examples(data_dir: str | Path, tasks: list[str], train_n: int, val_n: int, test_n: int) -> ExperimentData:
    """The first n examples per task of each split (files are in generation order, so this is seeded)."""
    out = {}
    for split, n in (("train", train_n), ("validation", val_n), ("test", test_n)):
        rows = load(data_dir, split)
        known = {r.task for r in rows}
        missing = [t for t in tasks if t not in known]
        if missing:
            raise GraphLLMError(f"{data_dir} has no {split} examples of {', '.join(missing)}; regenerate it with "
                                f"`graphllm data graphqa --tasks ...`")
        chosen = []
        for task in tasks:
            chosen += [r for r in rows if r.task == task][:n]
        out[split] = [to_data(r) for r in chosen]
    return ExperimentData(out["train"], out["validation"], out["test"])
