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
