"""HTTP exchanges for the crawler through libcurl (pycurl), driven by the asyncio event loop.

Why libcurl: on the 2-core reference machine the checker is bound by CPU, not by the network. aiohttp spends
about 0.3 ms of Python per request (2,000 HEAD requests to a local farm: about 0.65 s of CPU, against a floor of
0.50 s of latency, before any checking logic); libcurl does the protocol in C (the same 2,000: 0.2 s of CPU).
The glue is libcurl's multi-socket API, the way tornado's curl client uses it: libcurl says which sockets to
watch and when to be woken, the event loop watches them and hands the events back.

One `CurlClient` per run: its handles share cookies (a site that sets a cookie and redirects gets it back)
and DNS answers; connections are pooled by the multi handle (keep-alive per host).
"""

from __future__ import annotations

import asyncio
import errno
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit, urlunsplit

import pycurl

# libcurl's error codes (curl/curl.h), by what they mean to a verdict
_TIMEOUT = {28}  # CURLE_OPERATION_TIMEDOUT
_DNS = {6, 5}  # CURLE_COULDNT_RESOLVE_HOST, _PROXY
_CONNECT = {7}  # CURLE_COULDNT_CONNECT: refused, unreachable, ...
_TLS = {35, 51, 53, 54, 58, 59, 60, 64, 66, 77, 80, 82, 83, 90, 91, 98}  # SSL_* and PEER_FAILED_VERIFICATION
_RESET = {18, 52, 55, 56, 16, 92}  # PARTIAL_FILE, GOT_NOTHING, SEND/RECV_ERROR, HTTP2, HTTP2_STREAM
_INVALID = {1, 3}  # UNSUPPORTED_PROTOCOL, URL_MALFORMAT
_WRITE_ERROR = 23  # what a transfer ends with when we stop reading its body: not an error to us


class FetchError(Exception):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind  # timeout | dns | refused | tls | reset | invalid | other
        self.message = message


@dataclass
class Response:
    status: int
    headers: dict[str, str]  # lower-cased names; the first value of a repeated header
    body: bytes
    truncated: bool = False


@dataclass
class _Exchange:
    future: asyncio.Future
    body_limit: Callable[[int], int]  # status -> body bytes to keep; the transfer stops there (0: after the headers)
    limit: int | None = None
    lines: list[bytes] = field(default_factory=list)  # header lines as they came: `lines.append` is the callback,
    chunks: list[bytes] = field(default_factory=list)  # so libcurl calls C, not a Python function, per line
    size: int = 0
    stopped: bool = False

    def write(self, data: bytes) -> int | None:
        if self.limit is None:  # the first body bytes: the status line is in (pycurl allows no getinfo here)
            fields = next((line.split(None, 2) for line in reversed(self.lines) if line.startswith(b"HTTP/")), [])
            status = fields[1] if len(fields) > 1 else b""
            self.limit = self.body_limit(int(status) if status.isdigit() else 0)
        room = self.limit - self.size
        if room > 0:
            self.chunks.append(data[:room])
            self.size += min(len(data), room)
        if len(data) >= room:
            self.stopped = True
            return 0  # any other count than len(data) makes libcurl end the transfer: the rest is never read
        return None

    def headers(self) -> dict[str, str]:
        """The last response's headers (after a 100 Continue, say), lower-cased; a repeated one's first value."""
        start = max((i for i, line in enumerate(self.lines) if line.startswith(b"HTTP/")), default=-1) + 1
        headers: dict[str, str] = {}
        for line in self.lines[start:]:
            name, colon, value = line.decode("latin-1").partition(":")
            if colon:
                headers.setdefault(name.strip().lower(), value.strip())
        return headers


