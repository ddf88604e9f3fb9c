"""`graphllm serve` and `graphllm bench serve` on the real embedded default (SmolLM2-135M, zero-shot recipe)."""

from __future__ import annotations

import httpx
import pytest

from graphllm.inference.generate import generate
from graphllm.serve.schema import AnswerRequest
from graphllm.serve.server import BackgroundServer, load_service

pytestmark = pytest.mark.integration

REQUESTS = [
    {"graph": "0 1\n1 2\n2 0\n2 3", "question": "Is there a cycle in this graph?", "max_new_tokens": 24},
    {"graph": {"num_nodes": 5, "edges": [[0, 1], [1, 2], [3, 4]]}, "question": "Is there a path from node 0 to "
     "node 4?", "max_new_tokens": 24},
    {"graph": "0 1\n0 2\n0 3", "question": "What is the degree of node 0?", "max_new_tokens": 16},
]


@pytest.mark.parametrize("draft", [None, "ngram"])
def test_the_served_default_answers_as_generate_does(draft):
    service = load_service(None, "zero-shot", draft=draft)
    alone = [generate(service.model, job.batch, job.config)[0]
             for job in (service.job(AnswerRequest.model_validate(r)) for r in REQUESTS)]
    with BackgroundServer(service) as server:
        served = [httpx.post(f"{server.url}/v1/answers", json=r, timeout=300).json() for r in REQUESTS]
        health = httpx.get(f"{server.url}/health").json()
    assert [s["tokens"] for s in served] == alone
    assert all(s["answer"] == service.text(a).strip() and s["answer"] for s, a in zip(served, alone, strict=True))
    assert health["recipe"] == "zero-shot" and health["llm"] == "smollm2-135m" and health["draft"] == draft
    if draft:  # one request at a time: a batch of one, where speculation is measured against plain steps
        assert sum(s["speculative_passes"] for s in served) > 0


def test_bench_serve_measures_the_server_beside_one_request_at_a_time():
    from graphllm.bench.serve import ServeBenchConfig, bench_serve
    from graphllm.results.serve import ONE_AT_A_TIME, SERIAL, SERVER

    report = bench_serve(ServeBenchConfig(clients=[1, 2], requests=1, max_new_tokens=8, peers=False,
                                          baseline_requests=2, questions=4), log=lambda message: None)
    assert [(r.method, r.clients, r.answers) for r in report.rows] == [
        (ONE_AT_A_TIME, 1, 2), (SERVER, 1, 1), (SERVER, 2, 2), (SERIAL, 1, 1), (SERIAL, 2, 2)]
    assert all(r.tokens > 0 and r.seconds > 0 and len(r.latencies) == r.answers for r in report.rows)
    throughput, p99 = report.ratios(report.row(SERVER, 2))
    assert throughput > 0 and p99 > 0 and "x thru" in report.text()
