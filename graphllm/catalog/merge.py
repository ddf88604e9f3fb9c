"""Merging upstream records into the catalog: one entry per paper, curated data never lost.

Records are grouped when they share an arXiv id, a normalised title or a paper URL (so a preprint
and its venue version are one paper). A group that matches an existing entry only fills fields the
entry lacks and adds links, tags and sources it does not have yet; everything else is reported,
never overwritten. Running the same merge twice therefore changes nothing the second time.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from graphllm.catalog.importers.base import ParseProblem, ParseResult, Record
from graphllm.catalog.schema import Entry, Link, Section, Taxonomy
from graphllm.catalog.store import Catalog
from graphllm.catalog.text import (
    arxiv_first_version,
    arxiv_id_from_url,
    canonical_paper_url,
    github_repo,
    normalise_title,
    slug_base,
    url_identity,
    venue_text,
)

_NO_VENUE = {None, "arXiv", "preprint"}


@dataclass
class VenueNote:
    entry: str
    title: str
    current: str
    upstream: str
    source: str


@dataclass
class MergeReport:
    per_source: dict[str, int] = field(default_factory=dict)
    duplicates_within: dict[str, list[list[Record]]] = field(default_factory=dict)
    overlaps: int = 0
    groups: int = 0
    added: list[Entry] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    venue_notes: list[VenueNote] = field(default_factory=list)
    problems: list[ParseProblem] = field(default_factory=list)
    new_sections: list[str] = field(default_factory=list)


class _Groups:
    """Union-find over records, keyed by every identity a record carries."""

    def __init__(self, count: int) -> None:
        self.parent = list(range(count))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def record_keys(record: Record) -> set[str]:
    keys = {f"title:{normalise_title(record.title)}"}
    for link in record.links:
        if link.kind == "paper":
            keys.add(f"url:{url_identity(link.url)}")
            arxiv = arxiv_id_from_url(link.url)
            if arxiv:
                keys.add(f"arxiv:{arxiv}")
    return keys


def entry_keys(entry: Entry) -> set[str]:
    keys = {f"title:{normalise_title(entry.title)}"}
    if entry.arxiv_id:
        keys.add(f"arxiv:{entry.arxiv_id}")
    for link in entry.links:
        if link.kind == "paper":
            keys.add(f"url:{url_identity(link.url)}")
    return keys


def group_records(records: list[Record]) -> list[list[Record]]:
    groups = _Groups(len(records))
    first_with_key: dict[str, int] = {}
    for index, record in enumerate(records):
        for key in sorted(record_keys(record)):
            if key in first_with_key:
                groups.union(first_with_key[key], index)
            else:
                first_with_key[key] = index
    by_root: dict[int, list[Record]] = {}
    for index, record in enumerate(records):
        by_root.setdefault(groups.find(index), []).append(record)
    return [by_root[root] for root in sorted(by_root)]


def venue_label(name: str | None, year: int | None, track: str | None = None) -> str:
    return venue_text(name, year, track) or "unknown venue"


def merge(catalog: Catalog | None, results: list[ParseResult], root, today: dt.date) -> tuple[Catalog, MergeReport]:
    report = MergeReport()
    taxonomy = _merge_taxonomy(catalog.taxonomy if catalog else None, results, report)
    sections = {sid: list(catalog.sections.get(sid, [])) if catalog else [] for sid in taxonomy.ids()}
    records = [record for result in results for record in result.records]
    commit_dates = {r.source: dt.date.fromisoformat(r.commit_date) for r in results if r.commit_date}
    for result in results:
        report.per_source[result.source] = len(result.records)
        report.problems.extend(result.problems)

    existing_by_key: dict[str, Entry] = {}
    for entries in sections.values():
        for entry in entries:
            for key in entry_keys(entry):
                existing_by_key.setdefault(key, entry)
    used_ids = {entry.id for entries in sections.values() for entry in entries}

    for group in group_records(records):
        report.groups += 1
        by_source = Counter(record.source for record in group)
        for source, count in by_source.items():
            if count > 1:
                report.duplicates_within.setdefault(source, []).append([r for r in group if r.source == source])
        if len(by_source) > 1:
            report.overlaps += 1
        matches = {id(e): e for key in sorted(set().union(*map(record_keys, group)))
                   if (e := existing_by_key.get(key)) is not None}
        fresh = _entry_from_group(group, taxonomy, used_ids, commit_dates, today, report)
        if fresh is None:
            continue
        if matches:
            target = next(iter(matches.values()))
            if _fill(target, fresh, group, report):
                report.updated.append(target.id)
            continue
        used_ids.add(fresh.id)
        sections[_section_of(group, taxonomy)].append(fresh)
        report.added.append(fresh)
        for key in entry_keys(fresh):
            existing_by_key.setdefault(key, fresh)
    return Catalog(root, taxonomy, sections), report


def _merge_taxonomy(taxonomy: Taxonomy | None, results: list[ParseResult], report: MergeReport) -> Taxonomy:
    sections = list(taxonomy.sections) if taxonomy else []
    known = {s.id for s in sections}
    for result in results:
        for info in result.sections:
            if info.id not in known:
                known.add(info.id)
                sections.append(Section(id=info.id, title=info.title, group=info.group))
                report.new_sections.append(info.id)
    return Taxonomy(sections=sections)


def _section_of(group: list[Record], taxonomy: Taxonomy) -> str:
    known = set(taxonomy.ids())
    for record in group:
        if record.section in known:
            return record.section
    return "others" if "others" in known else taxonomy.ids()[-1]


def _best_venue(group: list[Record], title: str, report: MergeReport):
    """A real venue beats a preprint; when two lists name different real venues the first list wins."""
    real = [r for r in group if r.venue.name not in _NO_VENUE]
    if not real:
        return next((r.venue for r in group if r.venue.name), group[0].venue)
    chosen = real[0].venue
    for record in real[1:]:
        other = record.venue
        if (other.name, other.year) != (chosen.name, chosen.year):
            report.problems.append(ParseProblem(
                record.source, record.line,
                f"venue {venue_label(other.name, other.year, other.track)!r} differs from "
                f"{venue_label(chosen.name, chosen.year, chosen.track)!r} given for {title!r} by "
                f"{real[0].source}; kept the latter"))
    return chosen


def _entry_from_group(group, taxonomy, used_ids, commit_dates, today, report) -> Entry | None:
    first = group[0]
    title = first.title
    venue = _best_venue(group, title, report)
    arxiv_id = next((a for r in group for link in r.links if link.kind == "paper"
                     and (a := arxiv_id_from_url(link.url))), None)
    first_version = (arxiv_first_version(arxiv_id) if arxiv_id else None) or next(
        (r.first_version for r in group if r.first_version), None)
    if not first_version and venue.name == "arXiv" and venue.year and venue.month:
        first_version = f"{venue.year:04d}-{venue.month:02d}"
    year = venue.year or (int(first_version[:4]) if first_version else None)
    links = _merge_links([], [link for r in group for link in r.links])
    code_repo = next((repo for link in links if link.kind == "code" and (repo := github_repo(link.url))), None)
    code_repo = code_repo or next((r.code_repo for r in group if r.code_repo), None)
    section = _section_of(group, taxonomy)
    also_in = sorted({r.section for r in group if r.section and r.section != section
                      and r.section in set(taxonomy.ids())})
    dates = [commit_dates[r.source] for r in group if r.source in commit_dates]
    entry_id = new_entry_id(title, year, used_ids)
    try:
        return Entry(
            id=entry_id, title=title,
            authors=next((r.authors for r in group if r.authors), []),
            venue=venue.name, track=venue.track, year=year, first_version=first_version, arxiv_id=arxiv_id,
            links=links, code_repo=code_repo,
            description=next((r.description for r in group if r.description), None),
            also_in=also_in, tags=_tags(group), added=min(dates) if dates else today,
            sources=sorted({r.source for r in group}),
        )
    except ValueError as exc:
        report.problems.append(ParseProblem(first.source, first.line, f"{title!r} not imported: {exc}"))
        return None


def _tags(group: list[Record]) -> list[str]:
    tags = {r.taxonomy for r in group if r.taxonomy} | {t for r in group for t in r.tags}
    return sorted(tags, key=str.casefold)


def new_entry_id(title: str, year: int | None, used: set[str]) -> str:
    base = slug_base(title)
    candidates = [base] + ([f"{base}-{year}"] if year else [])
    for candidate in candidates:
        if candidate not in used:
            return candidate
    n = 2
    while f"{candidates[-1]}-{n}" in used:
        n += 1
    return f"{candidates[-1]}-{n}"


def _merge_links(existing: list[Link], incoming) -> list[Link]:
    """Existing links first, then new ones; arXiv paper links in canonical abs form; no URL twice."""
    links = list(existing)
    seen = {url_identity(link.url) for link in links}
    for raw in incoming:
        url = canonical_paper_url(raw.url) if raw.kind == "paper" else raw.url.strip()
        key = url_identity(url)
        if key in seen:
            continue
        seen.add(key)
        links.append(Link(kind=raw.kind, url=url, label=raw.label))
    return links


def _fill(target: Entry, fresh: Entry, group: list[Record], report: MergeReport) -> bool:
    """Give `target` what it lacks from `fresh`; report venue differences instead of overwriting."""
    before = target.model_dump()
    for name in ("venue", "track", "year", "first_version", "arxiv_id", "code_repo", "description"):
        if getattr(target, name) is None and getattr(fresh, name) is not None:
            if name == "track" and target.venue is not None:
                continue
            setattr(target, name, getattr(fresh, name))
    if not target.authors and fresh.authors:
        target.authors = list(fresh.authors)
    target.links = _merge_links(target.links, fresh.links)
    target.tags = sorted(set(target.tags) | set(fresh.tags), key=str.casefold)
    target.sources = sorted(set(target.sources) | set(fresh.sources))
    if (fresh.venue not in _NO_VENUE and (target.venue, target.year) != (fresh.venue, fresh.year)):
        report.venue_notes.append(VenueNote(
            target.id, target.title, venue_label(target.venue, target.year, target.track),
            venue_label(fresh.venue, fresh.year, fresh.track), ", ".join(sorted({r.source for r in group}))))
    return target.model_dump() != before
