"""Experiment results as typed, versioned data: what `graphllm train` writes is what the leaderboard reads."""

from __future__ import annotations

import json

import pytest

from graphllm.paths import REPO_ROOT
from graphllm.results.experiment import (
    FORMAT,
    ExperimentResult,
    ResultError,
    TrainingSummary,
    read_result,
    read_results,
    write_result,
)


def _result() -> ExperimentResult:
    return ExperimentResult(
        run="gp", recipe="graph-prefix", llm="smollm2-135m", tasks=["cycle_check"], accuracy={"cycle_check": 0.9},
        n={"cycle_check": 50}, majority={"cycle_check": 0.76}, eval_examples_per_second=3.5,
        samples=[{"task": "cycle_check", "question": "q", "answer": "Yes", "output": "Yes.", "correct": True}],
        train=TrainingSummary(config={"steps": 3}, steps=3, examples=24, seconds=1.5, trainable_parameters=10,
                              train_loss=[(1, 2.0), (2, 1.0)], val_loss=[(2, 1.2)]),
        data={"train": 8}, created="2026-12-07T00:00:00+00:00", seed=3)


def test_a_result_reads_back_as_written(tmp_path):
    result = _result()
    write_result(result, tmp_path / "gp.json")
    again = read_result(tmp_path / "gp.json")
    assert again == result and again.file == "gp.json" and again.mean_accuracy == 0.9
    stored = json.loads((tmp_path / "gp.json").read_text())
    assert stored["format"] == FORMAT and "file" not in stored and "part_steps" not in stored["train"]


def test_results_written_before_versions_and_seeds_still_read():
    results, problems = read_results(REPO_ROOT / "results")  # the published results, some from before seeds
    assert problems == [] and len(results) >= 5
    assert all(r.seed is None or isinstance(r.seed, int) for r in results)
    assert any(r.per_task and r.models == 9 for r in results)


@pytest.mark.parametrize("change, why", [
    (lambda d: d.pop("n"), "missing 1 required positional argument: 'n'"),
    (lambda d: d.update(colour="red"), "unexpected keyword argument 'colour'"),
    (lambda d: d.update(format=FORMAT + 1), f"result format {FORMAT + 1}, this graphllm reads {FORMAT}; upgrade"),
])
def test_what_is_not_a_result_is_named_with_its_file(tmp_path, change, why):
    data = _result().to_dict()
    change(data)
    (tmp_path / "bad.json").write_text(json.dumps(data))
    (tmp_path / "foreign.json").write_text('{"rows": []}')
    with pytest.raises(ResultError, match=f"bad.json: .*{why}"):
        read_result(tmp_path / "bad.json")
    results, problems = read_results(tmp_path)
    assert results == [] and len(problems) == 1 and "bad.json" in problems[0]
