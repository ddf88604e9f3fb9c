"""bench decode's bookkeeping: methods run in turn, rounds repeated, a method's median round reported."""

from __future__ import annotations

import itertools

import pytest

from graphllm.bench import decode
from graphllm.bench.decode import _interleaved
from graphllm.errors import GraphLLMError
from graphllm.inference.speculative import SpeculationStats
from graphllm.results.decode import DecodeBenchReport, Row


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

    def counted(name: str, stats: SpeculationStats, passes: int, accepted: list[int]):
        def run(batch):
            stats.steps += passes
            stats.accepted += accepted * passes
            return [[name, batch]]
        return run

    plain_stats, fast_stats = SpeculationStats(steps=99), SpeculationStats()  # (a warm-up's count is cleared)
    methods = [(Row("plain", 1), counted("plain", plain_stats, 10, []), plain_stats),  # counts, proposes nothing
               (Row("fast", 1), counted("fast", fast_stats, 4, [2]), fast_stats), (Row("peer", 1), broken, None)]
    _interleaved(methods, batches=["a", "b"], repeats=3)
    plain, fast, peer = (row for row, _, _ in methods)
    assert [name for _, name in calls[:4]] == ["plain", "fast", "plain", "fast"]  # in turn on each batch
    assert plain.seconds == 2.0 and fast.seconds == 1.0  # rounds (2, 10, 2) and (1, 1, 0.2): their medians
    assert fast.same is False and plain.same is None and plain.tokens == 4  # outputs of the first round
    assert (plain.passes, fast.passes, peer.passes) == (20, 8, None)  # one round's passes over both batches
    assert (plain.per_pass, fast.per_pass) == (None, 3.0)
    assert peer.error == "RuntimeError: assisted generate is only supported for batch_size = 1" and not peer.seconds


def test_a_run_shorter_than_its_prefill_shows_no_rate_after_the_prompt():
    """On a drifting CPU a short run can take less than its prefill measured apart: no rate, not 0 tok/s or a crash."""
    plain = Row("ours: plain greedy", 1, tokens=24, seconds=1.0, prompt_seconds=1.2)
    fast = Row("ours: ngram tree 1,1,1", 1, tokens=24, seconds=0.8, per_pass=1.5, prompt_seconds=0.5, same=True)
    assert plain.decode_tokens_per_second is None and fast.decode_tokens_per_second == pytest.approx(80.0)
    table = DecodeBenchReport([plain, fast], [], prompts=2, max_new_tokens=12, device="CPU").text()
    lines = {line.split("  ")[0]: line for line in table.splitlines()}
    fast_line = lines["ours: ngram tree 1,1,1"]
    assert "1.25x" in fast_line and "80.0" in fast_line and fast_line.count("x") == 1  # no ratio to a missing rate


def _result(**extra) -> DecodeBenchReport:
    rows = [Row("ours: plain greedy", 1, tokens=96, seconds=6.0, prompt_seconds=1.0, passes=95),
            Row("ours: feature tree 1,1,1", 1, tokens=96, seconds=3.0, per_pass=2.8, passes=30, prompt_seconds=1.0,
                same=True),
            Row("transformers: generate", 1, tokens=96, seconds=8.0, prompt_seconds=1.5, same=True),
            Row("transformers: prompt lookup (n-gram)", 8, error="ValueError: assisted generate is only supported")]
    soft = [Row("ours: ngram tree 1,1,3,1,1 (soft tokens)", 1, tokens=40, seconds=2.0, per_pass=1.4, same=True)]
    return DecodeBenchReport(rows, soft, 8, 96, "CPU, 2 threads", pass_costs={2: 1.1, 4: 0.95},
                             pass_costs_batched={8: {2: 1.3, 4: 1.7}}, **extra)


def test_a_written_result_reads_back_as_the_same_rows_and_table(tmp_path):
    path = tmp_path / "run.json"
    _result(date="2026-12-07 11:00 UTC").write(path)
    back = DecodeBenchReport.read(path)
    assert back == _result(date="2026-12-07 11:00 UTC")
    assert back.pass_costs == {2: 1.1, 4: 0.95} and back.pass_costs_batched == {8: {2: 1.3, 4: 1.7}}
    assert back.text() == _result(date="2026-12-07 11:00 UTC").text()
    feature = next(line for line in back.text().splitlines() if line.startswith("ours: feature"))
    assert "2.00x" in feature and "2.67x" in feature and "2.50x" in feature  # vs plain, vs HF, after the prompt
    # its limit: 30 passes at plain greedy's (6 - 1) / 95 s a step, after the same 1 s prompt: 6 / (1 + 30 * 5 / 95)
    assert feature.split()[-5:] == ["2.50x", "2.33x", "=", "plain", "greedy"]
    assert "ours: plain greedy" in back.text() and back.text().count("2.33x") == 1  # speculative only


@pytest.mark.parametrize("content, why", [
    ("{not json", "not readable as JSON"),
    ('{"rows": []}', "format None, where this graphllm reads 1"),
    ('{"format": 1, "rows": [], "soft_prompts": []}', "no prompts, max_new_tokens, device"),
    ('{"format": 1, "rows": [{"method": "x", "batch": 1, "speed": 3}], "soft_prompts": [], "prompts": 1, '
     '"max_new_tokens": 2, "device": "cpu"}', r"a row \(Row\) has unknown field 'speed'"),
    ('{"format": 1, "rows": [{"batch": 1}], "soft_prompts": [], "prompts": 1, "max_new_tokens": 2, '
     '"device": "cpu"}', r"a row \(Row\) has no method"),
    ('{"format": 1, "rows": [{"method": "x", "batch": "one"}], "soft_prompts": [], "prompts": 1, '
     '"max_new_tokens": 2, "device": "cpu"}', r"rows\.0\.batch: Input should be a valid integer"),
    ('{"format": 1, "rows": [], "soft_prompts": [], "prompts": 1, "max_new_tokens": 2, "device": "cpu", '
     '"devcie": "gpu"}', "unknown field 'devcie'"),
])
def test_a_file_that_is_not_a_bench_result_is_refused_with_what_to_do(tmp_path, content, why):
    path = tmp_path / "run.json"
    path.write_text(content)
    with pytest.raises(GraphLLMError, match=why) as caught:
        DecodeBenchReport.read(path)
    assert str(path) in str(caught.value) and "graphllm bench decode --json" in str(caught.value)
