"""`graphllm bench serve`: the server under concurrent clients against what a user would otherwise write, in one
run on one machine.

1. The baselines, in this process, one request after another on the same questions: our `generate` (warm), our
   speculative `generate` with the draft (when one is given) and transformers' `generate`.
2. `graphllm serve --recipe zero-shot` in a process of its own (the embedded SmolLM2-135M), then for each client
   count N: N threads, each sending M requests one after another; answers/s, tokens/s and each request's latency.
3. The same with `--max-batch 1`: the server decoding one request at a time, where N clients queue as they would
   for a loop over `generate`; the latency a user of such a loop sees at N clients.
Every request is greedy, so the answers are the same everywhere (and the server's are checked against ours).
"""

from __future__ import annotations

import datetime
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from graphllm.errors import GraphLLMError
from graphllm.results.serve import ONE_AT_A_TIME, PEER, SERIAL, SERVER, ServeBenchReport, ServeRow


@dataclass
class ServeBenchConfig:
    clients: list[int] = field(default_factory=lambda: [1, 4, 16])
    requests: int = 4  # per client
    max_new_tokens: int = 48
    draft: str | None = None
    peers: bool = True
    max_batch: int = 16
    baseline_requests: int = 8  # requests each one-at-a-time loop answers
    questions: int = 16  # distinct questions, sent in turn
    seed: int = 0


def bench_requests(config: ServeBenchConfig) -> list[dict]:
    """GraphQA graphs with the long-answer requests of `bench decode`, as API requests."""
    from graphllm.data.graphqa import GraphQAConfig, generate
    from graphllm.data.graphqa.long_answers import BENCH_REQUESTS

    rows = generate(GraphQAConfig(examples=config.questions, tasks=["cycle_check"], encoders=["adjacency"],
                                  seed=config.seed), workers=1)[:config.questions]
    return [{"graph": {"num_nodes": r.num_nodes, "edges": r.edges}, "question": BENCH_REQUESTS[i % len(BENCH_REQUESTS)],
             "encoder": r.encoder, "max_new_tokens": config.max_new_tokens} for i, r in enumerate(rows)]


def bench_serve(config: ServeBenchConfig, log: Callable[[str], None] = print) -> ServeBenchReport:
    import torch

    from graphllm.bench.decode import describe_device

    requests = bench_requests(config)
    rows, answers = _baselines(config, requests, log)
    rows += _served(config, requests, answers, log, SERVER, config.max_batch)
    rows += _served(config, requests, answers, log, SERIAL, 1)
    return ServeBenchReport(date=datetime.date.today().isoformat(), device=describe_device(torch.device("cpu")),
                            settings=asdict(config), rows=rows)


def _baselines(config: ServeBenchConfig, requests: list[dict], log) -> tuple[list[ServeRow], dict[int, list[int]]]:
    """The one-request-at-a-time loops; and our answers by question (what the server must give)."""
    from graphllm.bench.decode import transformers_generate
    from graphllm.experiment import load_model
    from graphllm.inference.config import TreeShape
    from graphllm.inference.drafts import make_draft
    from graphllm.inference.generate import generate
    from graphllm.inference.speculative import speculative_generate
    from graphllm.serve.schema import AnswerRequest
    from graphllm.serve.service import AnswerService

    model, recipe, tokenizer = load_model(None, "zero-shot")
    service = AnswerService(model, recipe, tokenizer)  # builds the jobs exactly as the server does; never started
    jobs = [service.job(AnswerRequest.model_validate(r)) for r in requests[:config.baseline_requests]]
    pad = tokenizer.pad_token_id
    methods = [(ONE_AT_A_TIME, lambda job: generate(model, job.batch, job.config)[0])]
    if config.draft:
        draft = make_draft(config.draft, target=model, recipe=recipe)
        methods.append((f"ours: speculative generate ({config.draft}), one request at a time",
                        lambda job: speculative_generate(model, job.batch, draft, job.config, TreeShape())[0]))
    if config.peers:
        methods.append((PEER, lambda job: transformers_generate(model, job.batch, job.config, pad)[0]))
    rows, answers = [], {}
    for name, answer in methods:
        log(f"{name}: {len(jobs)} requests")
        answer(jobs[0])  # warm: the first call packs weights and allocates
        row = ServeRow(name, 1)
        began = time.perf_counter()
        for index, job in enumerate(jobs):
            start = time.perf_counter()
            tokens = answer(job)
            row.latencies.append(time.perf_counter() - start)
            row.answers, row.tokens = row.answers + 1, row.tokens + len(tokens)
            if name == ONE_AT_A_TIME:
                answers[index] = tokens
        row.seconds = time.perf_counter() - began
        rows.append(row)
    return rows, answers


def _served(config: ServeBenchConfig, requests: list[dict], answers: dict[int, list[int]], log, method: str,
            max_batch: int) -> list[ServeRow]:
    import httpx

    with _ServerProcess(config, max_batch, log) as url:
        for request in requests[:2]:
            httpx.post(f"{url}/v1/answers", json=request, timeout=600).raise_for_status()  # warm
        rows = []
        for clients in config.clients:
            log(f"{method}: {clients} clients x {config.requests} requests")
            row, lock, differ = ServeRow(method, clients), threading.Lock(), []

            def client(index: int, row=row, lock=lock, differ=differ) -> None:
                with httpx.Client(base_url=url, timeout=3600) as http:
                    for i in range(config.requests):
                        which = (index * config.requests + i) % len(requests)
                        start = time.perf_counter()
                        response = http.post("/v1/answers", json=requests[which])
                        seconds = time.perf_counter() - start
                        with lock:
                            if response.status_code == 503:
                                row.refused += 1
                                continue
                            response.raise_for_status()
                            tokens = response.json()["tokens"]
                            row.latencies.append(seconds)
                            row.answers, row.tokens = row.answers + 1, row.tokens + len(tokens)
                            if which in answers and tokens != answers[which]:
                                differ.append(which)

            began = time.perf_counter()
            threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            row.seconds = time.perf_counter() - began
            if differ:
                log(f"  {len(differ)} answers differ from our generate alone (float rounding of another batch shape "
                    f"can flip a near-tie): questions {sorted(set(differ))}")
            rows.append(row)
    return rows


class _ServerProcess:
    """`graphllm serve --recipe zero-shot` on a free port of 127.0.0.1, until the block ends."""

    def __init__(self, config: ServeBenchConfig, max_batch: int, log) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.command = [sys.executable, "-m", "graphllm", "serve", "--recipe", "zero-shot", "--host", "127.0.0.1",
                        "--port", str(self.port), "--max-batch", str(max_batch), "--max-queue", "512",
                        "--time-limit", "3600"] + (["--draft", config.draft] if config.draft else [])
        self.log = log

    def __enter__(self) -> str:
        import httpx

        self.log("starting: " + " ".join(self.command[1:]))
        self.process = subprocess.Popen(self.command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                        env={**os.environ, "PYTHONUNBUFFERED": "1"})
        url, deadline = f"http://127.0.0.1:{self.port}", time.monotonic() + 600
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise GraphLLMError(f"the server exited with {self.process.returncode}: "
                                    f"{self.process.stderr.read().strip().splitlines()[-1:]}")
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    return url
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise GraphLLMError("the server did not answer /health within 10 minutes")

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
