"""`graphllm serve` on a tiny model: the API, streaming, bad input, a full queue, a disconnect, a time limit,
concurrent clients answered as each request alone would be, a load test, and the page in a real browser. Every
server listens on 127.0.0.1 only."""

from __future__ import annotations

import json
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import torch

from graphllm.inference.config import TreeShape
from graphllm.inference.drafts import make_draft
from graphllm.inference.generate import generate
from graphllm.models.build import build_model, load_recipe
from graphllm.models.llm import tiny_llm
from graphllm.serve.schema import AnswerRequest
from graphllm.serve.server import BackgroundServer
from graphllm.serve.service import AnswerService, ServeConfig

CYCLE = {"num_nodes": 4, "edges": [[0, 1], [1, 2], [2, 0], [2, 3]]}


def _service(tokenizer, recipe: str = "graph-prefix", draft: str | None = None, **config) -> AnswerService:
    torch.manual_seed(0)
    loaded = load_recipe(recipe)
    model = build_model(loaded, tiny_llm("llama", layers=2)).eval()
    made = make_draft(draft, target=model) if draft else None
    return AnswerService(model, loaded, tokenizer, "tiny", made, draft, TreeShape((1, 1, 1)), ServeConfig(**config))


def _requests(count: int, sampled: bool = True) -> list[dict]:
    """Varied graphs, questions, lengths, and (`sampled`) some sampled requests with their own seeds."""
    out = []
    for i in range(count):
        n = 4 + i % 5
        edges = [[j, (j * 3 + i) % n] for j in range(n) if j != (j * 3 + i) % n]
        question = ["Is there a cycle in this graph?", f"What is the degree of node {i % n}?",
                    f"Is node 0 connected to node {n - 1}?"][i % 3]
        sampling = {"temperature": 0.8, "top_p": 0.9, "seed": i} if sampled and i % 4 == 3 else {}
        out.append({"graph": {"num_nodes": n, "edges": edges} if i % 2 else "\n".join(f"{u} {v}" for u, v in edges),
                    "question": question, "max_new_tokens": 6 + 3 * (i % 4), **sampling})
    return out


def _alone(service: AnswerService, request: dict) -> list[int]:
    """What `generate` gives the request alone (the reference every served answer is held to)."""
    job = service.job(AnswerRequest.model_validate(request))
    return generate(service.model, job.batch, job.config)[0]


def _top_two_gap(service: AnswerService, request: dict, prefix: list[int]) -> float:
    """The gap between the two largest logits after `prefix`, for the request alone: how near a tie it was."""
    job = service.job(AnswerRequest.model_validate(request))
    batch = job.batch
    tokens = torch.tensor([prefix], dtype=batch.input_ids.dtype)
    import dataclasses

    longer = dataclasses.replace(batch, input_ids=torch.cat([batch.input_ids, tokens], 1),
                                 attention_mask=torch.cat([batch.attention_mask, torch.ones_like(tokens)], 1))
    with torch.no_grad():
        x = service.model.prepare(longer)
        logits = service.model.run_llm(x.inputs_embeds, None, x.attention_mask, x.position_ids, x.cache).logits
    top = logits[0, -1].topk(2).values
    return float(top[0] - top[1])


@pytest.mark.parametrize("draft", [None, "ngram", "early-exit:1"])
def test_concurrent_clients_get_what_each_request_alone_gets(tokenizer, draft):
    service = _service(tokenizer, draft=draft, max_batch=5)
    requests = _requests(14, sampled=draft is None)  # a batch with a sampled row takes plain steps
    reference = [_alone(service, r) for r in requests]  # before the server: the model is the engine's after
    with BackgroundServer(service) as server, ThreadPoolExecutor(7) as pool:
        def ask(request):
            return httpx.post(f"{server.url}/v1/answers", json=request, timeout=60).json()
        answers = list(pool.map(ask, requests))
        metrics = httpx.get(f"{server.url}/metrics").text
    steps = dict(re.findall(r'graphllm_steps_total\{mode="(\w+)"\} ([\d.]+)', metrics))
    assert float(steps["plain"]) > 0 and (float(steps["speculative"]) > 0) == (draft is not None)
    for request, answer, alone in zip(requests, answers, reference, strict=True):
        assert answer["finish_reason"] in ("stop", "length") and answer["answer"] == \
            tokenizer.decode(answer["tokens"], skip_special_tokens=True).strip()
        if answer["tokens"] != alone:  # only float rounding of another batch shape may flip a near-tie
            first = next(i for i, (a, b) in enumerate(zip(answer["tokens"], alone, strict=False)) if a != b)
            gap = _top_two_gap(service, request, alone[:first])
            assert "temperature" not in request and gap < 1e-4, (request, first, gap)


