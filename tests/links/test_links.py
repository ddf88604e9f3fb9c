"""The crawler against a real threaded HTTP server on 127.0.0.1: each verdict, politeness, the cache."""

from __future__ import annotations

import json
import shutil
import socket
import ssl
import subprocess
import time
from pathlib import Path

import pytest

from graphllm.httpdates import retry_after_seconds
from graphllm.links import check, load_config
from graphllm.links.config import LinkConfigError
from graphllm.links.model import Verdict
from tests.conftest import run_cli
from tests.linkserver import LinkServer


@pytest.fixture
def server():
    with LinkServer() as srv:
        yield srv


def _config(tmp_path: Path, **overrides):
    settings = {"timeout": 1.0, "retries": 2, "backoff": 0.05, "retry_after_cap": 5,
                "cache": {"path": str(tmp_path / "cache.sqlite")}, **overrides}
    return load_config(None, **settings)


def _run(tmp_path, urls: list[str], **overrides):
    page = tmp_path / "links.md"
    page.write_text("\n".join(f"- [link {i}]({u})" for i, u in enumerate(urls)) + "\n", encoding="utf-8")
    report = check([page], _config(tmp_path, **overrides))
    return {r.url: r for r in report.results}, report


def _refused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again on exit: nothing listens there


EXPECTED = {
    "/ok": Verdict.OK,
    "/404": Verdict.BROKEN,
    "/410": Verdict.BROKEN,
    "/flaky": Verdict.OK,
    "/retry-seconds": Verdict.OK,
    "/retry-date": Verdict.OK,
    "/retry-too-long": Verdict.BLOCKED,
    "/always-429": Verdict.BLOCKED,
    "/always-500": Verdict.ERROR,
    "/bot-wall-999": Verdict.BLOCKED,  # a status outside HTTP's range: a bot wall, not a failing server
    "/head-405": Verdict.OK,
    "/head-403": Verdict.OK,
    "/forbidden": Verdict.BLOCKED,
    "/challenge": Verdict.BLOCKED,
    "/r301": Verdict.REDIRECTED,
    "/moved": Verdict.REDIRECTED,
    "/relative/start": Verdict.REDIRECTED,
    "/loop-a": Verdict.BROKEN,
    "/chain/0": Verdict.BROKEN,
    "/slow": Verdict.TIMEOUT,
    "/huge": Verdict.OK,
    "/frag#present": Verdict.OK,
    "/frag#named": Verdict.OK,
    "/frag#readme": Verdict.OK,
    "/frag#missing": Verdict.BROKEN,
    "/cookie": Verdict.OK,
}


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    """One run over every behaviour of the server, shared by the tests that assert on it."""
    tmp_path = tmp_path_factory.mktemp("links")
    with LinkServer() as server:
        urls = [server.url(p) for p in EXPECTED] + [server.url("/dup"), server.url("/dup")]  # checked once
        urls += [f"http://127.0.0.1:{_refused_port()}/x", "http://nothing.invalid/page", "mailto:a@example.org"]
        start = time.perf_counter()
        results, report = _run(tmp_path, urls, retries=1)
        seconds = time.perf_counter() - start
        time.sleep(0.2)  # let the /huge handler notice the closed connection
        yield server, results, report, seconds, tmp_path


def test_every_verdict(full_run):
    server, results, report, _, tmp_path = full_run
    got = {url.removeprefix(server.url("")): r.verdict for url, r in results.items() if url.startswith(server.url(""))}
    assert got == EXPECTED | {"/dup": Verdict.OK}
    assert results[server.url("/dup")].sources == [f"{tmp_path / 'links.md'}:{len(EXPECTED) + 1}",
                                                   f"{tmp_path / 'links.md'}:{len(EXPECTED) + 2}"]
    assert results["http://nothing.invalid/page"].verdict == Verdict.BROKEN
    assert "unknown host" in results["http://nothing.invalid/page"].error
    refused = next(r for u, r in results.items() if u.endswith("/x"))
    assert refused.verdict == Verdict.BROKEN and "refused" in refused.error
    assert report.skipped_schemes == 1


def test_evidence(full_run):
    server, results, _, _, _ = full_run
    r301 = results[server.url("/r301")]
    assert [(h.method, h.status) for h in r301.chain] == [("HEAD", 301), ("HEAD", 302), ("HEAD", 200)]
    assert r301.final_url == server.url("/final") and r301.permanent is False
    assert results[server.url("/moved")].permanent is True
    assert results[server.url("/relative/start")].final_url == server.url("/ok")
    assert results[server.url("/loop-a")].error == "redirect loop"
    assert "more than 10 redirects" in results[server.url("/chain/0")].error
    head403 = results[server.url("/head-403")]
    assert [(h.method, h.status) for h in head403.chain] == [("HEAD", 403), ("GET", 200)]
    assert "bot challenge" in results[server.url("/challenge")].error
    assert "anchor #missing not found" in results[server.url("/frag#missing")].error
    cookie = results[server.url("/cookie")]
    assert [h.status for h in cookie.chain] == [302, 200] and cookie.final_url == server.url("/cookie")


