"""The link benchmark's farm and scoring (timings are printed by `graphllm bench links`, not asserted)."""

from graphllm.bench.linkfarm import BROKEN, FAULTS, farm_urls
from graphllm.bench.links import bench_links, format_table


def test_farm_urls_spread_faults_over_hosts():
    urls = farm_urls(2000, 50, 8080, 0.05)
    assert len(urls) == 2000
    assert len({u.split("/")[2] for u, _ in urls}) == 50
    kinds = [k for _, k in urls if k != "ok"]
    assert len(kinds) == 100 and set(kinds) == set(FAULTS)
    assert farm_urls(2000, 50, 8080, 0.05) == urls  # deterministic


def test_small_bench_gives_zero_wrong_verdicts():
    result = bench_links(n_urls=210, n_hosts=7, latency=0.01, fault_rate=0.2, peers=False, log=lambda _: None)
    runs = {run.name: run for run in result["runs"]}
    ours = runs["graphllm"]
    assert ours.wrong == 0, ours.note
    assert sum(ours.broken.values()) == sum(1 for _, k in farm_urls(210, 7, 1, 0.2) if k in BROKEN)
    assert runs["requests pool"].wrong == 0
    table = format_table(result)
    assert "graphllm" in table and "floor set by latency" in table
