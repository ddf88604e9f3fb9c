"""The typed schema of the catalog: what a paper entry and a section may contain.

`catalog/taxonomy.yaml` lists the sections in display order; `catalog/<section-id>.yaml` holds the
entries of one section as a YAML list. Unknown fields are errors, so a typo never goes unnoticed.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from graphllm.catalog.text import ARXIV_ID_RE, url_problem

LinkKind = Literal["paper", "code", "project", "dataset", "blog", "video", "slides", "docs", "page"]

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"


def _check_url(value: str) -> str:
    problem = url_problem(value)
    if problem:
        raise ValueError(f"bad URL {value!r}: {problem}")
    return value


def _check_arxiv_id(value: str) -> str:
    if not ARXIV_ID_RE.match(value):
        raise ValueError(f"{value!r} is not an arXiv id (like 2310.04560, without a version suffix)")
    return value


def _check_text(value: str) -> str:
    if not value.strip() or value != value.strip():
        raise ValueError("must be non-empty text without leading or trailing spaces")
    return value


def _check_month(value: str) -> str:
    match = re.fullmatch(r"(\d{4})-(\d{2})(?:-(\d{2}))?", value)
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValueError(f"{value!r} is not a date like 2023-10 or 2023-10-05")
    if match.group(3):
        dt.date.fromisoformat(value)
    return value


Url = Annotated[str, AfterValidator(_check_url)]
Text = Annotated[str, AfterValidator(_check_text)]
Slug = Annotated[str, Field(pattern=SLUG_PATTERN)]


class Link(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: LinkKind
    url: Url
    label: Text | None = Field(default=None, description="shown instead of the kind, e.g. 'blog in Chinese'")


class Entry(BaseModel):
    """One paper or resource. The file it lives in is its primary section."""

    model_config = ConfigDict(extra="forbid")

    id: Slug
    title: Text
    authors: list[Text] = Field(default_factory=list)
    venue: Text | None = Field(default=None, description="'arXiv' for preprints, None when unknown")
    track: Text | None = Field(default=None, description="e.g. 'D&B' or a workshop name")
    year: Annotated[int, Field(ge=1950, le=2100)] | None = None
    first_version: Annotated[str, AfterValidator(_check_month)] | None = Field(
        default=None, description="YYYY-MM[-DD] of the first public version"
    )
    arxiv_id: Annotated[str, AfterValidator(_check_arxiv_id)] | None = None
    doi: Annotated[str, Field(pattern=r"^10\.\d{4,9}/\S+$")] | None = Field(default=None, description="lower case")
    links: Annotated[list[Link], Field(min_length=1)]
    code_repo: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")] | None = None
    stars: Annotated[int, Field(ge=0)] | None = None
    archived: bool | None = None
    last_push: dt.date | None = Field(default=None, description="last push to the code repository")
    license: Text | None = Field(default=None, description="SPDX id of the code's licence")
    description: Text | None = None
    also_in: list[Slug] = Field(default_factory=list, description="further sections this entry belongs to")
    tags: list[Text] = Field(default_factory=list)
    added: dt.date
    sources: list[Slug] = Field(default_factory=list, description="upstream lists the entry came from")

    def link(self, kind: str) -> str | None:
        return next((link.url for link in self.links if link.kind == kind), None)

    @property
    def paper_url(self) -> str | None:
        return self.link("paper")

    @property
    def code_url(self) -> str | None:
        return self.link("code")


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Slug
    title: Text
    group: Text | None = Field(default=None, description="a heading the section is listed under")
    description: Text | None = None


class Taxonomy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sections: Annotated[list[Section], Field(min_length=1)]

    def ids(self) -> list[str]:
        return [section.id for section in self.sections]

    def get(self, section_id: str) -> Section:
        return next(section for section in self.sections if section.id == section_id)


ENTRY_FIELDS = list(Entry.model_fields)
