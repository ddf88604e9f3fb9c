"""Reading upstream lists: one tolerant reader for awesome-list Markdown, driven by `catalog/upstreams.yaml`.

`parse_upstream` reads a configured list from its snapshot, `parse_text` reads any list's text (a
list nobody configured is placed by the keyword rules), and `parse_all` reads every configured list.
A list that yields no entry, or fewer than half of its entry-like items, is an error: a format the
reader does not know must never look like "no new entries".
"""

from __future__ import annotations

import re
from pathlib import Path

from graphllm.catalog.importers.base import ParseResult, read_commit_date
from graphllm.catalog.importers.markdown.blocks import heading_plain, iter_items
from graphllm.catalog.importers.markdown.fields import read_item
from graphllm.catalog.text import slugify
from graphllm.catalog.upstreams import Upstream, Upstreams
from graphllm.errors import CatalogError

MIN_YIELD = 0.5  # entries read per entry-like item, below which a list is refused


def parse_text(text: str, upstreams: Upstreams, upstream: Upstream | None, source: str | None = None,
               display: str | None = None) -> ParseResult:
    """Every entry of one list's Markdown, placed in our sections by the list's settings (or the keywords)."""
    source = source or (upstream.name if upstream else "upstream")
    result = ParseResult(source)
    for item in iter_items(text):
        reason = upstreams.skip_reason(upstream, item.path)
        if reason:
            if item.has_web_link:
                result.skipped[reason] += 1
            continue
        problems: list[tuple[int, str]] = []
        record = read_item(item, source, problems)
        for line, message in problems:
            result.problem(line, message)
        if item.has_web_link or record is not None:
            result.entry_like += 1
        if record is None:
            continue
        placement = upstreams.place(upstream, item.path, record.title)
        if placement is None:
            result.problem(item.line, f"heading {' / '.join(item.path) or '(none)'!r} has no section rule in "
                                      "catalog/upstreams.yaml; placed by keywords (add a rule or a skip)")
            placement = upstreams.by_keywords(record.title)
        record.section, record.weak = placement.section, placement.weak
        record.taxonomy = " / ".join(item.path) or None
        result.records.append(record)
    where = display or source
    if not result.records:
        raise CatalogError(f"{where}: no entry could be read from {result.entry_like} entry-like lines; "
                           "is it an awesome list in Markdown (bullets or tables with links)?")
    if len(result.records) < MIN_YIELD * result.entry_like:
        raise CatalogError(f"{where}: only {len(result.records)} entries read from {result.entry_like} entry-like "
                           f"lines; the format is not understood ({len(result.problems)} problems, first: "
                           f"{result.problems[0] if result.problems else 'none'})")
    return result


def read_list_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError(f"cannot read upstream list {path}: {getattr(exc, 'strerror', None) or exc}") from None


def parse_upstream(upstreams: Upstreams, upstream: Upstream, data_dir: str | Path) -> ParseResult:
    path = upstream.readme(Path(data_dir))
    result = parse_text(read_list_file(path), upstreams, upstream, display=str(path))
    result.commit_date = read_commit_date(path) or (upstream.added.isoformat() if upstream.added else None)
    return result


def parse_all(upstreams: Upstreams, data_dir: str | Path) -> list[ParseResult]:
    """Every configured list, read from its snapshot under `data_dir` (the shared data folder)."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise CatalogError(f"upstream data directory {data_dir} not found; pass --data DIR")
    return [parse_upstream(upstreams, upstream, data_dir) for upstream in upstreams.lists]


def list_name(text: str, fallback: str) -> str:
    """A source name for a list nobody configured: its first heading, else `fallback`."""
    heading = re.search(r"^#\s+(.+)$", text, re.M)
    name = slugify(heading_plain(heading.group(1)), max_words=8) if heading else ""
    return name if name and name != "entry" else slugify(fallback, max_words=8)
