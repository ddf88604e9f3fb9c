"""bench decode's bookkeeping: methods run in turn, rounds repeated, a method's median round reported."""

from __future__ import annotations

import itertools

import pytest

from graphllm.bench import decode
from graphllm.bench.decode import Row, _interleaved


def test_each_method_reports_its_median_round_and_whether_it_matches(monkeypatch):
    clock = itertools.count()
    seconds = {"plain": iter([1.0, 1.0, 9.0, 1.0, 1.0, 1.0]), "fast": iter([0.5, 0.5, 0.5, 0.5, 0.1, 0.1])}
    calls = []

    def timed(fn, device):
        out = fn()
        calls.append((next(clock), out[0][0]))
        return out, next(seconds[out[0][0]])

    monkeypatch.setattr(decode, "_time", timed)

    def broken(batch):
        raise RuntimeError("assisted generate is only supported for batch_size = 1\nmore")

    methods = [(Row("plain", 1), lambda b: [["plain", b]], None), (Row("fast", 1), lambda b: [["fast", b]], None),
               (Row("peer", 1), broken, None)]
    _interleaved(methods, batches=["a", "b"], repeats=3)
    plain, fast, peer = (row for row, _, _ in methods)
    assert [name for _, name in calls[:4]] == ["plain", "fast", "plain", "fast"]  # in turn on each batch
    assert plain.seconds == 2.0 and fast.seconds == 1.0  # rounds (2, 10, 2) and (1, 1, 0.2): their medians
    assert fast.same is False and plain.same is None and plain.tokens == 4  # outputs of the first round
    assert peer.error == "RuntimeError: assisted generate is only supported for batch_size = 1" and not peer.seconds


def test_a_run_shorter_than_its_prefill_shows_no_rate_after_the_prompt():
    """On a drifting CPU a short run can take less than its prefill measured apart: no rate, not 0 tok/s or a crash."""
    from graphllm.bench.decode import format_table

    plain = Row("ours: plain greedy", 1, tokens=24, seconds=1.0, prompt_seconds=1.2)
    fast = Row("ours: ngram tree 1,1,1", 1, tokens=24, seconds=0.8, per_pass=1.5, prompt_seconds=0.5, same=True)
    assert plain.decode_tokens_per_second is None and fast.decode_tokens_per_second == pytest.approx(80.0)
    table = format_table({"rows": [plain, fast], "soft_prompts": [], "prompts": 2, "max_new_tokens": 12})
    lines = {line.split("  ")[0]: line for line in table.splitlines()}
    fast_line = lines["ours: ngram tree 1,1,1"]
    assert "1.25x" in fast_line and "80.0" in fast_line and fast_line.count("x") == 1  # no ratio to a missing rate