class CurlClient:
    """`await client.request(method, url, headers, body_limit, timeout)` -> `Response`, or raises `FetchError`."""

    def __init__(self, ca_file: str | None = None) -> None:
        self.loop = asyncio.get_running_loop()
        self.ca_file = ca_file if ca_file is not None else _default_ca_file()
        self.share = pycurl.CurlShare()
        self.share.setopt(pycurl.SH_SHARE, pycurl.LOCK_DATA_COOKIE)
        self.share.setopt(pycurl.SH_SHARE, pycurl.LOCK_DATA_DNS)
        self.multi = pycurl.CurlMulti()
        self.multi.setopt(pycurl.M_SOCKETFUNCTION, self._on_socket)
        self.multi.setopt(pycurl.M_TIMERFUNCTION, self._on_timer)
        self.idle: list[pycurl.Curl] = []
        self.active: dict[pycurl.Curl, _Exchange] = {}
        self.watched: dict[int, int] = {}  # fd -> pycurl.POLL_* registered with the loop
        self.timer: asyncio.TimerHandle | None = None
        self.cookies_set = False  # some response set a cookie: only then is the cookie list worth reading
        self._probe = self._new_handle()  # reads the shared cookie list

    async def __aenter__(self) -> CurlClient:
        return self

    async def __aexit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        for curl, exchange in list(self.active.items()):
            self.multi.remove_handle(curl)
            if not exchange.future.done():
                exchange.future.cancel()
            curl.close()
        self.active.clear()
        for fd in list(self.watched):
            self._unwatch(fd)
        if self.timer:
            self.timer.cancel()
        for curl in [*self.idle, self._probe]:
            curl.close()
        self.idle.clear()
        self.multi.close()
        self.share.close()

    def _new_handle(self) -> pycurl.Curl:
        curl = pycurl.Curl()
        curl.setopt(pycurl.SHARE, self.share)
        curl.setopt(pycurl.COOKIEFILE, "")  # the cookie engine on, in memory
        curl.setopt(pycurl.FOLLOWLOCATION, 0)  # the checker follows redirects itself: every hop is evidence
        curl.setopt(pycurl.ACCEPT_ENCODING, "")  # whatever libcurl decodes; page bodies arrive decoded
        curl.setopt(pycurl.PROXY, "")  # as the checker always did: no proxy from the environment
        curl.setopt(pycurl.NOSIGNAL, 1)
        if self.ca_file:
            curl.setopt(pycurl.CAINFO, self.ca_file)
        return curl

    async def request(self, method: str, url: str, headers: Iterable[str], body_limit: Callable[[int], int],
                      timeout: float) -> Response:
        """`headers` as "Name: value" lines; `body_limit(status)`: how much of the body to read."""
        curl = self.idle.pop() if self.idle else self._new_handle()
        exchange = _Exchange(self.loop.create_future(), body_limit)
        try:
            curl.setopt(pycurl.URL, _ascii_url(url))
        except (UnicodeError, ValueError, pycurl.error) as exc:
            self.idle.append(curl)
            raise FetchError("invalid", f"invalid URL: {exc}") from exc
        if method == "HEAD":
            curl.setopt(pycurl.NOBODY, 1)
        else:
            curl.setopt(pycurl.HTTPGET, 1)
        curl.setopt(pycurl.HTTPHEADER, list(headers))
        curl.setopt(pycurl.HEADERFUNCTION, exchange.lines.append)
        curl.setopt(pycurl.WRITEFUNCTION, exchange.write)
        curl.setopt(pycurl.TIMEOUT_MS, max(1, int(timeout * 1000)))
        self.active[curl] = exchange
        self.multi.add_handle(curl)  # libcurl asks for a timer at once, and starts from there
        try:
            return await exchange.future
        finally:
            if self.active.get(curl) is exchange:  # cancelled while in flight (once done, the handle is reused)
                del self.active[curl]
                self.multi.remove_handle(curl)
                curl.close()

    def cookie_state(self, url: str) -> str:
        """The cookies held for `url`'s host, as one string: what changes when a site sets a cookie."""
        if not self.cookies_set:
            return ""
        host = (urlsplit(url).hostname or "").lower()
        lines = []
        for line in self._probe.getinfo(pycurl.INFO_COOKIELIST):
            domain = line.split("\t", 1)[0].removeprefix("#HttpOnly_").lstrip(".").lower()
            if host == domain or host.endswith("." + domain):
                lines.append(line)
        return "\n".join(sorted(lines))

    # --- the multi-socket glue ---------------------------------------------------------------------

    def _on_socket(self, event: int, fd: int, multi, data) -> None:
        self._unwatch(fd)
        if event == pycurl.POLL_REMOVE:
            return
        if event in (pycurl.POLL_IN, pycurl.POLL_INOUT):
            self.loop.add_reader(fd, self._act, fd, pycurl.CSELECT_IN)
        if event in (pycurl.POLL_OUT, pycurl.POLL_INOUT):
            self.loop.add_writer(fd, self._act, fd, pycurl.CSELECT_OUT)
        self.watched[fd] = event

    def _unwatch(self, fd: int) -> None:
        event = self.watched.pop(fd, None)
        if event in (pycurl.POLL_IN, pycurl.POLL_INOUT):
            self.loop.remove_reader(fd)
        if event in (pycurl.POLL_OUT, pycurl.POLL_INOUT):
            self.loop.remove_writer(fd)

    def _on_timer(self, msecs: int) -> None:
        if self.timer:
            self.timer.cancel()
            self.timer = None
        if msecs >= 0:
            self.timer = self.loop.call_later(msecs / 1000, self._act, pycurl.SOCKET_TIMEOUT, 0)

    def _act(self, fd: int, action: int) -> None:
        while True:
            code, _ = self.multi.socket_action(fd, action)
            if code != pycurl.E_CALL_MULTI_PERFORM:
                break
        while True:
            queued, ok, failed = self.multi.info_read()
            for curl in ok:
                self._finish(curl, 0, "")
            for curl, code, message in failed:
                self._finish(curl, code, message)
            if not queued:
                break

    def _finish(self, curl: pycurl.Curl, code: int, message: str) -> None:
        self.multi.remove_handle(curl)
        exchange = self.active.pop(curl, None)
        if exchange is None:
            return
        if code == 0 or (code == _WRITE_ERROR and exchange.stopped):
            headers = exchange.headers()
            self.cookies_set |= "set-cookie" in headers
            result = Response(curl.getinfo(pycurl.RESPONSE_CODE), headers, b"".join(exchange.chunks),
                              exchange.stopped and bool(exchange.limit))
            outcome = None
        else:
            outcome = _error(code, message, curl.getinfo(pycurl.OS_ERRNO))
        self.idle.append(curl)  # its callbacks still hold this exchange until the next request sets its own
        if exchange.future.done():
            return
        if outcome is None:
            exchange.future.set_result(result)
        else:
            exchange.future.set_exception(outcome)


