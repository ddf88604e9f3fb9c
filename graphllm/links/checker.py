"""The online half of the crawler: one asyncio event loop, one libcurl client (`curl.py`), polite per host.

Why async: a thread pool of `requests` is bound by the GIL, not by the network, while an event loop gets close
to the floor that per-host limits and latency set (`graphllm bench links` measures both; figures on the
Benchmarks page of the docs). `requests` stays the client for the update script's API calls.

Per URL: HEAD first, GET when HEAD is refused or unreliable; redirects followed by hand so every hop is
evidence; retries with exponential backoff for 5xx, 429, resets and timeouts, honouring Retry-After up
to a cap. A verdict of `broken` needs proof (404/410, unknown host, refused connection, TLS failure,
redirect loop, missing anchor); anything that might load in a browser is `blocked`, `timeout` or `error`.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urldefrag, urljoin, urlsplit

from graphllm.httpdates import retry_after_seconds
from graphllm.links.config import HostRule, LinkConfig
from graphllm.links.curl import CurlClient, FetchError, Response
from graphllm.links.html import has_anchor, parse_html
from graphllm.links.model import Hop, Result, Verdict

CHALLENGE_MARKERS = (b"just a moment...", b"cf-chl", b"challenge-platform", b"captcha", b"attention required",
                     b"are you a robot", b"verify you are human")
ERROR_BODY_BYTES = 65_536


class Deferred(Exception):  # noqa: N818 - a signal, not an error
    """A page's first retry, to be run again from the host queue after `delay` seconds."""

    def __init__(self, delay: float) -> None:
        super().__init__(f"retry in {delay:g} s")
        self.delay = delay


class HostGate:
    """At most `per_host` requests in flight to one host, and request starts `min_interval` apart."""

    def __init__(self, config: LinkConfig) -> None:
        self.config = config
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._limits: dict[str, int] = {}
        self._intervals: dict[str, float] = {}
        self._next_start: dict[str, float] = defaultdict(float)

    def register(self, netloc: str, hostname: str) -> asyncio.Semaphore:
        semaphore = self._slots.get(netloc)
        if semaphore is None:
            self._limits[netloc] = self.config.per_host_limit(hostname)
            semaphore = self._slots[netloc] = asyncio.Semaphore(self._limits[netloc])
            self._intervals[netloc] = self.config.interval(hostname)
        return semaphore

    def limit(self, netloc: str) -> int:
        return self._limits[netloc]

    async def acquire(self, netloc: str, hostname: str) -> None:
        semaphore = self.register(netloc, hostname)
        await semaphore.acquire()
        interval = self._intervals[netloc]
        if interval:
            now = asyncio.get_running_loop().time()
            start = max(now, self._next_start[netloc])
            self._next_start[netloc] = start + interval
            if start > now:
                try:
                    await asyncio.sleep(start - now)
                except BaseException:
                    semaphore.release()
                    raise

    def release(self, netloc: str) -> None:
        self._slots[netloc].release()


@lru_cache(maxsize=65536)
def _origin(url: str) -> tuple[str, str]:
    """(netloc, hostname), lower-cased: the key of per-host limits and of host rules."""
    parts = urlsplit(url)
    return parts.netloc.lower(), (parts.hostname or "").lower()


