"""A threaded HTTP server on 127.0.0.1 that behaves like the web the crawler meets.

It counts requests per path, the requests in flight (and their maximum), the headers it saw and the
bytes it streamed, so tests can assert what the crawler did, not only what it reported.
"""

from __future__ import annotations

import email.utils
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PAGE = b"<!doctype html><html><head><title>ok</title></head><body><p>fine</p></body></html>"
FRAGMENT_PAGE = (b'<!doctype html><html><body><h2 id="present">Here</h2><a name="named"></a>'
                 b'<h2 id="user-content-readme">Readme</h2></body></html>')
CHALLENGE = b"<html><head><title>Just a moment...</title></head><body>Checking your browser</body></html>"


class State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: Counter[tuple[str, str]] = Counter()  # (method, path) -> count
        self.in_flight = 0
        self.max_in_flight = 0
        self.huge_bytes_sent = 0
        self.headers: list[dict[str, str]] = []

    def count(self, method: str, path: str) -> int:
        with self.lock:
            self.requests[(method, path)] += 1
            return self.requests[(method, path)]

    def hits(self, path: str) -> int:
        return sum(n for (method, p), n in self.requests.items() if p == path)


class Handler(BaseHTTPRequestHandler):
    server: LinkServer

    def log_message(self, *args):  # quiet
        pass

    def do_HEAD(self):
        self._serve("HEAD")

    def do_GET(self):
        self._serve("GET")

    def _send(self, status: int, body: bytes = b"", headers: dict | None = None) -> None:
        self.send_response(status)
        headers = {"Content-Type": "text/html; charset=utf-8", **(headers or {})}
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _redirect(self, status: int, location: str, headers: dict | None = None) -> None:
        self._send(status, b"", {"Location": location, **(headers or {})})

    def _serve(self, method: str) -> None:
        state = self.server.state
        path = self.path.split("?")[0]
        with state.lock:
            state.headers.append({k.lower(): v for k, v in self.headers.items()} | {"_path": path})
        try:
            state.count(method, path)
            with state.lock:
                hits = state.hits(path)
            self._route(method, path, hits)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _route(self, method: str, path: str, n: int) -> None:  # noqa: C901 - one branch per behaviour
        """`n` is the how-many-th request to this path this is, whatever the method."""
        if path in ("/ok", "/ok2", "/final", "/dup"):
            self._send(200, PAGE)
        elif path == "/404":
            self._send(404, b"not found")
        elif path == "/410":
            self._send(410, b"gone")
        elif path == "/flaky":  # 500 once, then fine
            self._send(500 if n == 1 else 200, PAGE)
        elif path == "/retry-seconds":
            self._send(503, b"busy", {"Retry-After": "1"}) if n == 1 else self._send(200, PAGE)
        elif path == "/retry-date":
            when = email.utils.formatdate(time.time() + 1, usegmt=True)
            self._send(429, b"slow down", {"Retry-After": when}) if n == 1 else self._send(200, PAGE)
        elif path == "/retry-too-long":
            self._send(429, b"slow down", {"Retry-After": "3600"})
        elif path == "/always-429":
            self._send(429, b"slow down")
        elif path == "/always-500":
            self._send(500, b"error")
        elif path == "/bot-wall-999":  # LinkedIn's answer to clients it takes for bots
            self._send(999, b"Request denied")
        elif path == "/head-405":
            self._send(405 if method == "HEAD" else 200, PAGE)
        elif path == "/head-403":
            self._send(403 if method == "HEAD" else 200, PAGE)
        elif path == "/forbidden":
            self._send(403, b"no")
        elif path == "/challenge":
            self._send(403, CHALLENGE, {"cf-mitigated": "challenge", "Server": "cloudflare"})
        elif path == "/r301":
            self._redirect(301, f"http://127.0.0.1:{self.server.server_port}/r302")
        elif path == "/r302":
            self._redirect(302, "/final")
        elif path == "/moved":
            self._redirect(308, "/ok2")
        elif path == "/relative/start":
            self._redirect(302, "../ok")
        elif path == "/loop-a":
            self._redirect(302, "/loop-b")
        elif path == "/loop-b":
            self._redirect(302, "/loop-a")
        elif path.startswith("/chain/"):
            self._redirect(302, f"/chain/{int(path.rsplit('/', 1)[1]) + 1}")
        elif path == "/slow":
            time.sleep(3)
            self._send(200, PAGE)
        elif path == "/huge":
            self._huge(method)
        elif path == "/frag":
            self._send(200, FRAGMENT_PAGE)
        elif path == "/cookie":
            if "session=1" in (self.headers.get("Cookie") or ""):
                self._send(200, PAGE)
            else:
                self._redirect(302, "/cookie", {"Set-Cookie": "session=1; Path=/"})
        elif path.startswith("/busy/"):
            self._busy()
            self._send(200, PAGE)
        elif path == "/headers":
            self._send(200, PAGE)
        else:
            self._send(404, b"no such test path")

    def _busy(self) -> None:
        """Count this request as in flight while it works. The count drops before the answer is sent,
        so a client that starts its next request on receipt is never counted twice."""
        state = self.server.state
        with state.lock:
            state.in_flight += 1
            state.max_in_flight = max(state.max_in_flight, state.in_flight)
        time.sleep(0.15)
        with state.lock:
            state.in_flight -= 1

    def _huge(self, method: str) -> None:
        """A 1 GB body. HEAD is refused so the crawler must GET it, and must stop after the headers."""
        if method == "HEAD":
            self._send(405)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(1_000_000_000))
        self.end_headers()
        chunk = b"\0" * 65536
        sent = 0
        try:
            while sent < 1_000_000_000:
                self.wfile.write(chunk)
                sent += len(chunk)
                with self.server.state.lock:
                    self.server.state.huge_bytes_sent = sent
        except (BrokenPipeError, ConnectionResetError):
            pass


class LinkServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, host: str = "127.0.0.1") -> None:
        super().__init__((host, 0), Handler)
        self.state = State()
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    def __enter__(self) -> LinkServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.server_port}{path}"
