"""The upstream lists as data: `catalog/upstreams.yaml` names each list, where its snapshot is, its
licence, and how its headings map to the catalog's sections (see the architecture page of the docs).

Nothing here names a particular list: import, sync, NOTICE and the site's credits all read this file.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from graphllm.catalog.store import UPSTREAMS_FILE
from graphllm.errors import CatalogError
from graphllm.settings import checked_pattern, read_yaml, validated


def _path_parts(heading: str) -> tuple[str, ...]:
    return tuple(part.strip().casefold() for part in heading.split(" / ") if part.strip())


def _matches_at(path: tuple[str, ...], depth: int, heading: str) -> bool:
    """Whether `heading` ("A / B") names the headings of `path` that end at index `depth`."""
    parts = _path_parts(heading)
    start = depth - len(parts) + 1
    return start >= 0 and tuple(p.casefold() for p in path[start: depth + 1]) == parts


class SectionRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    heading: str | None = None
    title: str | None = Field(default=None, description="regular expression the entry's title must match")
    section: str
    weak: bool = False

    @field_validator("title")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        return value if value is None else checked_pattern(value, "title pattern")

    def accepts(self, title: str) -> bool:
        return self.title is None or re.search(self.title, title) is not None


@dataclass(frozen=True)
class Placement:
    section: str
    weak: bool


class Upstream(BaseModel):
    """One community list."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
    title: str
    repository: str | None = None
    raw_url: str | None = None
    license: str | None = None
    snapshot: str | None = Field(default=None, description="file or folder in the shared data directory")
    added: dt.date | None = Field(default=None, description="when the list was first merged, for a snapshot "
                                                            "without a SOURCE.txt commit date")
    sections: list[SectionRule] = Field(default_factory=list)
    skip: dict[str, str] = Field(default_factory=dict)

    def readme(self, data_dir: Path) -> Path:
        path = Path(data_dir) / (self.snapshot or self.name)
        return path / "README.md" if path.is_dir() or not path.suffix else path


class Upstreams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    defaults: dict[str, dict[str, str]] = Field(default_factory=dict)
    keywords: list[SectionRule] = Field(default_factory=list)
    lists: list[Upstream]

    def get(self, name: str) -> Upstream:
        for upstream in self.lists:
            if upstream.name == name:
                return upstream
        raise CatalogError(f"unknown upstream list {name!r}; known: {', '.join(self.names())} "
                           f"(catalog/{UPSTREAMS_FILE})")

    def names(self) -> list[str]:
        return [upstream.name for upstream in self.lists]

    def rank(self, name: str) -> int:
        """Lists earlier in the file win ties between sections and titles."""
        names = self.names()
        return names.index(name) if name in names else len(names)

    def skip_reason(self, upstream: Upstream | None, path: tuple[str, ...]) -> str | None:
        rules = {**self.defaults.get("skip", {}), **(upstream.skip if upstream else {})}
        for depth in range(len(path)):
            for heading, reason in rules.items():
                if _matches_at(path, depth, heading):
                    return reason
        return None

    def place(self, upstream: Upstream | None, path: tuple[str, ...], title: str) -> Placement | None:
        """The section a list's heading path gives an entry: the deepest heading with a rule whose title
        pattern matches, else the deepest heading with a plain rule, else the list's rule without a
        heading, else (for a list nobody configured) the keywords.

        None when a configured list has no rule for any heading of the path (a gap in the settings).
        """
        rules = upstream.sections if upstream else []
        # Rules with a title pattern refine their heading at any depth, so they are tried first.
        for titled in (True, False):
            for depth in range(len(path) - 1, -1, -1):
                for rule in rules:
                    if (rule.heading and (rule.title is not None) == titled
                            and _matches_at(path, depth, rule.heading) and rule.accepts(title)):
                        return Placement(rule.section, rule.weak)
        for rule in rules:
            if rule.heading is None and rule.accepts(title):
                return Placement(rule.section, rule.weak)
        return None if rules else self.by_keywords(title)

    def by_keywords(self, title: str) -> Placement:
        for rule in self.keywords:
            if rule.accepts(title):
                return Placement(rule.section, True)
        return Placement("other-applications", True)

    def sections_named(self) -> set[str]:
        return {rule.section for upstream in self.lists for rule in upstream.sections} | \
            {rule.section for rule in self.keywords}


def load_upstreams(catalog_dir: str | Path) -> Upstreams:
    path = Path(catalog_dir) / UPSTREAMS_FILE
    return validated(Upstreams, read_yaml(path, CatalogError), str(path), CatalogError)