class Checker:
    def __init__(self, config: LinkConfig, client: CurlClient) -> None:
        self.config = config
        self.client = client
        self.gate = HostGate(config)
        self.overall = asyncio.Semaphore(config.concurrency)
        self.token = config.github_token or os.environ.get("GITHUB_TOKEN")
        self.headers = [f"User-Agent: {config.user_agent}",
                        "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
                        "Accept-Language: en-US,en;q=0.9"]
        self.token_headers = [*self.headers, f"Authorization: Bearer {self.token}"]

    # --- one HTTP exchange -------------------------------------------------------------------

    async def _request(self, method: str, url: str, read_body: bool) -> Response:
        netloc, hostname = _origin(url)
        headers = self.token_headers if self.token and hostname in self.config.github_hosts else self.headers

        def body_limit(status: int) -> int:
            # Reading stops there, so a huge body is never downloaded.
            if method != "GET":
                return 0
            if read_body and status < 300:
                return self.config.max_body_bytes
            return ERROR_BODY_BYTES if status in (403, 429, 503) else 0  # enough to see a bot challenge page

        try:
            async with self.overall:
                await self.gate.acquire(netloc, hostname)
                try:
                    return await self.client.request(method, url, headers, body_limit, self.config.timeout)
                finally:
                    self.gate.release(netloc)
        except FetchError as exc:
            exc.message = {"timeout": f"no answer within {self.config.timeout:g} s", "dns": f"unknown host {hostname}",
                           "refused": f"connection refused by {netloc}"}.get(exc.kind, exc.message)
            raise

    async def _fetch(self, method: str, url: str, read_body: bool, first_attempt: int = 0) -> Response:
        """One exchange with retries: 5xx and 429 (honouring Retry-After), resets and timeouts.

        The first retry of a page is not waited for here: `Deferred` hands it back to the host's queue,
        so the wait overlaps with checking other links instead of holding a worker.
        """
        for attempt in range(first_attempt, self.config.retries + 1):
            last = attempt == self.config.retries
            delay = self.config.backoff * 2 ** attempt
            try:
                response = await self._request(method, url, read_body)
            except FetchError as exc:
                if exc.kind in ("timeout", "reset") and not last:
                    await self._wait(delay, attempt)
                    continue
                raise
            if method == "HEAD" and response.status >= 500:
                return response  # HEAD may be what fails: the caller asks with GET, which gets the retries
            if (response.status == 429 or response.status >= 500) and not last:
                asked = retry_after_seconds(response.headers.get("retry-after"))
                if asked is not None:
                    if asked > self.config.retry_after_cap:
                        return response  # asked to come back later than we wait: report as it stands
                    delay = asked
                await self._wait(delay, attempt)
                continue
            return response
        raise AssertionError("unreachable")

    @staticmethod
    async def _wait(delay: float, attempt: int) -> None:
        if attempt == 0:
            raise Deferred(delay)
        await asyncio.sleep(delay)

    # --- one page, its redirects and its fragments -------------------------------------------

    async def check_page(self, url: str, fragments: set[str], attempt: int = 0) -> list[Result]:
        """Check `url` (no fragment) once, then give a result for the bare URL and each `url#fragment`.

        Raises Deferred on a first transient failure (attempt 0): run it again later with attempt=1.
        """
        start = time.perf_counter()
        hostname = _origin(url)[1]
        rule = self.config.rule(hostname)
        need_body = bool(fragments) and self.config.check_fragments
        # A retried page starts with GET: whatever failed the first time, HEAD is no longer worth a request.
        method = "GET" if need_body or rule.get_only or attempt > 0 else "HEAD"
        chain: list[Hop] = []
        current = url
        # (url, cookies sent): the same URL with new cookies is progress (set-cookie-and-redirect), not a loop.
        seen = {(url, self.client.cookie_state(url))}
        while True:
            try:
                response = await self._fetch(method, current, read_body=need_body, first_attempt=attempt)
            except FetchError as exc:
                if method == "HEAD" and exc.kind in ("reset", "other"):
                    method = "GET"  # some servers drop the connection on HEAD
                    continue
                verdict = {"timeout": Verdict.TIMEOUT, "reset": Verdict.ERROR, "other": Verdict.ERROR}.get(
                    exc.kind, Verdict.BROKEN)
                result = Result(url, verdict, chain, current, error=exc.message)
                return self._expand(result, fragments, None, start, dns_failed=exc.kind == "dns")
            chain.append(Hop(current, method, response.status))
            location = response.headers.get("location")
            if 300 <= response.status < 400 and location:
                target = urldefrag(urljoin(current, location.strip()))[0]
                state = (target, self.client.cookie_state(target))
                if state in seen:
                    return self._expand(Result(url, Verdict.BROKEN, chain, target, error="redirect loop"),
                                        fragments, None, start)
                if len(chain) > self.config.max_redirects:
                    return self._expand(Result(url, Verdict.BROKEN, chain, target,
                                               error=f"more than {self.config.max_redirects} redirects"),
                                        fragments, None, start)
                seen.add(state)
                current = target
                continue
            if method == "HEAD" and response.status >= 400 and response.status != 429:
                # HEAD refused or unreliable (403, 404, 405, 501, ...): ask with GET. Not after a 429:
                # the rate limit holds for any method.
                method = "GET"
                continue
            break
        result = Result(url, self._classify(response, rule), chain, current)
        if result.verdict == Verdict.OK and current != url:
            result.verdict = Verdict.REDIRECTED
            result.permanent = all(h.status in (301, 308) for h in chain if 300 <= h.status < 400)
        elif result.verdict != Verdict.OK:
            result.error = _status_reason(response, result.verdict)
        return self._expand(result, fragments, response if need_body else None, start)

    def _classify(self, response: Response, rule: HostRule) -> Verdict:
        status = response.status
        if 200 <= status < 300 or status in rule.accept:
            return Verdict.OK
        if _is_challenge(response):
            return Verdict.BLOCKED
        if status in (404, 410):
            return Verdict.BROKEN
        if status in (401, 403, 407, 429, 451) or status >= 600:
            return Verdict.BLOCKED  # statuses past 599 (LinkedIn's 999) are bot walls: unknown, not failing
        if status >= 500 or 300 <= status < 400:
            return Verdict.ERROR
        return Verdict.BROKEN

    def _expand(self, base: Result, fragments: set[str], page: Response | None, start: float,
                dns_failed: bool = False) -> list[Result]:
        base.seconds = time.perf_counter() - start
        if dns_failed:
            base.error = (base.error or "") + " (DNS)"
        results = [base]
        anchors = None
        if page is not None and base.verdict in (Verdict.OK, Verdict.REDIRECTED):
            if "html" in page.headers.get("content-type", "html"):
                anchors = parse_html(page.body.decode("utf-8", "replace")).anchors
        host = _origin(base.final_url or base.url)[1]
        for fragment in sorted(fragments):
            result = Result(f"{base.url}#{fragment}", base.verdict, list(base.chain), base.final_url,
                            base.permanent, base.error, seconds=base.seconds)
            if anchors is not None and not has_anchor(anchors, fragment, host):
                if page.truncated:
                    result.error = f"anchor #{fragment} not seen in the first {len(page.body)} bytes; not verified"
                else:
                    result.verdict, result.error = Verdict.BROKEN, f"anchor #{fragment} not found in the page"
            results.append(result)
        return results


