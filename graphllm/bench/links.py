"""`graphllm bench links`: our crawler against linkinator and markdown-link-check on one local farm.

Every tool checks the same Markdown file of farm URLs as a whole command (start-up included), against a
fresh farm state. Verdicts are compared with the farm's ground truth on the question that matters to a
user: is this link broken or not. A `requests` thread pool, the design we did not choose, runs too.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from graphllm import paths
from graphllm.bench.linkfarm import BROKEN, LEAST_REQUESTS, farm_urls
from graphllm.errors import GraphLLMError
from graphllm.results.files import utc_now
from graphllm.results.links import PEERS, LinkBenchReport, ToolRun

NPM_PREFIX = paths.REPO_ROOT / ".cache" / "npm"


def ensure_peers() -> dict[str, Path | None]:
    """Install the npm peers into .cache/npm when missing; None for a peer that cannot be installed."""
    found = {name: NPM_PREFIX / "node_modules" / ".bin" / name for name in PEERS}
    missing = [f"{name}@{version}" for name, version in PEERS.items() if not found[name].exists()]
    if missing and shutil.which("npm"):
        subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(NPM_PREFIX),
                        *missing], check=False, capture_output=True, timeout=600)
    return {name: path if path.exists() else None for name, path in found.items()}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Farm:
    def __init__(self, n_hosts: int, latency: float) -> None:
        self.port = _free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "graphllm.bench.linkfarm", "--hosts", str(n_hosts), "--port", str(self.port),
             "--latency", str(latency)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        if line.strip() != "ready":
            self.process.kill()
            raise GraphLLMError(f"the link farm did not start: {self.process.stderr.read().strip()[-300:]}")

    def reset(self) -> None:
        urllib.request.urlopen(f"http://127.0.0.1:{self.port}/__reset", timeout=10).read()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _timed(command: list[str], timeout: float, env: dict | None = None) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})})
    return time.perf_counter() - start, done


def run_ours(markdown: Path, workdir: Path, per_host: int) -> ToolRun:
    report = workdir / "ours.json"
    seconds, done = _timed([sys.executable, "-m", "graphllm", "links", "check", str(markdown), "--no-cache", "--quiet",
                            "--per-host", str(per_host), "--timeout", "10", "--json", str(report)], 600)
    if not report.exists():
        return ToolRun("graphllm", note=f"failed: {done.stderr.strip()[-200:]}")
    data = json.loads(report.read_text())
    return ToolRun("graphllm", seconds, {r["url"]: r["verdict"] == "broken" for r in data["results"]},
                   note=f"libcurl, {per_host} per host; {data['summary']['seconds']:.2f} s checking after start-up",
                   inner_seconds=data["summary"]["seconds"])


def run_requests_pool(markdown: Path, workdir: Path, threads: int = 64) -> ToolRun:
    out = workdir / "requests.json"
    seconds, done = _timed([sys.executable, "-m", "graphllm.bench.links", "--requests-pool", str(markdown),
                            str(out), str(threads)], 600)
    if not out.exists():
        return ToolRun("requests pool", note=f"failed: {done.stderr.strip()[-200:]}")
    return ToolRun("requests pool", seconds, json.loads(out.read_text()), note=f"{threads} threads (not chosen)")


def run_linkinator(binary: Path, markdown: Path) -> ToolRun:
    # Defaults (HEAD, then GET on any failure; 100 requests in flight overall). Its --retry-errors
    # measured 9x slower here with no verdict changed, so the fairest setting is the default.
    seconds, done = _timed([str(binary), str(markdown), "--markdown", "--format", "json", "--retry",
                            "--timeout", "10000"], 600)
    try:
        links = json.loads(done.stdout)["links"]
    except (ValueError, KeyError):
        return ToolRun("linkinator", note=f"unreadable output: {(done.stderr or done.stdout).strip()[-200:]}")
    return ToolRun("linkinator", seconds, {x["url"]: x["state"] == "BROKEN" for x in links},
                   note="defaults: concurrency 100 overall, --retry (429)")


def run_markdown_link_check(binary: Path, markdown: Path, workdir: Path) -> ToolRun:
    config = workdir / "mlc.json"
    config.write_text(json.dumps({"timeout": "10s", "retryOn429": True, "aliveStatusCodes": [200, 206]}))
    seconds, done = _timed([str(binary), str(markdown), "--config", str(config)], 600)
    verdicts = {}
    for mark, url in re.findall(r"\[(✓|✖|/)\] (\S+)", done.stdout):
        if mark != "/":
            verdicts[url] = mark == "✖"
    if not verdicts:
        return ToolRun("markdown-link-check", note=f"unreadable output: {done.stderr.strip()[-200:]}")
    return ToolRun("markdown-link-check", seconds, verdicts, note="defaults, retry on 429")


def score(run: ToolRun, truth: dict[str, bool]) -> None:
    if run.broken:
        run.wrong = sum(1 for url, broken in truth.items() if run.broken.get(url) is not broken)


def bench_links(n_urls: int = 2000, n_hosts: int = 50, latency: float = 0.05, fault_rate: float = 0.05,
                per_host: int = 4, peers: bool = True, log=print) -> LinkBenchReport:
    if n_hosts > 250:
        raise GraphLLMError("at most 250 hosts (127.0.0.2 to 127.0.0.251)")
    found = ensure_peers() if peers else {}
    farm = Farm(n_hosts, latency)
    try:
        urls = farm_urls(n_urls, n_hosts, farm.port, fault_rate)
        truth = {url: kind in BROKEN for url, kind in urls}
        with tempfile.TemporaryDirectory() as tmp:
            workdir = Path(tmp)
            markdown = workdir / "links.md"
            markdown.write_text("# Farm\n\n" + "".join(f"- [link {i}]({u})\n" for i, (u, _) in enumerate(urls)))
            runs = []
            plans = [("graphllm", lambda: run_ours(markdown, workdir, per_host)),
                     ("requests pool", lambda: run_requests_pool(markdown, workdir))]
            if peers:
                for name, runner in (("linkinator", run_linkinator), ("markdown-link-check", run_markdown_link_check)):
                    binary = found.get(name)
                    if binary is None:
                        runs.append(ToolRun(name, note="not installed (needs npm)"))
                        continue
                    plans.append((name, (lambda r=runner, b=binary: r(b, markdown)) if name == "linkinator"
                                  else (lambda r=runner, b=binary: r(b, markdown, workdir))))
            for name, plan in plans:
                farm.reset()
                log(f"running {name} ...")
                run = plan()
                score(run, truth)
                runs.append(run)
    finally:
        farm.stop()
    per_host_urls = math.ceil(n_urls / n_hosts)
    floor = math.ceil(per_host_urls / per_host) * latency
    return LinkBenchReport(n_urls, n_hosts, latency, round(n_urls * fault_rate), per_host, floor,
                           fault_floor(urls, per_host, latency), runs, date=utc_now())


def fault_floor(urls: list[tuple[str, str]], per_host: int, latency: float) -> float:
    """The floor once each URL counts the requests its kind needs at least (`LEAST_REQUESTS`): per host, as many
    rounds of `per_host` requests as its requests fill, and no fewer than its longest chain of requests."""
    needs: dict[str, list[int]] = {}
    for url, kind in urls:
        needs.setdefault(url.split("/")[2], []).append(LEAST_REQUESTS[kind])
    return max(max(math.ceil(sum(n) / per_host), max(n)) for n in needs.values()) * latency


def _requests_pool_main(markdown: str, out: str, threads: int) -> None:
    """The thread-pool design: HEAD, then GET on >= 400, one retry on 5xx; redirects followed by requests."""
    from concurrent.futures import ThreadPoolExecutor

    import requests

    from graphllm.links.extract import markdown_links

    urls = sorted({u for u, _ in markdown_links(Path(markdown).read_text())})
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=256, pool_maxsize=threads)
    session.mount("http://", adapter)

    def broken(url: str) -> bool:
        for attempt in range(2):
            try:
                response = session.head(url, allow_redirects=True, timeout=10)
                if response.status_code >= 400:
                    with session.get(url, allow_redirects=True, timeout=10, stream=True) as got:
                        response = got
            except requests.TooManyRedirects:
                return True
            except requests.RequestException:
                return True
            if response.status_code < 500 or attempt == 1:
                return response.status_code in (404, 410)
        return False

    with ThreadPoolExecutor(threads) as pool:
        verdicts = dict(zip(urls, pool.map(broken, urls), strict=True))
    Path(out).write_text(json.dumps(verdicts))


if __name__ == "__main__" and len(sys.argv) == 5 and sys.argv[1] == "--requests-pool":
    _requests_pool_main(sys.argv[2], sys.argv[3], int(sys.argv[4]))
