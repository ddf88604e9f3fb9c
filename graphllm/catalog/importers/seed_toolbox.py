"""Importer for the project's own seed list (`seed-toolbox.md`): a Markdown table of the tuning and
inference works the experiments build on, which becomes a section of its own."""

from __future__ import annotations

import re

from graphllm.catalog.importers.base import ParseResult, RawLink, Record, SectionInfo
from graphllm.catalog.text import Venue, arxiv_abs_url, clean_title, github_repo, parse_venue, slugify

NAME = "seed-toolbox"
TITLE = "graphllm seed toolbox"
DEFAULT_PATH = "seed-toolbox.md"
DEFAULT_SECTION = "Efficient tuning & inference for graph LLMs"
_BLANK = {"", "—", "-", "–"}


def parse(text: str, result: ParseResult | None = None) -> ParseResult:
    result = result or ParseResult(NAME)
    named = re.search(r'own section \("([^"]+)"\)', text)
    title = named.group(1) if named else DEFAULT_SECTION
    section = SectionInfo(slugify(title), title)
    result.sections.append(section)
    header_seen = False
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not header_seen:
            header_seen = True
            continue
        if all(set(c) <= set("-: ") for c in cells):
            continue
        if len(cells) != 4:
            result.problem(number, f"table row has {len(cells)} cells, expected 4 (work, kind, paper, code); skipped")
            continue
        record = _record(cells, number, result)
        if record:
            record.section = section.id
            result.records.append(record)
    return result


def _record(cells: list[str], number: int, result: ParseResult) -> Record | None:
    work, kind, paper, pages = cells
    venue = Venue(None)
    paren = re.search(r"\s*\(([^()]*)\)\s*$", work)
    if paren:
        inside = paren.group(1)
        year = re.search(r"\b(19|20)\d{2}\b", inside)
        parsed = parse_venue(inside)
        if "blog" in inside.casefold() and year:
            venue = Venue("Blog", int(year.group(0)))
        elif parsed.year:
            venue = parsed
        if venue.name:
            work = work[: paren.start()]
    links: list[RawLink] = []
    if paper not in _BLANK:
        arxiv = re.fullmatch(r"arXiv\s+(\S+)", paper)
        if arxiv:
            links.append(RawLink("paper", arxiv_abs_url(arxiv.group(1))))
        elif paper.startswith("http"):
            links.append(RawLink("paper", paper))
        else:
            result.problem(number, f"paper cell {paper!r} is neither 'arXiv <id>' nor a URL; ignored")
    for url in (u.strip() for u in pages.split(",")):
        if url in _BLANK:
            continue
        if not url.startswith("http"):
            result.problem(number, f"code/page cell item {url!r} is not a URL; ignored")
            continue
        links.append(RawLink("code" if github_repo(url) else "project", url))
    if not links:
        result.problem(number, f"{work!r} has neither a paper nor a page; skipped")
        return None
    tags = [kind] if kind not in _BLANK else []
    return Record(NAME, number, clean_title(work), links, venue=venue, tags=tags)
