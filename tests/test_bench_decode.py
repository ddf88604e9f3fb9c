"""bench decode's bookkeeping: methods run in turn, rounds repeated, a method's median round reported."""

from __future__ import annotations

import itertools

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
