"""Importer for XiaoxinHe/Awesome-Graph-LLM.

Format: `## Section` / `### Subsection` headings; paper items
`- (*Venue'YY*) Title [[paper](url)][[code](url)]![GitHub Repo stars](badge)`; resource items
`- [Name](url). Description`. Venue labels and link labels are inconsistent; see text.parse_venue.
"""

from __future__ import annotations

import re

from graphllm.catalog.importers.base import (
    IMG_RE,
    MD_LINK_RE,
    ParseResult,
    RawLink,
    Record,
    SectionInfo,
    heading_text,
    link_kind,
)
from graphllm.catalog.text import clean_title, github_repo, parse_venue, slugify, straighten

NAME = "awesome-graph-llm"
TITLE = "XiaoxinHe/Awesome-Graph-LLM"
DEFAULT_PATH = "awesome-graph-llm/README.md"
_SKIP_HEADINGS = {"table of contents", "contributing", "star history"}
_PAPER_RE = re.compile(r"^- \(\s*\*?(?P<venue>[^)]*?)\*?\s*\)\s*(?P<rest>.+)$")
_RESOURCE_RE = re.compile(r"^- \[(?P<name>[^\]]+)\]\((?P<url>[^)\s]+)\)\s*[.:]?\s*(?P<desc>.*)$")
_STARS_RE = re.compile(r"img\.shields\.io/github/stars/([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)")


def parse(text: str, result: ParseResult | None = None) -> ParseResult:
    result = result or ParseResult(NAME)
    h2: str | None = None
    section: SectionInfo | None = None
    in_code = False
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("```"):
            in_code = not in_code
            continue
        if in_code:
            continue
        if line.startswith("## ") or line.startswith("### "):
            title = heading_text(line.lstrip("#"))
            if line.startswith("## "):
                h2, section = title, None
                if title.casefold() in _SKIP_HEADINGS:
                    h2 = None
                    continue
            if h2 is None:
                continue
            group = h2 if line.startswith("### ") else None
            section = SectionInfo(slugify(title), title, group)
            result.sections.append(section)
            continue
        if not line.startswith("- ") or section is None:
            continue
        record = _parse_item(line, number, result)
        if record:
            record.section = section.id
            record.taxonomy = f"{section.group} / {section.title}" if section.group else section.title
            result.records.append(record)
    # A heading that only groups subsections ("Applications") is not a section of its own.
    grouping = {s.group for s in result.sections if s.group}
    result.sections = [s for s in result.sections if s.title not in grouping or s.group]
    return result


def _parse_item(line: str, number: int, result: ParseResult) -> Record | None:
    paper = _PAPER_RE.match(line)
    if paper:
        rest = paper.group("rest")
        start = rest.find("[[")
        if start < 0:
            start = rest.find("[")
        title = clean_title(rest if start < 0 else rest[:start])
        tail = rest[len(rest) if start < 0 else start:]
        stars = _STARS_RE.search(tail)
        links = _links(IMG_RE.sub("", tail), number, result)
        leftover = MD_LINK_RE.sub("", IMG_RE.sub("", tail)).replace("[", "").replace("]", "").strip()
        if leftover:
            result.problem(number, f"text after the links was not understood and is not imported: {leftover!r}")
        if not title:
            result.problem(number, "paper item without a title; skipped")
            return None
        if not links:
            result.problem(number, f"paper {title!r} has no link; skipped")
            return None
        record = Record(NAME, number, title, links, venue=parse_venue(paper.group("venue")))
        if stars:
            record.code_repo = stars.group(1)
        return record
    resource = _RESOURCE_RE.match(line)
    if resource:
        url = resource.group("url")
        kind = "code" if github_repo(url) else "page"
        desc = straighten(resource.group("desc")) or None
        if desc and not desc.endswith((".", "!", "?")):
            desc += "."
        return Record(NAME, number, clean_title(resource.group("name")), [RawLink(kind, url)], description=desc)
    result.problem(number, f"list item not understood; skipped: {line[:80]!r}")
    return None


def _links(text: str, number: int, result: ParseResult) -> list[RawLink]:
    links = []
    for label, url in MD_LINK_RE.findall(text):
        if not url:
            result.problem(number, f"empty [{label}] link ignored")
            continue
        kind, shown = link_kind(label)
        links.append(RawLink(kind, url, shown))
    return links
