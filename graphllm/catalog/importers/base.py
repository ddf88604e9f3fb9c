"""What every upstream importer produces: records in one common shape, and what it could not parse."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from graphllm.catalog.text import Venue

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
    section: str | None = None  # our section id, from the list's settings
    weak: bool = False  # the section only says "somewhere in this broad heading"
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
class ParseResult:
    source: str
    records: list[Record] = field(default_factory=list)
    problems: list[ParseProblem] = field(default_factory=list)
    commit_date: str | None = None
    entry_like: int = 0  # items and rows that link out: what the list holds, read or not
    skipped: Counter = field(default_factory=Counter)  # reason -> items under headings skipped by the settings

    def problem(self, line: int, message: str) -> None:
        self.problems.append(ParseProblem(self.source, line, message))


def read_source_field(folder: Path, name: str) -> str | None:
    """A `name: value` line of the SOURCE.txt in an upstream snapshot's folder, when there is one."""
    source = folder / "SOURCE.txt"
    if not source.exists():
        return None
    match = re.search(rf"^{name}:\s*(\S+)\s*$", source.read_text(encoding="utf-8"), re.M)
    return match.group(1) if match else None


def read_commit_date(path: Path) -> str | None:
    """The commit date of the snapshot holding `path` (its SOURCE.txt), when there is one."""
    date = read_source_field(path.parent, "commit_date")
    return date if date and re.fullmatch(r"\d{4}-\d{2}-\d{2}", date) else None
