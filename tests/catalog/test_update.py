"""The update script end to end against local servers that answer in the APIs' formats (127.0.0.1 only)."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from graphllm.catalog.add import add_paper
from graphllm.catalog.clients.arxiv import ArxivClient
from graphllm.catalog.clients.github import GitHubClient
from graphllm.catalog.clients.http import ApiError
from graphllm.catalog.clients.semantic_scholar import SemanticScholarClient
from graphllm.catalog.refresh import refresh
from graphllm.catalog.store import NON_SECTION_FILES, dump_yaml, load_catalog
from graphllm.catalog.upstream import sync_upstream
from graphllm.catalog.validate import validate_catalog
from graphllm.errors import CatalogError
from tests.apiserver import ApiServer, atom_feed, atom_paper, repo_json, s2_json
from tests.conftest import CATALOG, FIXTURES, REPO, run_cli

FAST = {"backoff": 0.05, "timeout": 1.0, "retries": 2, "wait_cap": 5}


@pytest.fixture
def server():
    srv = ApiServer()
    yield srv
    srv.close()


def _snapshot(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(root.iterdir())}


def _arxiv(server) -> ArxivClient:
    return ArxivClient(f"{server.url}/api/query", min_interval=0, **FAST)


# --- add -----------------------------------------------------------------------------------------


def test_add_writes_the_entry_from_the_atom_feed(server, catalog_copy):
    server.script("/api/query?2501.01234", (200, atom_paper("2501.01234", "GraphFoo:  A New\n  Graph Model",
                                                            ["Ada Lovelace", "Alan Turing"], "2025-01-03")))
    outcome = add_paper(catalog_copy, "https://arxiv.org/abs/2501.01234v2", code="foo/graphfoo",
                        section="kg-reasoning", arxiv=_arxiv(server))
    entry = outcome.entry
    assert (entry.id, entry.title, entry.authors) == ("graphfoo", "GraphFoo: A New Graph Model",
                                                      ["Ada Lovelace", "Alan Turing"])
    assert (entry.venue, entry.year, entry.first_version, entry.arxiv_id) == ("arXiv", 2025, "2025-01-03",
                                                                              "2501.01234")
    assert [link.url for link in entry.links] == ["https://arxiv.org/abs/2501.01234", "https://github.com/foo/graphfoo"]
    assert validate_catalog(catalog_copy).ok
    written = yaml.safe_load((catalog_copy / "kg-reasoning.yaml").read_text())
    assert any(e["id"] == "graphfoo" and e["code_repo"] == "foo/graphfoo" for e in written)
    assert "- id: graphfoo" in outcome.entry_yaml()


def test_add_refuses_duplicates_and_names_the_entry(server, catalog_copy):
    before = _snapshot(catalog_copy)
    with pytest.raises(CatalogError, match=r"same arXiv id 2310\.04560.*'talk-like-a-graph'"):
        add_paper(catalog_copy, "2310.04560", arxiv=_arxiv(server))
    server.script("/api/query?2502.00001", (200, atom_paper("2502.00001", "Talk Like a Graph: Encoding Graphs for "
                                                            "Large Language Models", ["X"], "2025-02-01")))
    with pytest.raises(CatalogError, match=r"same title.*'talk-like-a-graph'"):
        add_paper(catalog_copy, "2502.00001", arxiv=_arxiv(server))
    assert _snapshot(catalog_copy) == before


@pytest.mark.parametrize(
    ("response", "kind"),
    [
        ((200, atom_feed()), "arXiv has no paper"),
        ((200, "<feed><entry>"), "malformed XML"),
        ((200, atom_feed("<entry><id>http://arxiv.org/api/errors#incorrect_id_format</id><summary>incorrect id "
                         "format</summary></entry>")), "arXiv rejected"),
        ((500, "boom"), "answered 500"),
    ],
)
def test_add_errors_are_one_clear_line_and_write_nothing(server, catalog_copy, response, kind):
    server.script("/api/query?2503.00002", response)
    before = _snapshot(catalog_copy)
    with pytest.raises(ApiError, match=kind):
        add_paper(catalog_copy, "2503.00002", arxiv=_arxiv(server))
    assert _snapshot(catalog_copy) == before


def test_add_retries_429_and_500(server, catalog_copy):
    paper = atom_paper("2504.00003", "Some Graph Paper", ["A B"], "2025-04-01")
    server.script("/api/query?2504.00003", (429, "slow down", {"Retry-After": "1"}), (500, "oops"), (200, paper))
    start = time.perf_counter()
    outcome = add_paper(catalog_copy, "2504.00003", arxiv=_arxiv(server))
    assert outcome.entry.title == "Some Graph Paper" and server.hits("/api/query?2504.00003") == 3
    assert time.perf_counter() - start >= 1.0


def test_add_cli_dry_run_and_bad_ids(server, catalog_copy):
    server.script("/api/query?2505.00004", (200, atom_paper("2505.00004", "Dry Run Paper", ["A B"], "2025-05-02")))
    before = _snapshot(catalog_copy)
    result = run_cli("catalog", "add", "2505.00004", "--catalog", str(catalog_copy), "--dry-run",
                     "--arxiv-api", f"{server.url}/api/query")
    assert result.returncode == 0, result.stderr
    assert "would add to catalog/other-applications.yaml" in result.stdout and "+- id: dry-run-paper" in result.stdout
    assert _snapshot(catalog_copy) == before
    bad = run_cli("catalog", "add", "not-an-id", "--catalog", str(catalog_copy))
    assert bad.returncode == 2 and "is not an arXiv id" in bad.stderr and len(bad.stderr.splitlines()) == 1
    section = run_cli("catalog", "add", "2505.00004", "--catalog", str(catalog_copy), "--section", "nope")
    assert section.returncode == 2 and "unknown section 'nope'" in section.stderr


# --- refresh -------------------------------------------------------------------------------------


def _small_catalog(root: Path, ids: list[str]) -> Path:
    """A copy of the catalog holding only the given entries (all in their own sections)."""
    import shutil

    shutil.copytree(CATALOG, root)
    for path in root.glob("*.yaml"):
        if path.name in NON_SECTION_FILES:
            continue
        entries = [e for e in yaml.safe_load(path.read_text()) or [] if e["id"] in ids]
        path.write_text(dump_yaml(entries) if entries else "[]\n")
    return root


def _entry(root: Path, entry_id: str):
    return next(e for e in load_catalog(root).entries() if e.id == entry_id)


def _clients(server):
    return (GitHubClient(server.url, **FAST), SemanticScholarClient(f"{server.url}/graph/v1", min_interval=0, **FAST))


REFRESH_IDS = ["grapharena", "structgpt", "graph-chain-of-thought", "llaga", "graphgpt", "talk-like-a-graph",
               "graph-of-thoughts", "graph2text-or-graph2token", "large-language-models-meet-graph-neural",
               "grs-qa-graph-reasoning-structured-question"]  # the last three: arXiv preprints without code


@pytest.fixture
def small(tmp_path):
    root = _small_catalog(tmp_path / "catalog", REFRESH_IDS)
    entries = {e.id: e for e in load_catalog(root).entries()}
    assert set(entries) == set(REFRESH_IDS)
    return root, entries


def test_refresh_updates_what_answers_and_leaves_failures_untouched(server, small, monkeypatch):
    root, entries = small
    monkeypatch.setenv("GITHUB_TOKEN", "t0ken")
    repos = {e.id: e.code_repo for e in entries.values() if e.code_repo}
    server.script(f"/repos/{repos['grapharena']}",
                  (200, repo_json(repos["grapharena"], 321, pushed="2025-03-04T00:00:00Z")))
    server.script(f"/repos/{repos['structgpt']}", (500, "down"),
                  (200, repo_json(repos["structgpt"], 900, archived=True)))
    server.script(f"/repos/{repos['graph-chain-of-thought']}", (429, "", {"Retry-After": "1"}),
                  (200, repo_json(repos["graph-chain-of-thought"], 42, spdx=None)))
    server.script(f"/repos/{repos['llaga']}", (200, "{not json"))
    server.script(f"/repos/{repos['graphgpt']}", (200, repo_json(repos["graphgpt"], 5), {}, 3.0))  # slower than timeout
    server.script(f"/repos/{repos['talk-like-a-graph']}", (200, repo_json(repos["talk-like-a-graph"], 7)))
    # graph-of-thoughts' repository is not scripted: the server answers 404.
    published, still_preprint, unknown = (entries[i] for i in REFRESH_IDS[-3:])
    server.script(f"/graph/v1/paper/arXiv:{published.arxiv_id}",
                  (200, s2_json("International Conference on Learning Representations", 2025,
                                ["Int Conf Learn Represent", "ICLR"])))
    server.script(f"/graph/v1/paper/arXiv:{still_preprint.arxiv_id}", (200, s2_json("arXiv.org", 2024)))
    # `unknown` is not scripted: Semantic Scholar answers 404, which is not a failure (not indexed yet).
    before = {e.id: e.model_dump() for e in load_catalog(root).entries()}
    github, scholar = _clients(server)
    report = refresh(root, github, scholar)

    after = {e.id: e for e in load_catalog(root).entries()}
    assert (after["grapharena"].stars, after["grapharena"].archived, str(after["grapharena"].last_push),
            after["grapharena"].license) == (321, False, "2025-03-04", "MIT")
    assert (after["structgpt"].stars, after["structgpt"].archived) == (900, True)
    assert (after["graph-chain-of-thought"].stars, after["graph-chain-of-thought"].license) == (42, None)
    for failed in ("llaga", "graphgpt", "graph-of-thoughts"):
        assert after[failed].model_dump() == before[failed], failed
    failures = {entry: error for entry, _, error in report.failures}
    assert set(failures) == {"llaga", "graphgpt", "graph-of-thoughts"}
    assert "not JSON" in failures["llaga"] and "did not answer" in failures["graphgpt"]
    assert "404" in failures["graph-of-thoughts"]
    assert (after[published.id].venue, after[published.id].year) == ("ICLR", 2025)
    assert after[still_preprint.id].model_dump() == before[still_preprint.id]
    assert after[unknown.id].model_dump() == before[unknown.id]
    assert all(h.get("Authorization") == "Bearer t0ken" for k, h in server.seen if k.startswith("/repos/"))
    markdown = report.to_markdown()
    assert "## Newly published" in markdown and f"`{published.id}`" in markdown
    assert "## Failed (entries left as they were)" in markdown and "`llaga`" in markdown
    assert validate_catalog(root).ok


def test_refresh_honours_rate_limit_headers(server, small):
    root, entries = small
    reset = int(time.time()) + 2
    names = sorted(e.code_repo for e in entries.values() if e.code_repo)
    server.script(f"/repos/{names[0]}", (200, repo_json(names[0], 1),
                                         {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)}))
    for name in names[1:]:
        server.script(f"/repos/{name}", (200, repo_json(name, 2)))
    github = GitHubClient(server.url, **FAST)
    github.repo(names[0])
    start = time.time()
    github.repo(names[1])
    assert time.time() >= reset - 0.05 and time.time() - start > 0.5


def test_refresh_dry_run_writes_nothing(server, small):
    root, entries = small
    for e in entries.values():
        if e.code_repo:
            server.script(f"/repos/{e.code_repo}", (200, repo_json(e.code_repo, 7)))
    before = _snapshot(root)
    github, scholar = _clients(server)
    report = refresh(root, github, scholar, dry_run=True, do_venues=False)
    assert _snapshot(root) == before
    assert "+  stars: 7" in report.diff


def _sigint_default() -> None:
    """A shell that starts a job in the background makes it ignore SIGINT, and Python then installs no
    KeyboardInterrupt handler: the child must get the default back to be interruptible at all."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_refresh_interrupted_midway_loses_nothing(server, small):
    root, entries = small
    for e in entries.values():
        if e.code_repo:
            server.script(f"/repos/{e.code_repo}", (200, repo_json(e.code_repo, 11), {}, 3.0))  # a wide window
    before = _snapshot(root)
    env = {**os.environ, "GRAPHLLM_GITHUB_API": server.url, "GRAPHLLM_S2_API": f"{server.url}/graph/v1"}
    process = subprocess.Popen([sys.executable, "-m", "graphllm", "catalog", "refresh", "--catalog", str(root),
                                "--github-only"], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, preexec_fn=_sigint_default)
    deadline = time.time() + 20
    while not any(k.startswith("/repos/") for k, _ in server.seen) and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr
    assert _snapshot(root) == before
    assert validate_catalog(root).ok


