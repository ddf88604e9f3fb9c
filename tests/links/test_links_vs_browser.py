"""The crawler's verdicts against what headless Chromium sees for the same URLs.

A page the browser loads (2xx after its own redirects) must never be `broken`; a page the browser gets
a 404/410 or a network error for must be `broken`. Statuses the crawler reports as `blocked` or `error`
are not claims either way, so they are allowed whatever the browser saw.
"""

from __future__ import annotations

import pytest

from graphllm.links import check, load_config
from graphllm.links.model import Verdict
from tests.linkserver import LinkServer

pytestmark = pytest.mark.browser

PATHS = ["/ok", "/404", "/410", "/head-405", "/head-403", "/r301", "/moved", "/relative/start", "/cookie",
         "/loop-a", "/chain/0", "/forbidden", "/always-500", "/frag"]


def _browser_outcome(browser, url: str) -> str:
    from selenium.common.exceptions import WebDriverException

    try:
        browser.get(url)
    except WebDriverException:
        return "net-error"
    if browser.current_url.startswith("chrome-error://"):
        return "net-error"
    status = browser.execute_script(
        "const e = performance.getEntriesByType('navigation')[0]; return e ? e.responseStatus : 0;")
    if browser.execute_script("return document.documentURI").startswith("chrome-error://"):
        return "net-error"
    return str(status)


def test_verdicts_match_the_browser(browser, tmp_path):
    with LinkServer() as server:
        urls = [server.url(p) for p in PATHS]
        page = tmp_path / "links.md"
        page.write_text("".join(f"- [x]({u})\n" for u in urls))
        config = load_config(None, timeout=2, retries=1, backoff=0.05, cache={"enabled": False})
        verdicts = {r.url: r.verdict for r in check([page], config).results}
        browser.delete_all_cookies()
        seen = {url: _browser_outcome(browser, url) for url in urls}
        browser.get_log("browser")  # the 404s logged here are expected; keep them out of other tests
    disagreements = []
    for url in urls:
        loads = seen[url].startswith("2")
        gone = seen[url] in ("404", "410", "net-error")
        verdict = verdicts[url]
        if loads and verdict == Verdict.BROKEN or gone and verdict in (Verdict.OK, Verdict.REDIRECTED):
            disagreements.append((url, seen[url], str(verdict)))
    assert disagreements == []
    assert seen[server.url("/ok")] == "200" and seen[server.url("/404")] == "404"
    assert seen[server.url("/loop-a")] == "net-error"