def test_retries_and_retry_after(full_run):
    server, _, _, seconds, _ = full_run
    assert [server.state.requests[(m, "/flaky")] for m in ("HEAD", "GET")] == [1, 1]  # HEAD 500, GET 200
    assert server.state.requests[("HEAD", "/retry-seconds")] == 1
    assert server.state.requests[("GET", "/retry-seconds")] == 1  # the 503 went to HEAD, the GET was fine
    assert server.state.hits("/retry-date") == 2
    assert server.state.hits("/retry-too-long") == 1  # 3600 s is past the cap: not waited for
    assert server.state.requests[("HEAD", "/always-500")] == 1  # HEAD may be what fails: GET is asked next
    assert server.state.requests[("GET", "/always-500")] == 2  # retries=1
    assert server.state.requests[("HEAD", "/retry-too-long")] == 1
    assert seconds < 15


def test_duplicates_are_checked_once_and_huge_bodies_are_not_downloaded(full_run):
    server = full_run[0]
    assert server.state.hits("/dup") == 1
    assert server.state.hits("/frag") == 1  # one GET serves the three anchors
    assert server.state.requests[("GET", "/huge")] == 1
    assert server.state.huge_bytes_sent < 50_000_000


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to make a certificate")
def test_tls_failure_is_broken_and_a_trusted_certificate_is_ok(tmp_path):
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = LinkServer()
    server.socket = context.wrap_socket(server.socket, server_side=True)  # before it serves
    with server:
        url = server.url("/ok").replace("http://", "https://")
        untrusted, _ = _run(tmp_path, [url])
        assert untrusted[url].verdict == Verdict.BROKEN and "TLS failure" in untrusted[url].error
        trusted, _ = _run(tmp_path, [url], ca_bundle=str(cert))
        assert trusted[url].verdict == Verdict.OK and [h.status for h in trusted[url].chain] == [200]


def test_per_host_limit_as_counted_by_the_server(server, tmp_path):
    urls = [server.url(f"/busy/{i}") for i in range(24)]
    results, _ = _run(tmp_path, urls, per_host=3)
    assert all(r.verdict == Verdict.OK for r in results.values())
    assert server.state.max_in_flight == 3


def test_min_interval_spaces_requests(server, tmp_path):
    urls = [server.url(f"/busy/{i}") for i in range(5)]
    start = time.perf_counter()
    _run(tmp_path, urls, per_host=5, hosts={"127.0.0.1": {"min_interval": 0.2}})
    assert time.perf_counter() - start >= 0.8


def test_cache_sends_no_request_for_fresh_ok_links(server, tmp_path):
    urls = [server.url("/ok"), server.url("/r301"), server.url("/404")]
    first, _ = _run(tmp_path, urls)
    before = dict(server.state.requests)
    second, report = _run(tmp_path, urls)
    new = {key: n - before.get(key, 0) for key, n in server.state.requests.items() if n != before.get(key, 0)}
    assert set(new) == {("HEAD", "/404"), ("GET", "/404")}  # failures are never cached
    assert second[server.url("/ok")].from_cache and second[server.url("/r301")].from_cache
    assert second[server.url("/r301")].final_url == server.url("/final")
    assert not second[server.url("/404")].from_cache
    # Expired entries are checked again.
    _run(tmp_path, urls, cache={"path": str(tmp_path / "cache.sqlite"), "max_age_hours": 0})
    assert server.state.hits("/ok") == 2


