"""A local farm of link targets for `graphllm bench links`: many hosts (127.0.0.x), fixed latency, known faults.

Run as a process of its own (`python -m graphllm.bench.linkfarm`) so that the server and the checkers
under test do not share an interpreter. Every URL's path says what it does, so the ground truth is the
URL list itself:

    /u<i>/ok       200                        /u<i>/head405  HEAD 405, GET 200
    /u<i>/404      404                        /u<i>/head403  HEAD 403, GET 200
    /u<i>/410      410                        /u<i>/chain    301 -> 302 -> 200
    /u<i>/flaky    500 once, then 200         /u<i>/loop     302 -> 302 -> back (a loop)
"""

from __future__ import annotations

import argparse
import asyncio
import random

PAGE = "<!doctype html><html><head><title>farm</title></head><body><p>page</p></body></html>"
FAULTS = ["404", "410", "flaky", "head405", "head403", "chain", "loop"]
BROKEN = {"404", "410", "loop"}
# The fewest requests, one after the other, that any checker needs for a right verdict on each kind: a retry
# after the 500, GET after the refused HEAD, every hop of a redirect, the hop back that shows the loop.
LEAST_REQUESTS = {"ok": 1, "404": 1, "410": 1, "flaky": 2, "head405": 2, "head403": 2, "chain": 3, "loop": 2}


def farm_urls(n_urls: int, n_hosts: int, port: int, fault_rate: float, seed: int = 0) -> list[tuple[str, str]]:
    """(url, kind) pairs spread evenly over the hosts; a `fault_rate` share are faults, cycling the kinds."""
    rng = random.Random(seed)
    n_faults = round(n_urls * fault_rate)
    fault_slots = set(rng.sample(range(n_urls), n_faults))
    urls, fault_index = [], 0
    for i in range(n_urls):
        kind = "ok"
        if i in fault_slots:
            kind = FAULTS[fault_index % len(FAULTS)]
            fault_index += 1
        host = f"127.0.0.{2 + i % n_hosts}"
        urls.append((f"http://{host}:{port}/u{i}/{kind}", kind))
    return urls


class FarmProtocol(asyncio.Protocol):
    """A minimal HTTP/1.1 server (keep-alive, GET/HEAD, no request bodies). Deliberately lighter than a web
    framework: the farm must not be what limits the checkers it measures on a 2-core machine."""

    def __init__(self, latency: float, seen_flaky: set[str]) -> None:
        self.latency = latency
        self.seen_flaky = seen_flaky
        self.buffer = b""
        self.transport: asyncio.Transport | None = None
        self.loop = asyncio.get_running_loop()

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = (lines[0].split(" ") + ["", ""])[:3]
            headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
            status, extra, body = self.answer(method, target.split("?")[0], headers.get("host", ""))
            delay = 0 if target.startswith("/__") else self.latency
            self.loop.call_later(delay, self.respond, method, status, extra, body)

    def answer(self, method: str, path: str, host: str) -> tuple[int, dict[str, str], bytes]:
        if path == "/__reset":
            self.seen_flaky.clear()
            return 200, {}, b"reset"
        parts = path.strip("/").split("/")
        if len(parts) != 2 or not parts[0].startswith("u"):
            return 400, {}, b"unknown path"
        index, kind = parts[0][1:], parts[1]
        page = (200, {"Content-Type": "text/html"}, PAGE.encode())
        if kind == "ok":
            return page
        if kind in ("404", "410"):
            return int(kind), {}, b"gone"
        if kind == "flaky":
            key = host + path
            if key not in self.seen_flaky:
                self.seen_flaky.add(key)
                return 500, {}, b"try again"
            return page
        if kind in ("head405", "head403"):
            return (int(kind[-3:]), {}, b"") if method == "HEAD" else page
        redirects = {"chain": (301, "hop"), "hop": (302, "ok"), "loop": (302, "loop2"), "loop2": (302, "loop")}
        if kind in redirects:
            status, to = redirects[kind]
            return status, {"Location": f"/u{index}/{to}"}, b""
        return 400, {}, b"unknown kind"

    def respond(self, method: str, status: int, extra: dict[str, str], body: bytes) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        reason = {200: "OK", 301: "Moved Permanently", 302: "Found", 400: "Bad Request", 403: "Forbidden",
                  404: "Not Found", 405: "Method Not Allowed", 410: "Gone", 500: "Internal Server Error"}[status]
        head = [f"HTTP/1.1 {status} {reason}", f"Content-Length: {len(body)}", "Connection: keep-alive"]
        head += [f"{k}: {v}" for k, v in extra.items()]
        payload = ("\r\n".join(head) + "\r\n\r\n").encode()
        self.transport.write(payload if method == "HEAD" else payload + body)

    def connection_lost(self, exc) -> None:
        self.transport = None


async def serve(n_hosts: int, port: int, latency: float) -> None:
    loop = asyncio.get_running_loop()
    seen_flaky: set[str] = set()
    for host in ["127.0.0.1"] + [f"127.0.0.{2 + i}" for i in range(n_hosts)]:
        await loop.create_server(lambda: FarmProtocol(latency, seen_flaky), host, port, backlog=1024)
    print("ready", flush=True)
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds before each answer")
    args = parser.parse_args()
    try:
        asyncio.run(serve(args.hosts, args.port, args.latency))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