def test_streaming_sends_tokens_as_they_come_and_the_answer_last(tokenizer):
    service = _service(tokenizer)
    with BackgroundServer(service) as server:
        with httpx.stream("POST", f"{server.url}/v1/answers", timeout=30,
                          json={"graph": CYCLE, "question": "Is there a cycle in this graph?", "stream": True,
                                "max_new_tokens": 7}) as response:
            assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
            events = _events(response.iter_text())
    names = [name for name, _ in events]
    assert names == ["token"] * (len(names) - 1) + ["done"] and len(names) > 2
    done = events[-1][1]
    assert [t for _, data in events[:-1] for t in data["tokens"]] == done["tokens"]
    assert "".join(data["text"] for _, data in events[:-1]).strip() == done["answer"]
    assert done["timings"]["first_token"] <= done["timings"]["total"] and done["passes"] == len(done["tokens"]) - 1


def _events(chunks) -> list[tuple[str, dict]]:
    text = "".join(chunks)
    return [(re.search(r"event: (\w+)", block).group(1), json.loads(re.search(r"data: (.*)", block).group(1)))
            for block in text.split("\n\n") if block.strip()]


@pytest.mark.parametrize("body, status, message", [
    ("{bad", 400, "the body is not JSON"),
    ('{"graph": "0 1"}', 422, "field 'question': Field required"),
    ("[]", 422, "must be a JSON object with at least graph and question"),
    ('{"graph": "0 1\\n1 x", "question": "q"}', 400, "graph:2: expected two node numbers"),
    ('{"graph": {"num_nodes": 2, "edges": [[0, 5]]}, "question": "q"}', 400, "edge [0, 5] names a node outside 0..1"),
    ('{"graph": {"edges": [[0, 1, 2]]}, "question": "q"}', 422, "field 'graph.GraphObject.edges.0'"),
    ('{"graph": {"num_nodes": 500, "edges": []}, "question": "q"}', 400, "too large; this server takes at most 100"),
    ('{"graph": "0 1", "question": "q", "encoder": "nope"}', 400, "unknown graph encoder 'nope'"),
    ('{"graph": "0 1", "question": "q", "max_new_tokens": 0}', 422, "field 'max_new_tokens': Input should be greater"),
    ('{"graph": "0 1", "question": "q", "max_new_tokens": 100000}', 422, "less than or equal to 512"),
    ('{"graph": "0 1", "question": "q", "top_p": 0}', 422, "field 'top_p'"),
    ('{"graph": "0 1", "question": "q", "colour": "red"}', 422, "field 'colour': Extra inputs are not permitted"),
])
def test_bad_requests_get_one_clear_line_and_the_server_lives_on(tokenizer, body, status, message):
    service = _service(tokenizer)
    with BackgroundServer(service) as server:
        response = httpx.post(f"{server.url}/v1/answers", content=body, headers={"content-type": "application/json"})
        assert response.status_code == status and message in response.json()["error"], response.text
        assert "\n" not in response.json()["error"]
        assert httpx.get(f"{server.url}/health").json()["status"] == "ok"
        assert f'graphllm_requests_refused_total{{status="{status}"}} 1.0' in httpx.get(f"{server.url}/metrics").text


