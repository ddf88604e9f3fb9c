"""Importer for PeterGriffinJin/Awesome-Language-Model-on-Graphs.

Format: a three-level taxonomy (`##`, `### <img> ...`, `####`) of numbered items
`1. **Title.** `venue`` followed by an indented line
`*Authors.* [[PDF](url)] [[Code](url)], 2023.10, ![](badge/DecoderOnly-blue) ![](badge/LLM-red)`.
"""

from __future__ import annotations

import re

from graphllm.catalog.importers.base import MD_LINK_RE, ParseResult, RawLink, Record, heading_text, link_kind
from graphllm.catalog.text import Venue, arxiv_id_from_url, clean_title, parse_venue, straighten

NAME = "lm-on-graphs"
TITLE = "PeterGriffinJin/Awesome-Language-Model-on-Graphs"
DEFAULT_PATH = "awesome-language-model-on-graphs/README.md"
_SKIP_HEADINGS = {"why llms on graphs?", "contents", "keywords convention", "contribution", "citations"}
_ITEM_RE = re.compile(r"^\d+\.\s+\*\*(?P<title>.+?)\*\*\s*(?:`(?P<venue>[^`]*)`)?\s*$")
_AUTHORS_RE = re.compile(r"^\s*\*(?P<authors>[^*]+)\*\s*(?P<rest>.*)$")
_BADGE_RE = re.compile(r"!\[\]\(https://img\.shields\.io/badge/([A-Za-z]+)-[a-z]+\)")
_DATE_RE = re.compile(r"(?:^|[\s,])((?:19|20)\d{2})\.(\d{1,2})(?=[\s,]|$)")

# Where an entry found only in this list lands in our sections (its own path is kept as a tag).
SECTION_FOR = {
    "Perspectives": "datasets-benchmarks-surveys",
    "Pure Graphs": "basic-graph-reasoning",
    "Text-Attributed Graphs / Datasets": "datasets-benchmarks-surveys",
    "Text-Attributed Graphs": "node-classification",
    "Text-Paired Graphs (Molecules)": "molecular-graph",
    "Others": "others",
}


def section_for(taxonomy: str) -> str | None:
    parts = taxonomy.split(" / ")
    for depth in range(len(parts), 0, -1):
        found = SECTION_FOR.get(" / ".join(parts[:depth]))
        if found:
            return found
    return None


def parse(text: str, result: ParseResult | None = None) -> ParseResult:
    result = result or ParseResult(NAME)
    path: list[str] = []
    skipping = True
    in_code = False
    lines = text.splitlines()
    pending: tuple[int, re.Match] | None = None
    for number, line in enumerate(lines, start=1):
        if line.lstrip().startswith("```"):
            in_code = not in_code
            continue
        if in_code:
            continue
        heading = re.match(r"^(#{2,4})\s+(.*)$", line)
        if heading:
            if pending:
                result.problem(pending[0], "item without an authors/links line; skipped")
                pending = None
            level, title = len(heading.group(1)), heading_text(heading.group(2))
            if level == 2:
                skipping = title.casefold() in _SKIP_HEADINGS
            if not skipping and title.casefold() not in _SKIP_HEADINGS:
                path = path[: level - 2] + [title]
            continue
        if skipping:
            continue
        item = _ITEM_RE.match(line)
        if item:
            if pending:
                result.problem(pending[0], "item without an authors/links line; skipped")
            pending = (number, item)
            continue
        if re.match(r"^\d+\.\s", line):
            result.problem(number, f"numbered item not understood; skipped: {line[:80]!r}")
            continue
        if pending and line.strip():
            record = _record(pending[0], pending[1], line, number, " / ".join(path), result)
            if record:
                result.records.append(record)
            pending = None
    if pending:
        result.problem(pending[0], "item without an authors/links line; skipped")
    return result


def _record(number: int, item: re.Match, detail: str, detail_line: int, taxonomy: str, result: ParseResult):
    title = clean_title(item.group("title"))
    authors_match = _AUTHORS_RE.match(detail)
    if not authors_match:
        result.problem(detail_line, f"line after {title!r} is not `*authors* [[PDF](...)]`; entry skipped")
        return None
    authors = [a for a in (straighten(x).strip(" .") for x in authors_match.group("authors").split(",")) if a]
    rest = authors_match.group("rest")
    links: list[RawLink] = []
    paper_ids: list[str | None] = []
    for label, url in MD_LINK_RE.findall(_BADGE_RE.sub("", rest)):
        if not url:
            result.problem(detail_line, f"empty [{label}] link of {title!r} ignored")
            continue
        kind, shown = link_kind(label)
        if kind == "paper":
            arxiv = arxiv_id_from_url(url)
            if paper_ids and arxiv != paper_ids[0]:
                result.problem(detail_line, f"second paper link {url} of {title!r} points to another paper; ignored")
                continue
            paper_ids.append(arxiv)
        links.append(RawLink(kind, url, shown))
    if not links:
        result.problem(number, f"paper {title!r} has no link; skipped")
        return None
    date = _DATE_RE.search(MD_LINK_RE.sub("", rest))
    first_version = f"{int(date.group(1)):04d}-{int(date.group(2)):02d}" if date else None
    venue = parse_venue(item.group("venue") or "")
    if venue.name == "arXiv" and not (paper_ids and paper_ids[0]):
        venue = Venue("preprint", venue.year)
    if venue.year is None and date:
        venue = Venue(venue.name, int(date.group(1)), None, venue.track)
    tags = sorted(set(_BADGE_RE.findall(rest)))
    record = Record(NAME, number, title, links, venue=venue, authors=authors, first_version=first_version,
                    taxonomy=taxonomy, tags=tags)
    record.section = section_for(taxonomy)
    return record
