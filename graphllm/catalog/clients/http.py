"""One polite JSON/XML API client on `requests`: timeouts, retries with backoff for 5xx, resets and
timeouts, `Retry-After` (seconds or HTTP-date) on 429/503, the `X-RateLimit-Remaining/Reset` headers
GitHub sends, and a minimum interval between requests. Thread-safe, so callers may run requests
concurrently within those limits."""

from __future__ import annotations

import re
import threading
import time

import requests

from graphllm.errors import GraphLLMError
from graphllm.httpdates import retry_after_seconds


class ApiError(GraphLLMError):
    """A request that failed for good. `kind`: not-found, rate-limit, timeout, network, server, bad-response."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def _reason(exc: Exception) -> str:
    """The useful tail of a requests error ('[Errno 111] Connection refused'), not its whole repr."""
    match = re.search(r"\[Errno -?\d+\][^'\")]*", str(exc))
    return match.group(0).strip() if match else exc.__class__.__name__


class ApiClient:
    def __init__(self, name: str, base_url: str, headers: dict[str, str] | None = None, timeout: float = 15.0,
                 retries: int = 3, backoff: float = 1.0, wait_cap: float = 60.0, min_interval: float = 0.0,
                 user_agent: str = "graphllm-catalog-update/0.1 (+https://github.com/graphllm)") -> None:
        self.name, self.base_url = name, base_url.rstrip("/")
        self.timeout, self.retries, self.backoff, self.wait_cap = timeout, retries, backoff, wait_cap
        self.min_interval = min_interval
        self.session = requests.Session()
        self.session.headers.update({"User-Agent": user_agent, **(headers or {})})
        self._lock = threading.Lock()
        self._next_start = 0.0
        self._blocked_until = 0.0  # from X-RateLimit-Remaining: 0
        self.requests_sent = 0

    def _pace(self) -> None:
        with self._lock:
            now = time.time()
            start = max(now, self._next_start, self._blocked_until)
            if start - now > self.wait_cap:
                until = time.strftime("%H:%M:%S", time.localtime(self._blocked_until))
                raise ApiError("rate-limit", f"{self.name} rate limit exhausted until {until}; "
                                             "try later or set a token (GITHUB_TOKEN for GitHub)")
            self._next_start = start + self.min_interval
        if start > now:
            time.sleep(start - now)

    def _note_rate_limit(self, response: requests.Response) -> None:
        remaining = response.headers.get("X-RateLimit-Remaining")
        reset = response.headers.get("X-RateLimit-Reset")
        if remaining is not None and reset is not None and remaining.strip() == "0":
            try:
                with self._lock:
                    self._blocked_until = max(self._blocked_until, float(reset))
            except ValueError:
                pass

    def get(self, path: str, params: dict | None = None) -> requests.Response:
        url = f"{self.base_url}/{path.lstrip('/')}" if path else self.base_url
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            self._pace()
            try:
                self.requests_sent += 1
                response = self.session.get(url, params=params, timeout=self.timeout)
            except requests.Timeout:
                if last:
                    raise ApiError("timeout", f"{self.name} did not answer within {self.timeout:g} s ({url})") from None
                time.sleep(self.backoff * 2 ** attempt)
                continue
            except requests.RequestException as exc:
                if last:
                    raise ApiError("network", f"cannot reach {self.name} at {self.base_url}: {_reason(exc)}") from None
                time.sleep(self.backoff * 2 ** attempt)
                continue
            self._note_rate_limit(response)
            status = response.status_code
            if status == 404:
                raise ApiError("not-found", f"{self.name}: {url} not found (404)")
            limited = status == 429 or (status == 403 and response.headers.get("X-RateLimit-Remaining") == "0")
            if limited or status >= 500:
                delay = retry_after_seconds(response.headers.get("Retry-After"))
                if delay is None and limited and self._blocked_until:
                    delay = self._blocked_until - time.time()
                delay = self.backoff * 2 ** attempt if delay is None else max(delay, 0.0)
                if last or delay > self.wait_cap:
                    kind = "rate-limit" if limited else "server"
                    raise ApiError(kind, f"{self.name} answered {status} for {url}"
                                         + (f" (asked to wait {delay:.0f} s)" if delay > self.wait_cap else ""))
                time.sleep(delay)
                continue
            if status >= 400:
                raise ApiError("server", f"{self.name} answered {status} for {url}")
            return response
        raise AssertionError("unreachable")

    def json(self, path: str, params: dict | None = None) -> dict:
        response = self.get(path, params)
        try:
            data = response.json()
        except ValueError:
            raise ApiError("bad-response", f"{self.name} sent a body that is not JSON ({response.url})") from None
        if not isinstance(data, dict):
            raise ApiError("bad-response", f"{self.name} sent JSON that is not an object ({response.url})")
        return data
