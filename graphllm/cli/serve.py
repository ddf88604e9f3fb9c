"""`graphllm serve` and `graphllm bench serve`: parse, call the library, print."""

from __future__ import annotations

import sys
from pathlib import Path

from graphllm.cli.options import DEVICE_HELP, HelpFormatter, device_type, draft_help, model_source, print_report


def _serve(args) -> int:
    from graphllm.serve.server import load_service, serve_forever
    from graphllm.serve.service import ServeConfig

    config = ServeConfig(max_batch=args.max_batch, max_queue=args.max_queue, time_limit=args.time_limit)
    service = load_service(args.run, args.recipe, args.llm, args.device, args.draft, args.tree, config)
    serve_forever(service, args.host, args.port, log=lambda message: print(message, file=sys.stderr))
    return 0


def register(commands) -> None:
    srv = commands.add_parser(
        "serve", help="answer graph questions over HTTP, batching requests as they come",
        formatter_class=HelpFormatter,
        description="Load a trained run (or an untrained recipe) once and answer POST /v1/answers: a graph (JSON "
                    "{\"num_nodes\": N, \"edges\": [[u, v], ...]} or edge-list text) and a question, as JSON or "
                    "as server-sent events (\"stream\": true). Requests join the running batch at the next step "
                    "and leave it when done; with --draft, steps speculate while the batch is small and decode "
                    "plainly when it is large, whichever has cost less per token at that size. GET / is a page to "
                    "try it, /docs the API, /health and /metrics (Prometheus) for operations.",
        epilog="examples:\n  graphllm serve --recipe zero-shot\n"
               "  graphllm serve --run runs/graph-prefix-cycle_check --draft ngram --port 8080\n"
               "  curl -s localhost:8000/v1/answers -H 'content-type: application/json' -d "
               "'{\"graph\": \"0 1\\n1 2\\n2 0\", \"question\": \"Is there a cycle in this graph?\"}'")
    model_source(srv)
    srv.add_argument("--draft", help=draft_help("speculate with this draft while the batch is small (drafts "
                                                "without a state of their own: ngram, early-exit, or both with +)"))
    srv.add_argument("--tree", default="1,1,3,1,1", help="the draft tree's shape (default %(default)s)")
    srv.add_argument("--host", default="127.0.0.1", help="address to listen on (default %(default)s: this machine "
                                                          "only; 0.0.0.0 for every interface)")
    srv.add_argument("--port", type=int, default=8000, help="(default %(default)s)")
    srv.add_argument("--max-batch", type=int, default=16, help="requests decoded together (default %(default)s)")
    srv.add_argument("--max-queue", type=int, default=64,
                     help="requests waiting at most; more get 503 (default %(default)s)")
    srv.add_argument("--time-limit", type=float, default=120.0,
                     help="seconds a request may take, queueing included (default %(default)s)")
    srv.add_argument("--llm", default="smollm2-135m", help="embedded default, a Hugging Face id or a path")
    srv.add_argument("--device", type=device_type, default="auto", help=DEVICE_HELP)
    srv.set_defaults(func=_serve)


def _bench_serve(args) -> int:
    from graphllm.bench.serve import ServeBenchConfig, bench_serve

    config = ServeBenchConfig(clients=args.clients, requests=args.requests, max_new_tokens=args.max_new_tokens,
                              draft=args.draft, peers=not args.no_peers, max_batch=args.max_batch,
                              baseline_requests=args.baseline_requests)
    report = bench_serve(config, log=lambda message: print(message, file=sys.stderr))
    return print_report(report, args.json)


def register_bench(bench_commands) -> None:
    bs = bench_commands.add_parser(
        "serve", help="graphllm serve under 1, 4 and 16 concurrent clients vs one request at a time",
        formatter_class=HelpFormatter,
        description="Start `graphllm serve --recipe zero-shot` (the embedded SmolLM2-135M), send it GraphQA "
                    "questions from N concurrent clients (M requests each, greedy), and report answers/s, tokens/s "
                    "and p50/p99 latency; in the same run, what a user would otherwise write: our `generate` and "
                    "transformers' `generate`, one request after another, on the same questions; and the ratios.")
    bs.add_argument("--clients", type=int, nargs="+", default=[1, 4, 16], help="(default %(default)s)")
    bs.add_argument("--requests", type=int, default=4, help="requests per client (default %(default)s)")
    bs.add_argument("--max-new-tokens", type=int, default=48, help="(default %(default)s)")
    bs.add_argument("--max-batch", type=int, default=16, help="the server's batch limit (default %(default)s)")
    bs.add_argument("--baseline-requests", type=int, default=8,
                    help="requests each one-at-a-time loop answers (default %(default)s)")
    bs.add_argument("--draft", help="serve with this draft, and compare with our speculative generate")
    bs.add_argument("--no-peers", action="store_true", help="skip transformers' generate")
    bs.add_argument("--json", type=Path, help="also write the figures as JSON (the site's benchmarks read them)")
    bs.set_defaults(func=_bench_serve)