@dataclass
class _Job:
    url: str
    fragments: set[str]
    attempt: int = 0
    not_before: float = 0.0


def _is_challenge(response: Response) -> bool:
    if response.headers.get("cf-mitigated", "").lower() == "challenge":
        return True
    if response.status in (403, 429, 503):
        head = response.body[:ERROR_BODY_BYTES].lower()
        return any(marker in head for marker in CHALLENGE_MARKERS)
    return False


def _status_reason(response: Response, verdict: Verdict) -> str:
    if verdict == Verdict.BLOCKED and _is_challenge(response):
        return f"HTTP {response.status}: bot challenge page"
    if response.status in (429, 503) and response.headers.get("retry-after"):
        return f"HTTP {response.status}, Retry-After {response.headers['retry-after']} (after retries)"
    if 300 <= response.status < 400:
        return f"HTTP {response.status} without a Location header"
    return f"HTTP {response.status}"


async def check_urls(urls: dict[str, set[str]], config: LinkConfig,
                     on_done: Callable[[int], None] | None = None) -> list[Result]:
    """Check every page (URL without fragment -> fragments to verify) concurrently."""
    async with CurlClient(str(config.ca_bundle) if config.ca_bundle else None) as client:
        checker = Checker(config, client)
        # One queue per host, drained by workers: politeness is per host anyway, and a page whose first
        # try failed transiently goes back to the end of its host's queue instead of holding a worker.
        queues: dict[str, deque[_Job]] = defaultdict(deque)
        for url, fragments in urls.items():
            queues[_origin(url)[0]].append(_Job(url, fragments))
            checker.gate.register(*_origin(url))
        results: list[Result] = []
        loop = asyncio.get_running_loop()

        async def worker(queue: deque[_Job]) -> None:
            while queue:
                job = queue.popleft()
                wait = job.not_before - loop.time()
                if wait > 0:
                    if any(other.not_before <= loop.time() for other in queue):
                        queue.append(job)  # something else is ready: do that first
                        continue
                    await asyncio.sleep(wait)
                try:
                    found = await checker.check_page(job.url, job.fragments, job.attempt)
                except Deferred as retry:
                    job.attempt, job.not_before = 1, loop.time() + retry.delay
                    queue.append(job)
                    continue
                results.extend(found)
                if on_done:
                    on_done(1 + len(job.fragments))

        # As many workers as slots: a first retry goes back to the queue rather than sleeping in a worker, so
        # workers rarely wait, and more of them would only queue at the host gate (measured: 15% more CPU).
        await asyncio.gather(*(worker(queue) for netloc, queue in queues.items()
                               for _ in range(min(len(queue), checker.gate.limit(netloc)))))
    _guard_against_offline(results)
    return results


def _guard_against_offline(results: list[Result]) -> None:
    """If name resolution failed for every remote host, this machine is offline: nothing is proven broken."""
    def remote(result: Result) -> bool:
        host = _origin(result.url)[1]
        return not (host.startswith("127.") or host in ("localhost", "::1") or host.endswith(".invalid"))

    remote_results = [r for r in results if remote(r)]
    dns_hosts = {_origin(r.url)[1] for r in remote_results if r.error and r.error.endswith("(DNS)")}
    if len(dns_hosts) >= 2 and all(r.error and r.error.endswith("(DNS)") for r in remote_results):
        for result in remote_results:
            result.verdict = Verdict.ERROR
            result.error = "name resolution failed for every host: this machine looks offline"