# --- sync ----------------------------------------------------------------------------------------


def _modified_upstream(shared_data: Path) -> str:
    text = (shared_data / "awesome-graph-llm" / "README.md").read_text(encoding="utf-8")
    new = ("- (*ICLR'26*) GraphZeta: A Brand New Graph Foundation Model [[paper](https://arxiv.org/abs/2601.00001)]"
           "[[code](https://github.com/example/graphzeta)]\n"
           "- (*arXiv 2026.02*) Prompting Graphs Twice [[paper](https://arxiv.org/abs/2602.00002)]\n")
    text = text.replace("## Prompting\n", "## Prompting\n" + new, 1)
    changed = re.sub(r"\(\*arXiv 2024\.10\*\) (Can Graph Descriptive Order)", r"(*ICLR'25*) \1", text, count=1)
    assert changed != text
    return changed


def test_sync_from_a_modified_list_adds_exactly_two_and_reports_the_venue(shared_data, catalog_copy, tmp_path):
    modified = tmp_path / "README.md"
    modified.write_text(_modified_upstream(shared_data), encoding="utf-8")
    before = {e.id: e.model_dump() for e in load_catalog(catalog_copy).entries()}
    outcome = sync_upstream(catalog_copy, str(modified), shared_data)
    assert sorted(e.title for e in outcome.report.added) == ["GraphZeta: A Brand New Graph Foundation Model",
                                                             "Prompting Graphs Twice"]
    notes = [n for n in outcome.report.venue_notes]
    assert len(notes) == 1 and notes[0].current == "arXiv 2024" and notes[0].upstream == "ICLR 2025"
    after = {e.id: e.model_dump() for e in load_catalog(catalog_copy).entries()}
    assert set(after) - set(before) == {e.id for e in outcome.report.added}
    assert all(after[k] == v for k, v in before.items())  # nothing existing changed or disappeared
    assert validate_catalog(catalog_copy).ok