def test_a_full_queue_answers_503_and_a_disconnect_frees_its_row(tokenizer, monkeypatch):
    service = _service(tokenizer, max_batch=1, max_queue=1)
    step = service.engine._plain_step

    def slow_step():  # a model slow enough that the first request is still running while the others arrive
        time.sleep(0.02)
        return step()

    monkeypatch.setattr(service.engine, "_plain_step", slow_step)
    long = {"graph": CYCLE, "question": "Is there a cycle in this graph?", "max_new_tokens": 512, "stream": True}
    with BackgroundServer(service) as server:
        client = httpx.Client(base_url=server.url, timeout=60)
        with client.stream("POST", "/v1/answers", json=long) as first:
            chunks = first.iter_text()  # kept: a closed iterator closes the response
            next(chunks)  # its first token: it holds the batch's one row
            waiting = threading.Thread(target=lambda: client.post("/v1/answers", json={**long, "stream": False,
                                                                                        "max_new_tokens": 3}))
            waiting.start()
            _until(lambda: 'graphllm_queue_length 1.0' in client.get("/metrics").text)
            full = client.post("/v1/answers", json=long)
            assert full.status_code == 503 and "the queue is full" in full.json()["error"]
            assert full.headers["retry-after"] == "2"
        # the stream is closed: its row is freed and the waiting request runs
        waiting.join(60)
        metrics = client.get("/metrics").text
        assert 'graphllm_requests_total{finish="cancelled"} 1.0' in metrics
        assert 'graphllm_requests_total{finish="length"} 1.0' in metrics and "graphllm_batch_size 0.0" in metrics


def test_a_request_past_the_time_limit_ends_with_what_it_has(tokenizer):
    service = _service(tokenizer, time_limit=0.5)
    with BackgroundServer(service) as server:
        answer = httpx.post(f"{server.url}/v1/answers", timeout=60, json={
            "graph": CYCLE, "question": "Is there a cycle in this graph?", "max_new_tokens": 512}).json()
    assert answer["finish_reason"] == "time_limit" and 0 < len(answer["tokens"]) < 512
    assert answer["timings"]["total"] < 5


def test_sixteen_clients_of_fifty_requests_are_answered_or_refused_and_memory_stays_flat(tokenizer):
    service = _service(tokenizer, max_batch=8, max_queue=6)
    requests = _requests(8)
    with BackgroundServer(service) as server:
        client = httpx.Client(base_url=server.url, timeout=60, limits=httpx.Limits(max_connections=32))

        def client_run(index: int) -> list[int]:
            return [client.post("/v1/answers", json={**requests[(index + i) % 8], "max_new_tokens": 4}).status_code
                    for i in range(50)]

        with ThreadPoolExecutor(16) as pool:
            first = [s for statuses in pool.map(client_run, range(16)) for s in statuses]
            after_first = _rss_mb()
            second = [s for statuses in pool.map(client_run, range(16)) for s in statuses]
        grown = _rss_mb() - after_first
        assert set(first + second) <= {200, 503} and (first + second).count(200) >= 400
        assert client.get("/health").json() == {"status": "ok", "recipe": "graph-prefix", "llm": "tiny",
                                                "draft": None, "batch_size": 0, "queue_length": 0}
    assert grown < 40, f"resident memory grew {grown:.0f} MB over the second 800 requests"


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024


def _until(condition, timeout: float = 30) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.05)


def test_the_api_is_described_by_its_openapi_schema(tokenizer):
    with BackgroundServer(_service(tokenizer)) as server:
        schema = httpx.get(f"{server.url}/openapi.json").json()
    post = schema["paths"]["/v1/answers"]["post"]
    assert set(post["responses"]) >= {"200", "400", "422", "503"}
    assert {"graph", "question", "max_new_tokens", "stream"} <= set(schema["components"]["schemas"]["AnswerRequest"]
                                                                     ["properties"])
    assert {"/health", "/metrics"} <= set(schema["paths"])


