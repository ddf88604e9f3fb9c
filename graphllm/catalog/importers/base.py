"""What every upstream importer produces: records in one common shape, and what it could not parse."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from graphllm.catalog.text import Venue, straighten

# `[label](url)`; URLs may hold one level of balanced parentheses.
MD_LINK_RE = re.compile(r"\[([^\[\]]*)\]\(\s*([^()\s]*(?:\([^()\s]*\)[^()\s]*)*)\s*\)")
IMG_RE = re.compile(r"!\[[^\]]*\]\([^)]*\)|<img[^>]*>")

LINK_KINDS = {
    "paper": "paper", "pdf": "paper", "arxiv": "paper",
    "code": "code", "github": "code",
    "project": "project", "project page": "project", "project papge": "project", "homepage": "project",
    "dataset": "dataset", "datasets": "dataset", "data": "dataset",
    "blog": "blog", "blog in chinese": "blog", "video": "video", "slides": "slides",
}


@dataclass
class RawLink:
    kind: str
    url: str
    label: str | None = None


@dataclass
class Record:
    """One entry as an upstream list states it, before merging."""

    source: str
    line: int
    title: str
    links: list[RawLink]
    venue: Venue = field(default_factory=lambda: Venue(None))
    authors: list[str] = field(default_factory=list)
    first_version: str | None = None
    section: str | None = None  # our section id, when the importer can tell
    taxonomy: str | None = None  # the upstream list's own heading path, kept as a tag
    tags: list[str] = field(default_factory=list)
    description: str | None = None
    code_repo: str | None = None  # from a stars badge, when the item names no code link


@dataclass
class ParseProblem:
    source: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.message}"


@dataclass
class SectionInfo:
    id: str
    title: str
    group: str | None = None


@dataclass
class ParseResult:
    source: str
    records: list[Record] = field(default_factory=list)
    problems: list[ParseProblem] = field(default_factory=list)
    sections: list[SectionInfo] = field(default_factory=list)
    commit_date: str | None = None

    def problem(self, line: int, message: str) -> None:
        self.problems.append(ParseProblem(self.source, line, message))


def link_kind(label: str) -> tuple[str, str | None]:
    """Our link kind for an upstream label, and the label itself when it says more than the kind."""
    key = straighten(label).casefold().strip()
    kind = LINK_KINDS.get(key)
    if kind is None:
        return "page", straighten(label) or None
    return kind, (straighten(label) if key not in (kind, "pdf", "paper", "datasets", "project papge") else None)


def heading_text(text: str) -> str:
    """A heading without images, HTML, badges or markdown emphasis."""
    text = IMG_RE.sub("", text)
    text = re.sub(r"<[^>]+>", "", text)
    return straighten(text.replace("*", ""))


def read_commit_date(path: Path) -> str | None:
    """The commit_date line of the SOURCE.txt beside an upstream copy, when there is one."""
    source = path.parent / "SOURCE.txt"
    if not source.exists():
        return None
    match = re.search(r"^commit_date:\s*(\d{4}-\d{2}-\d{2})\s*$", source.read_text(encoding="utf-8"), re.M)
    return match.group(1) if match else None