def test_sync_from_a_url_and_dry_run(server, shared_data, catalog_copy):
    server.script("/upstream/README.md", (200, _modified_upstream(shared_data), {"Content-Type": "text/markdown"}))
    before = _snapshot(catalog_copy)
    result = run_cli("catalog", "sync", "--catalog", str(catalog_copy), "--from", f"{server.url}/upstream/README.md",
                     "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "- new: `graphzeta`" in result.stdout and "venue differs" in result.stdout
    assert "+- id: graphzeta" in result.stdout
    assert _snapshot(catalog_copy) == before
    missing = run_cli("catalog", "sync", "--catalog", str(catalog_copy), "--from", f"{server.url}/nope")
    assert missing.returncode == 2 and "cannot fetch" in missing.stderr


def test_sync_of_the_unchanged_lists_changes_nothing(shared_data, catalog_copy):
    before = _snapshot(catalog_copy)
    outcome = sync_upstream(catalog_copy, None, shared_data)
    assert outcome.report.added == [] and _snapshot(catalog_copy) == before


def test_sync_latest_fetches_every_configured_list_from_its_raw_url(server, shared_data, catalog_copy):
    """The weekly workflow's sync: each list of upstreams.yaml from its raw_url (here a local server)."""
    path = catalog_copy / "upstreams.yaml"
    settings = yaml.safe_load(path.read_text(encoding="utf-8"))
    for upstream in settings["lists"]:
        if upstream.get("raw_url"):
            upstream["raw_url"] = f"{server.url}/raw/{upstream['name']}/README.md"
            text = (shared_data / upstream["snapshot"] / "README.md").read_text(encoding="utf-8")
            if upstream["name"] == "awesome-graph-llm":
                text = _modified_upstream(shared_data)
            server.script(f"/raw/{upstream['name']}/README.md", (200, text, {"Content-Type": "text/markdown"}))
    path.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
    outcome = sync_upstream(catalog_copy, None, shared_data, latest=True)
    assert sorted(e.title for e in outcome.report.added) == ["GraphZeta: A Brand New Graph Foundation Model",
                                                             "Prompting Graphs Twice"]
    assert all(e.added == dt.date.today() for e in outcome.report.added)
    assert len(outcome.report.per_source) == 14


def test_sync_dry_run_of_a_list_with_a_table_of_contents_link(catalog_copy):
    """`[Awesome ...](#awesome-graph-foundation-models-)` once crashed `sync --dry-run` with a ValidationError."""
    before = _snapshot(catalog_copy)
    listing = FIXTURES / "lists" / "toc-link.md"
    result = run_cli("catalog", "sync", "--catalog", str(catalog_copy), "--from", str(listing), "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "- new: `graphomega` GraphOmega: Foundation Models Read Graphs" in result.stdout
    assert "#awesome-graph-foundation-models-" not in result.stdout
    assert _snapshot(catalog_copy) == before


def test_sync_of_a_star_annotated_list_reports_its_new_papers(catalog_copy):
    """A copy with `* ` bullets, escaped brackets and star counts once read as 0 entries and "no new entries"."""
    listing = FIXTURES / "lists" / "star-annotated.md"
    result = run_cli("catalog", "sync", "--catalog", str(catalog_copy), "--from", str(listing), "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "awesome-graph-llm-with-stars: 3 read, 1 matched, 2 new" in result.stdout
    assert "- new: `graphzeta`" in result.stdout and "no new entries" not in result.stdout


def test_sync_of_a_file_that_is_not_an_awesome_list_fails_and_writes_nothing(catalog_copy, tmp_path):
    before = _snapshot(catalog_copy)
    prose = tmp_path / "notes.md"
    prose.write_text("# Notes\n\nNothing listed here yet.\n", encoding="utf-8")
    result = run_cli("catalog", "sync", "--catalog", str(catalog_copy), "--from", str(prose))
    assert result.returncode == 2
    assert result.stderr.strip().endswith("no entry could be read from 0 entry-like lines; is it an awesome list in "
                                          "Markdown (bullets or tables with links)?")
    assert len(result.stderr.strip().splitlines()) == 1
    assert _snapshot(catalog_copy) == before


def test_bibtex_command_writes_every_entry(catalog_copy, tmp_path):
    out = tmp_path / "graph-llm.bib"
    result = run_cli("catalog", "bibtex", "--catalog", str(catalog_copy), "--output", str(out))
    assert result.returncode == 0, result.stderr
    text = out.read_text(encoding="utf-8")
    assert text.count("\n@") == len(load_catalog(catalog_copy).entries())
    again = run_cli("catalog", "bibtex", "--catalog", str(catalog_copy), "--output", str(out))
    assert "unchanged" in again.stdout and out.read_text(encoding="utf-8") == text
    from graphllm.catalog.bibtex import bibtex

    entry = next(e for e in load_catalog(catalog_copy).entries() if e.id == "talk-like-a-graph")
    tricky = entry.model_copy(update={"title": "50% of A & B_c {x}", "authors": ["Ann O'Neil", "Bo Li"]})
    record = bibtex(tricky)
    assert r"title = {{50\% of A \& B\_c \{x\}}}" in record and "author = {Ann O'Neil and Bo Li}" in record