def test_serve_refuses_drafts_with_a_state_of_their_own_before_loading(capsys):
    from graphllm.cli import main

    assert main(["serve", "--recipe", "zero-shot", "--draft", "medusa"]) == 2
    assert "unknown draft 'medusa'" in capsys.readouterr().err
    assert main(["serve", "--recipe", "zero-shot", "--tree", "1,x"]) == 2
    assert "tree shape '1,x'" in capsys.readouterr().err


@pytest.mark.browser
def test_the_page_draws_the_graph_and_streams_an_answer(browser, tokenizer):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    with BackgroundServer(_service(tokenizer)) as server:
        browser.get(server.url + "/")
        circles = browser.find_elements(By.CSS_SELECTOR, "#drawing circle")
        assert len(circles) == 4 and len(browser.find_elements(By.CSS_SELECTOR, "#drawing line")) == 4
        circles[0].click()
        browser.find_elements(By.CSS_SELECTOR, "#drawing circle")[3].click()  # drawn again after the first click
        assert browser.find_element(By.ID, "edges").get_property("value").splitlines()[-1] == "0 3"
        assert len(browser.find_elements(By.CSS_SELECTOR, "#drawing line")) == 5
        browser.find_element(By.ID, "max-tokens").clear()
        browser.find_element(By.ID, "max-tokens").send_keys("6")
        browser.find_element(By.ID, "ask").click()
        WebDriverWait(browser, 30).until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-state")
                                         == "done")
        assert browser.find_element(By.ID, "error").text == ""
        assert browser.find_element(By.ID, "answer").text.strip()
        assert re.match(r"6 tokens \(length\); first token after", browser.find_element(By.ID, "meta").text)
        browser.find_element(By.ID, "edges").send_keys("\n1 x")
        browser.find_element(By.ID, "ask").click()
        assert 'line 6: expected two node numbers' in browser.find_element(By.ID, "error").text


def test_a_bench_serve_report_reads_back_and_refuses_what_is_not_one(tmp_path):
    from graphllm.errors import GraphLLMError
    from graphllm.results.serve import ONE_AT_A_TIME, SERIAL, SERVER, ServeBenchReport, ServeRow

    report = ServeBenchReport("2026-12-07", "cpu", {"clients": [4]}, [
        ServeRow(ONE_AT_A_TIME, 1, answers=4, tokens=40, seconds=8.0, latencies=[2.0, 2.0, 2.0, 2.0]),
        ServeRow(SERVER, 4, answers=4, tokens=40, seconds=2.0, latencies=[1.5, 2.0, 2.0, 3.0]),
        ServeRow(SERIAL, 4, answers=4, tokens=40, seconds=8.0, latencies=[2.0, 4.0, 6.0, 2.0])])
    report.write(tmp_path / "r.json")
    again = ServeBenchReport.read(tmp_path / "r.json")
    assert again == report and again.ratios(again.row(SERVER, 4)) == (4.0, 0.5)
    assert report.rows[1].latency(0.5) == 2.0 and report.rows[1].latency(0.99) == 3.0
    assert "    4.00   0.50" in report.text()
    (tmp_path / "bad.json").write_text('{"rows": []}')
    with pytest.raises(GraphLLMError, match="bad.json: not a `graphllm bench serve --json` result"):
        ServeBenchReport.read(tmp_path / "bad.json")


def test_the_switch_takes_the_mode_that_cost_less_per_token_at_that_batch_size():
    from graphllm.inference.batcher import ModeSwitch

    switch = ModeSwitch(explore=4)
    assert switch.speculate(1) is True  # nothing measured at this size: speculation first
    switch.observe(1, True, seconds=1.0, tokens=4)  # 0.25 s per committed token
    assert switch.speculate(1) is False  # then a plain step, to measure it too
    switch.observe(1, False, seconds=1.0, tokens=2)  # 0.5 s per token
    picks = [switch.speculate(1) for _ in range(8)]
    assert picks.count(True) == 6 and picks[3] is False and picks[7] is False  # every 4th step tries the other
    switch.observe(8, True, seconds=1.0, tokens=8)
    switch.observe(8, False, seconds=1.0, tokens=16)  # a large batch: plain steps commit more per second
    assert switch.speculate(8) is False
