"""`graphllm catalog add`: one paper by arXiv id or URL, with metadata from the arXiv API."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from graphllm.catalog.clients.arxiv import ArxivClient, parse_identifier
from graphllm.catalog.merge import new_entry_id
from graphllm.catalog.schema import Entry, Link
from graphllm.catalog.store import Catalog, dump_yaml, entry_to_data, load_catalog, preview_diff, today, write_catalog
from graphllm.catalog.text import normalise_title
from graphllm.errors import CatalogError


@dataclass
class AddOutcome:
    entry: Entry
    section: str
    diff: str
    changed: list[Path]

    def entry_yaml(self) -> str:
        return dump_yaml([entry_to_data(self.entry)])


def add_paper(catalog_dir: str | Path, identifier: str, code: str | None = None, section: str = "other-applications",
              arxiv: ArxivClient | None = None, dry_run: bool = False) -> AddOutcome:
    catalog = load_catalog(catalog_dir)
    if section not in catalog.taxonomy.ids():
        raise CatalogError(f"unknown section {section!r}; choose one of: {', '.join(catalog.taxonomy.ids())}")
    if code is not None and not _is_repo(code):
        raise CatalogError(f"--code must be OWNER/REPO (e.g. pyg-team/pytorch_geometric), not {code!r}")
    arxiv_id = parse_identifier(identifier)
    _refuse_duplicate(catalog, arxiv_id=arxiv_id)
    paper = (arxiv or ArxivClient()).paper(arxiv_id)
    _refuse_duplicate(catalog, title=paper.title)
    links = [Link(kind="paper", url=paper.abs_url)]
    if code:
        links.append(Link(kind="code", url=f"https://github.com/{code}"))
    year = int(paper.published[:4])
    entry = Entry(id=new_entry_id(paper.title, year, {e.id for e in catalog.entries()}), title=paper.title,
                  authors=paper.authors, venue="arXiv", year=year, first_version=paper.published,
                  arxiv_id=paper.arxiv_id, links=links, code_repo=code, added=today())
    catalog.sections[section].append(entry)
    if dry_run:
        return AddOutcome(entry, section, preview_diff(catalog), [])
    return AddOutcome(entry, section, "", write_catalog(catalog))


def _is_repo(text: str) -> bool:
    parts = text.split("/")
    return len(parts) == 2 and all(parts) and all(c.isalnum() or c in "-_." for c in text.replace("/", ""))


def _refuse_duplicate(catalog: Catalog, arxiv_id: str | None = None, title: str | None = None) -> None:
    home = catalog.section_of()
    for entry in catalog.entries():
        same_id = arxiv_id and entry.arxiv_id == arxiv_id
        same_title = title and normalise_title(entry.title) == normalise_title(title)
        if same_id or same_title:
            what = f"arXiv id {arxiv_id}" if same_id else "title"
            raise CatalogError(f"already in the catalog (same {what}): entry {entry.id!r} in "
                               f"catalog/{home[entry.id]}.yaml, {entry.title!r}")

