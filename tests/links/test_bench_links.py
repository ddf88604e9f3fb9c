"""The link benchmark's farm and scoring (timings are printed by `graphllm bench links`, not asserted)."""

import pytest

from graphllm.bench.linkfarm import BROKEN, FAULTS, LEAST_REQUESTS, farm_urls
from graphllm.bench.links import bench_links, fault_floor
from graphllm.errors import GraphLLMError
from graphllm.results.links import LinkBenchReport


def test_farm_urls_spread_faults_over_hosts():
    urls = farm_urls(2000, 50, 8080, 0.05)
    assert len(urls) == 2000
    assert len({u.split("/")[2] for u, _ in urls}) == 50
    kinds = [k for _, k in urls if k != "ok"]
    assert len(kinds) == 100 and set(kinds) == set(FAULTS)
    assert farm_urls(2000, 50, 8080, 0.05) == urls  # deterministic


def test_small_bench_gives_zero_wrong_verdicts(tmp_path):
    result = bench_links(n_urls=210, n_hosts=7, latency=0.01, fault_rate=0.2, peers=False, log=lambda _: None)
    runs = {run.name: run for run in result.runs}
    ours = runs["graphllm"]
    assert ours.wrong == 0, ours.note
    assert sum(ours.broken.values()) == sum(1 for _, k in farm_urls(210, 7, 1, 0.2) if k in BROKEN)
    assert runs["requests pool"].wrong == 0
    table = result.text()
    assert "graphllm" in table and "floor set by latency" in table
    result.write(tmp_path / "links.json")
    back = LinkBenchReport.read(tmp_path / "links.json")  # the file keeps every figure, not the per-URL verdicts
    assert back.text() == table and back.run("graphllm").broken == {} and back.run("graphllm").wrong == 0
    (tmp_path / "links.json").write_text('{"format": 1, "runs": [{"nme": "x"}]}')
    with pytest.raises(GraphLLMError, match="not a `graphllm bench links --json` result"):
        LinkBenchReport.read(tmp_path / "links.json")


def test_fault_floor_counts_the_requests_each_kind_needs():
    assert set(LEAST_REQUESTS) == set(FAULTS) | {"ok"}
    urls = [(f"http://a:1/u{i}/ok", "ok") for i in range(4)] + [("http://a:1/u4/chain", "chain"),
                                                                  ("http://b:1/u5/chain", "chain")]
    # a: 4 + 3 requests, 2 at a time: 4 rounds; b: one chain of 3 requests, one after the other: 3 rounds
    assert fault_floor(urls, per_host=2, latency=0.5) == 2.0
    assert fault_floor(urls[4:], per_host=4, latency=0.5) == 1.5