def test_user_agent_and_token_only_for_github_hosts(server, tmp_path, monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", "secret-token")
    _run(tmp_path, [server.url("/headers"), server.url("/ok", host="localhost")],
         user_agent="graphllm-test/1", github_hosts=["localhost"])
    seen = {h["_path"]: h for h in server.state.headers}
    assert seen["/headers"]["user-agent"] == "graphllm-test/1"
    assert "authorization" not in seen["/headers"]
    assert seen["/ok"]["authorization"] == "Bearer secret-token"


def test_exclude_and_accept(server, tmp_path):
    results, _ = _run(tmp_path, [server.url("/forbidden"), server.url("/404")],
                      exclude=[r"/404$"], hosts={"127.0.0.1": {"accept": [403]}})
    assert results[server.url("/404")].verdict == Verdict.SKIPPED
    assert results[server.url("/forbidden")].verdict == Verdict.OK
    assert server.state.hits("/404") == 0


def test_retry_after_parsing():
    assert retry_after_seconds("120") == 120
    now = time.time()
    import email.utils

    assert 9 <= retry_after_seconds(email.utils.formatdate(now + 10, usegmt=True), now=now) <= 10
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


def test_cli_reports_and_exit_status(server, tmp_path):
    page = tmp_path / "list.md"
    page.write_text(f"[a]({server.url('/ok')}) [b]({server.url('/404')}) [c]({server.url('/r301')})\n")
    out_json, out_md = tmp_path / "r.json", tmp_path / "r.md"
    result = run_cli("links", "check", str(page), "--no-cache", "--json", str(out_json), "--markdown", str(out_md))
    assert result.returncode == 1
    assert "1 link(s) with verdict broken" in result.stderr
    data = json.loads(out_json.read_text())
    assert data["summary"]["broken"] == 1 and data["summary"]["redirected"] == 1 and data["summary"]["ok"] == 1
    broken = next(r for r in data["results"] if r["verdict"] == "broken")
    assert broken["chain"][-1]["status"] == 404 and broken["sources"] == [f"{page}:1"]
    markdown = out_md.read_text()
    assert "## Broken" in markdown and server.url("/404") in markdown and "## Redirected" in markdown
    ok_only = run_cli("links", "check", str(page), "--no-cache", "--fail-on", "timeout")
    assert ok_only.returncode == 0


def test_bad_config_is_one_clear_line(tmp_path):
    config = tmp_path / "links.yaml"
    config.write_text("per_host: zero\n")
    with pytest.raises(LinkConfigError, match="per_host"):
        load_config(config)
    config.write_text("exclude: ['(unclosed']\n")
    result = run_cli("links", "check", "--config", str(config))
    assert result.returncode == 2 and result.stderr.startswith("error:") and "regular expression" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    missing = run_cli("links", "check", str(tmp_path / "nothing.md"))
    assert missing.returncode == 2 and "does not exist" in missing.stderr


def test_site_directory_links_are_checked_offline(server, tmp_path):
    site = tmp_path / "site"
    (site / "sub").mkdir(parents=True)
    (site / "sub" / "index.html").write_text('<html><body><h1 id="top">Sub</h1><a href="../">home</a></body></html>')
    (site / "page.html").write_text('<html><body><section id="sec">x</section></body></html>')
    (site / "index.html").write_text(
        '<html><head><link rel="stylesheet" href="style.css"></head><body>'
        '<a href="sub/">sub</a> <a href="sub/#top">top</a> <a href="missing.html">gone</a>'
        '<a href="page.html#sec">sec</a> <a href="page.html#nope">nope</a> <a href="#">self</a>'
        f'<a href="{server.url("/ok")}">ext</a> <a href="mailto:x@example.org">mail</a>'
        '<img src="/img/logo.png"></body></html>')
    report = check([site], _config(tmp_path))
    verdicts = {r.url: r.verdict for r in report.results}
    assert verdicts == {
        "/sub/index.html": Verdict.OK, "/sub/index.html#top": Verdict.OK, "/missing.html": Verdict.BROKEN,
        "/page.html#sec": Verdict.OK, "/page.html#nope": Verdict.BROKEN, "/index.html": Verdict.OK,
        "/style.css": Verdict.BROKEN, "/img/logo.png": Verdict.BROKEN, server.url("/ok"): Verdict.OK,
    }
    assert report.skipped_schemes == 1
    gone = next(r for r in report.results if r.url == "/missing.html")
    assert gone.sources == ["index.html:1"] and gone.error == "file not found in the site"


def test_the_built_site_has_no_broken_internal_link(built_site, tmp_path):
    report = check([built_site], _config(tmp_path, exclude=[r"^https?://"]))
    internal = [r for r in report.results if r.verdict != Verdict.SKIPPED]
    assert len(internal) > 50
    assert [r for r in internal if r.verdict != Verdict.OK] == []


def test_markdown_extraction():
    from graphllm.links.extract import markdown_links

    text = ("# T\n[a](https://a.example/x) ![img](https://b.example/i.png \"title\") <https://c.example/>\n"
            "see https://d.example/page. and (https://e.example/p_(x))\n`https://code.example/` \n"
            "```\nhttps://fenced.example/\n```\n[ref]: https://f.example/ref\n<a href=\"https://g.example/\">g</a>\n")
    assert [u for u, _ in markdown_links(text)] == [
        "https://a.example/x", "https://b.example/i.png", "https://c.example/", "https://d.example/page",
        "https://e.example/p_(x)", "https://f.example/ref", "https://g.example/"]


def test_urls_with_non_ascii_characters_reach_libcurl_encoded():
    from graphllm.links.curl import _ascii_url

    assert _ascii_url("https://bücher.example:8443/straße?q=ä&x=1") == \
        "https://xn--bcher-kva.example:8443/stra%C3%9Fe?q=%C3%A4&x=1"
    assert _ascii_url("https://example.org/a%20b?c=d") == "https://example.org/a%20b?c=d"  # ASCII: as it is
