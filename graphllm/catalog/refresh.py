"""`graphllm catalog refresh`: stars, archived flag, last push and licence from GitHub; the venue of arXiv
preprints from Semantic Scholar once they are published.

Requests run concurrently within each API's limits. A failure on one entry leaves that entry exactly as it
was and is listed in the report; the others are updated. Nothing is written until every answer is in, and
then atomically, so an interrupted run loses nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from graphllm.catalog.clients.github import GitHubClient
from graphllm.catalog.clients.http import ApiError
from graphllm.catalog.clients.semantic_scholar import SemanticScholarClient
from graphllm.catalog.schema import Entry
from graphllm.catalog.store import load_catalog, preview_diff, write_catalog

PREPRINT = (None, "arXiv", "preprint")


@dataclass
class Change:
    entry: str
    field: str
    old: object
    new: object


@dataclass
class RefreshReport:
    changes: list[Change] = field(default_factory=list)
    failures: list[tuple[str, str, str]] = field(default_factory=list)  # (entry, source, error)
    notes: list[str] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=dict)
    diff: str = ""
    changed_files: list[Path] = field(default_factory=list)

    def to_markdown(self) -> str:
        venues = [c for c in self.changes if c.field == "venue"]
        lines = ["# Catalog refresh", "",
                 f"Checked {self.checked.get('github', 0)} code repositories on GitHub and "
                 f"{self.checked.get('venues', 0)} preprints on Semantic Scholar: {len(self.changes)} field(s) "
                 f"changed, {len(self.failures)} lookup(s) failed.", ""]
        if venues:
            lines += ["## Newly published", "", "| Entry | Was | Now |", "|---|---|---|"]
            lines += [f"| `{c.entry}` | {c.old} | {c.new} |" for c in venues]
            lines.append("")
        others = [c for c in self.changes if c.field != "venue"]
        if others:
            lines += ["## Repository facts", "", "| Entry | Field | Was | Now |", "|---|---|---|---|"]
            lines += [f"| `{c.entry}` | {c.field} | {_show(c.old)} | {_show(c.new)} |" for c in others]
            lines.append("")
        if self.notes:
            lines += ["## Notes", ""] + [f"- {n}" for n in self.notes] + [""]
        if self.failures:
            lines += ["## Failed (entries left as they were)", "", "| Entry | Source | Error |", "|---|---|---|"]
            lines += [f"| `{e}` | {s} | {err.replace('|', '/')} |" for e, s, err in self.failures]
            lines.append("")
        return "\n".join(lines)


def _show(value) -> str:
    return "—" if value is None else str(value)


def _set(entry: Entry, name: str, value, report: RefreshReport) -> None:
    old = getattr(entry, name)
    if old != value:
        setattr(entry, name, value)
        report.changes.append(Change(entry.id, name, old, value))


def refresh(catalog_dir: str | Path, github: GitHubClient | None = None, scholar: SemanticScholarClient | None = None,
            dry_run: bool = False, do_github: bool = True, do_venues: bool = True, workers: int = 8,
            progress: Callable[[int], None] | None = None) -> RefreshReport:
    catalog = load_catalog(catalog_dir)
    report = RefreshReport()
    entries = catalog.entries()
    repo_entries = [e for e in entries if e.code_repo] if do_github else []
    preprints = [e for e in entries if e.arxiv_id and e.venue in PREPRINT] if do_venues else []
    report.checked = {"github": len(repo_entries), "venues": len(preprints)}
    github = github or (GitHubClient() if repo_entries else None)
    scholar = scholar or (SemanticScholarClient() if preprints else None)

    def attempt(lookup):
        """The lookup for one entry as (entry, answer, error): a failure stays with its entry."""
        def run(entry: Entry):
            try:
                return entry, lookup(entry), None
            except ApiError as exc:
                return entry, None, exc

        return run

    pool = ThreadPoolExecutor(workers)
    try:
        # Both APIs at once; each client paces its own requests.
        repo_results = pool.map(attempt(lambda e: github.repo(e.code_repo)), repo_entries)
        venue_results = pool.map(attempt(lambda e: scholar.publication(e.arxiv_id)), preprints)
        for entry, info, error in repo_results:
            if progress:
                progress(1)
            if error:
                report.failures.append((entry.id, "GitHub", str(error)))
                continue
            _set(entry, "stars", info.stars, report)
            _set(entry, "archived", info.archived, report)
            _set(entry, "last_push", dt.date.fromisoformat(info.pushed_at) if info.pushed_at else None, report)
            _set(entry, "license", info.license, report)
            if info.full_name.lower() != entry.code_repo.lower():
                report.notes.append(f"`{entry.id}`: repository {entry.code_repo} now lives at {info.full_name}")
        for entry, publication, error in venue_results:
            if progress:
                progress(1)
            if error:
                if error.kind != "not-found":
                    report.failures.append((entry.id, "Semantic Scholar", str(error)))
                continue
            if publication.venue and publication.venue not in PREPRINT:
                old = " ".join(str(p) for p in (entry.venue, entry.year) if p)
                entry.venue, entry.track = publication.venue, None
                entry.year = publication.year or entry.year
                report.changes.append(Change(entry.id, "venue", old, f"{entry.venue} {entry.year or ''}".strip()))
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)  # Ctrl-C: stop now; nothing has been written
        raise
    pool.shutdown()
    if dry_run:
        report.diff = preview_diff(catalog)
    elif report.changes:
        report.changed_files = write_catalog(catalog)
    return report
