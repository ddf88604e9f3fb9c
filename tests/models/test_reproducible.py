"""The same command with the same seed gives the same trainable weights and results; another seed does not."""

from __future__ import annotations

import hashlib
import json

import pytest

from tests.conftest import run_cli


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory):
    """A small random Llama saved with the embedded tokenizer: what `--llm PATH` loads."""
    from graphllm.embedded import load_tokenizer
    from graphllm.models.llm import tiny_llm

    path = tmp_path_factory.mktemp("tiny-llm")
    tiny_llm("llama").save_pretrained(path)
    load_tokenizer().save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def graphqa(tmp_path_factory):
    out = tmp_path_factory.mktemp("graphqa")
    result = run_cli("data", "graphqa", "--out", str(out), "--tasks", "cycle_check", "--examples", "200",
                     "--workers", "1")
    assert result.returncode == 0, result.stderr
    return out


def _train(tmp_path, name, model, data, seed):
    run_dir, results = tmp_path / name, tmp_path / f"{name}-results"
    result = run_cli("train", "--recipe", "graph-token", "--tasks", "cycle_check", "--steps", "3", "--batch-size", "4",
                     "--llm", str(model), "--data", str(data), "--out", str(run_dir), "--train-examples", "24",
                     "--val-examples", "4", "--test-examples", "8", "--results", str(results), "--seed", str(seed),
                     "--device", "cpu")
    assert result.returncode == 0, result.stderr
    weights = hashlib.sha256((run_dir / "trainable.safetensors").read_bytes()).hexdigest()
    stored = json.loads((results / f"{name}.json").read_text(encoding="utf-8"))
    return weights, stored


def test_one_command_twice_gives_the_same_weights_and_results(tmp_path, tiny_model_dir, graphqa):
    first_weights, first = _train(tmp_path, "first", tiny_model_dir, graphqa, seed=3)
    second_weights, second = _train(tmp_path, "second", tiny_model_dir, graphqa, seed=3)
    other_weights, other = _train(tmp_path, "other", tiny_model_dir, graphqa, seed=4)
    assert first_weights == second_weights
    assert first["seed"] == second["seed"] == 3 and other["seed"] == 4
    for key in ("accuracy", "samples"):
        assert first[key] == second[key]
    assert first["train"]["train_loss"] == second["train"]["train_loss"]
    assert other_weights != first_weights  # the seed, not only the data, decides the weights


def test_several_seeds_give_one_result_with_the_mean_and_each_seeds_figure(tmp_path, tiny_model_dir, graphqa):
    run_dir, results = tmp_path / "seeds", tmp_path / "seeds-results"
    args = ["train", "--recipe", "graph-token", "--tasks", "cycle_check", "--steps", "3", "--batch-size", "4",
            "--llm", str(tiny_model_dir), "--data", str(graphqa), "--out", str(run_dir), "--train-examples", "24",
            "--val-examples", "4", "--test-examples", "8", "--results", str(results), "--seeds", "3,4",
            "--device", "cpu"]
    done = run_cli(*args)
    assert done.returncode == 0, done.stderr
    assert "mean over seeds 3, 4" in done.stdout
    combined = json.loads((results / "seeds.json").read_text(encoding="utf-8"))
    each = [json.loads((run_dir / f"seed-{s}" / "results.json").read_text(encoding="utf-8")) for s in (3, 4)]
    assert combined["seeds"] == [3, 4] and combined["seed"] is None
    assert combined["seed_accuracy"]["cycle_check"] == [e["accuracy"]["cycle_check"] for e in each]
    assert combined["accuracy"]["cycle_check"] == sum(e["accuracy"]["cycle_check"] for e in each) / 2
    # each seed's run is the single-seed command's: same weights as `--seed 3` alone
    alone, _ = _train(tmp_path, "alone", tiny_model_dir, graphqa, seed=3)
    assert hashlib.sha256((run_dir / "seed-3" / "trainable.safetensors").read_bytes()).hexdigest() == alone
    again = run_cli(*args)  # finished seeds are not run again
    assert again.returncode == 0 and json.loads((results / "seeds.json").read_text())["seed_accuracy"] == \
        combined["seed_accuracy"]
    bad = run_cli(*args[:-4], "--seeds", "3,x")
    assert bad.returncode == 2 and "expected seeds joined by commas" in bad.stderr


def test_the_leaderboard_shows_the_mean_and_spread_over_seeds():
    from graphllm.results.experiment import ExperimentResult
    from graphllm.site.leaderboard import _table

    result = ExperimentResult(run="r", recipe="graph-prefix", llm="tiny", tasks=["cycle_check"],
                              accuracy={"cycle_check": 0.9}, n={"cycle_check": 100}, majority={"cycle_check": 0.5},
                              eval_examples_per_second=1.0, samples=[], train=None, created="2026-12-07",
                              seeds=[0, 1, 2], seed_accuracy={"cycle_check": [0.88, 0.9, 0.92]})
    table = "\n".join(_table([result]))
    assert "| r (3 seeds) |" in table and "| 0.900 ±0.020 <small>(0.83-0.94)</small> |" in table