def _error(code: int, message: str, os_errno: int) -> FetchError:
    if code in _TIMEOUT:
        return FetchError("timeout", message)
    if code in _DNS:
        return FetchError("dns", message)
    if code in _CONNECT:
        if os_errno == errno.ECONNREFUSED:
            return FetchError("refused", message)
        return FetchError("other", message)
    if code in _TLS:
        return FetchError("tls", f"TLS failure: {message}")
    if code in _RESET:
        return FetchError("reset", f"connection reset: {message}")
    if code in _INVALID:
        return FetchError("invalid", f"invalid URL: {message}")
    return FetchError("other", f"curl error {code}: {message}")


def _ascii_url(url: str) -> str:
    """libcurl takes URLs as bytes: international host names go to IDNA, other non-ASCII is percent-encoded."""
    if url.isascii():
        return url
    parts = urlsplit(url)
    host = parts.hostname.encode("idna").decode("ascii") if parts.hostname else ""
    netloc = host + (f":{parts.port}" if parts.port else "")
    if parts.username:
        netloc = quote(parts.username) + (f":{quote(parts.password)}" if parts.password else "") + "@" + netloc
    safe = "!$&'()*+,;=:@/?%~-._"
    return urlunsplit((parts.scheme, netloc, quote(parts.path, safe), quote(parts.query, safe), ""))


def _default_ca_file() -> str | None:
    """The CA bundle libcurl verifies against: the environment's choice, else certifi's (which requests brings)."""
    for name in ("SSL_CERT_FILE", "CURL_CA_BUNDLE", "REQUESTS_CA_BUNDLE"):
        if os.environ.get(name) and os.path.isfile(os.environ[name]):
            return os.environ[name]
    try:
        import certifi
    except ImportError:
        return None
    return certifi.where()
