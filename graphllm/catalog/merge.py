"""Merging upstream records into the catalog: one entry per paper, curated data never lost.

Records are one paper when they share an arXiv id, a DOI, an OpenReview or ACL Anthology id, a
normalised title or a paper URL (so a preprint and its venue version are one), or a name and a close
title ("GreaseLM: Graph REASoning Enhanced Language Models" and "... for Question Answering"). A record with no paper
link (a method name with its code) joins the one paper whose code link it shares. A group that matches
an existing entry only fills fields the entry lacks and adds links, tags and sources it does not have
yet; everything else is reported, never overwritten. Running the same merge twice changes nothing.

A new entry's section is the one most of its lists place it in (a list's broad, "weak" heading counts
only when no list is more precise; ties go to the list named first in catalog/upstreams.yaml).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from pydantic import ValidationError

from graphllm.catalog.importers.base import ParseProblem, ParseResult, Record
from graphllm.catalog.schema import Entry, Link, Taxonomy
from graphllm.catalog.store import Catalog
from graphllm.catalog.text import (
    arxiv_first_version,
    arxiv_id_from_url,
    canonical_paper_url,
    doi_from_url,
    github_repo,
    normalise_title,
    paper_keys,
    slug_base,
    url_identity,
    venue_text,
)
from graphllm.errors import CatalogError

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
    matched: Counter = field(default_factory=Counter)  # source -> records that matched an existing entry
    new: Counter = field(default_factory=Counter)  # source -> records that made or joined a new entry
    venue_notes: list[VenueNote] = field(default_factory=list)
    venue_conflicts: list[ParseProblem] = field(default_factory=list)
    problems: list[ParseProblem] = field(default_factory=list)
    skipped: dict[str, Counter] = field(default_factory=dict)  # source -> reason -> items


class _Groups:
    """Union-find over records."""

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


def title_keys(title: str) -> set[str]:
    """The normalised title, and for "Name: a long subtitle" also the subtitle (lists drop the name)."""
    keys = {f"title:{normalise_title(title)}"}
    head, sep, tail = title.partition(":")
    if sep and len(head.split()) <= 4 and len(normalise_title(tail).split()) >= 5:
        keys.add(f"title:{normalise_title(tail)}")
    return keys


def named_title(title: str) -> tuple[str, str] | None:
    """("greaselm", "graph reasoning enhanced language models") for "GreaseLM: Graph REASoning Enhanced ..."."""
    head, sep, tail = title.partition(":")
    if not sep or len(head.split()) != 1 or len(head.strip()) < 4:
        return None
    return head.strip().casefold(), normalise_title(tail)


def same_named_paper(a: str, b: str) -> bool:
    """Two titles of one paper that lists spell differently: one name, and every word of one subtitle in the
    other ("... for Graph Problems" / "... for Graph Computational Problems"), or nearly equal. Different papers
    sharing a name ("GraphFM: A Comprehensive Benchmark ..." / "GraphFM: A Scalable Framework ...") differ more."""
    first, second = named_title(a), named_title(b)
    if not first or not second or first[0] != second[0]:
        return False
    x, y = first[1], second[1]
    if len(x.split()) < 3 or len(y.split()) < 3:
        return False
    shorter, longer = sorted((x.split(), y.split()), key=len)
    return set(shorter) <= set(longer) or SequenceMatcher(None, x, y).ratio() >= 0.9


def record_keys(record: Record) -> set[str]:
    keys = title_keys(record.title)
    for link in record.links:
        if link.kind == "paper":
            keys |= paper_keys(link.url)
    return keys


def entry_keys(entry: Entry) -> set[str]:
    keys = title_keys(entry.title)
    if entry.arxiv_id:
        keys.add(f"arxiv:{entry.arxiv_id}")
    if entry.doi:
        keys.add(f"doi:{entry.doi}")
    for link in entry.links:
        if link.kind == "paper":
            keys |= paper_keys(link.url)
    return keys


def _code_keys(links) -> set[str]:
    return {f"code:{url_identity(link.url)}" for link in links if link.kind == "code"}


def _has_paper(record: Record) -> bool:
    return any(link.kind == "paper" for link in record.links)


def group_records(records: list[Record]) -> list[list[Record]]:
    groups = _Groups(len(records))
    first_with_key: dict[str, int] = {}
    for index, record in enumerate(records):
        for key in sorted(record_keys(record)):
            if key in first_with_key:
                groups.union(first_with_key[key], index)
            else:
                first_with_key[key] = index
    # A record without a paper link joins the one paper group that shares its code link.
    code_owners: dict[str, set[int]] = {}
    for index, record in enumerate(records):
        if _has_paper(record):
            for key in _code_keys(record.links):
                code_owners.setdefault(key, set()).add(groups.find(index))
    for index, record in enumerate(records):
        if not _has_paper(record):
            owners = {groups.find(o) for key in _code_keys(record.links) for o in code_owners.get(key, ())}
            if len(owners) == 1:
                groups.union(owners.pop(), index)
    # One name, close titles and the same year (where both say): one paper.
    by_name: dict[str, list[int]] = {}
    for index, record in enumerate(records):
        named = named_title(record.title)
        if named:
            by_name.setdefault(named[0], []).append(index)
    for indices in by_name.values():
        for i, a in enumerate(indices):
            for b in indices[i + 1:]:
                ya, yb = records[a].venue.year, records[b].venue.year
                if (ya is None or yb is None or ya == yb) and same_named_paper(records[a].title, records[b].title):
                    groups.union(a, b)
    by_root: dict[int, list[Record]] = {}
    for index, record in enumerate(records):
        by_root.setdefault(groups.find(index), []).append(record)
    return [by_root[root] for root in sorted(by_root)]


def venue_label(name: str | None, year: int | None, track: str | None = None) -> str:
    return venue_text(name, year, track) or "unknown venue"


def merge(catalog: Catalog | None, results: list[ParseResult], root, today: dt.date,
          taxonomy: Taxonomy | None = None, rank=None) -> tuple[Catalog, MergeReport]:
    """Merge parsed lists into `catalog` (or a new one with `taxonomy`); `rank(source)` orders the lists."""
    report = MergeReport()
    taxonomy = catalog.taxonomy if catalog else taxonomy
    if taxonomy is None:
        raise CatalogError(f"no taxonomy: write {root}/taxonomy.yaml (the sections, in display order) first")
    known = set(taxonomy.ids())
    unknown = sorted({r.section for result in results for r in result.records if r.section not in known})
    if unknown:
        raise CatalogError(f"sections {', '.join(unknown)} are named in catalog/upstreams.yaml but not in "
                           f"taxonomy.yaml; add them or change the rules")
    rank = rank or (lambda source: 0)
    sections = {sid: list(catalog.sections.get(sid, [])) if catalog else [] for sid in taxonomy.ids()}
    records = [record for result in results for record in result.records]
    commit_dates = {r.source: dt.date.fromisoformat(r.commit_date) for r in results if r.commit_date}
    for result in results:
        report.per_source[result.source] = len(result.records)
        report.problems.extend(result.problems)
        report.skipped[result.source] = Counter(result.skipped)

    existing_by_key: dict[str, Entry] = {}
    existing_by_name: dict[str, list[Entry]] = {}

    def index(entry: Entry, keys: set[str]) -> None:
        for key in keys:
            existing_by_key.setdefault(key, entry)
        if named := named_title(entry.title):
            existing_by_name.setdefault(named[0], []).append(entry)

    for entries in sections.values():
        for entry in entries:  # a code-only record may match an entry already here by its code
            index(entry, entry_keys(entry) | _code_keys(entry.links))
    used_ids = {entry.id for entries in sections.values() for entry in entries}

    for group in group_records(records):
        report.groups += 1
        by_source = Counter(record.source for record in group)
        for source, count in by_source.items():
            if count > 1:
                report.duplicates_within.setdefault(source, []).append([r for r in group if r.source == source])
        if len(by_source) > 1:
            report.overlaps += 1
        keys = set().union(*map(record_keys, group))
        if not any(_has_paper(r) for r in group):
            keys |= set().union(*(_code_keys(r.links) for r in group))
        matches = {id(e): e for key in sorted(keys) if (e := existing_by_key.get(key)) is not None}
        if not matches:
            matches = {id(e): e for r in group for e in existing_by_name.get((named_title(r.title) or ("",))[0], [])
                       if same_named_paper(e.title, r.title) and (e.year is None or r.venue.year in (None, e.year))}
        section, also_in = _placement(group, rank)
        fresh = _entry_from_group(group, section, also_in, used_ids, commit_dates, today, report)
        if fresh is None:
            continue
        if matches:
            target = next(iter(matches.values()))
            report.matched.update(by_source)
            if _fill(target, fresh, group, report):
                report.updated.append(target.id)
            continue
        report.new.update(by_source)
        used_ids.add(fresh.id)
        sections[section].append(fresh)
        report.added.append(fresh)
        index(fresh, entry_keys(fresh))
    return Catalog(root, taxonomy, sections), report


def _placement(group: list[Record], rank) -> tuple[str, list[str]]:
    """The entry's section (most lists' precise placement, else their broad one) and its other precise ones."""
    strong = [r for r in group if not r.weak]
    pool = strong or group
    votes = Counter(r.section for r in pool)
    first = {}
    for r in sorted(pool, key=lambda r: rank(r.source)):
        first.setdefault(r.section, rank(r.source))
    section = max(votes, key=lambda s: (votes[s], -first[s]))
    also_in = sorted({r.section for r in strong if r.section != section})
    return section, also_in


def _best_venue(group: list[Record], title: str, report: MergeReport):
    """A real venue beats a preprint; when two lists name different real venues the first list wins."""
    real = [r for r in group if r.venue.name not in _NO_VENUE]
    if not real:
        return next((r.venue for r in group if r.venue.name), group[0].venue)
    chosen = real[0].venue
    for record in real[1:]:
        other = record.venue
        if (other.name, other.year) != (chosen.name, chosen.year):
            report.venue_conflicts.append(ParseProblem(
                record.source, record.line,
                f"venue {venue_label(other.name, other.year, other.track)!r} differs from "
                f"{venue_label(chosen.name, chosen.year, chosen.track)!r} given for {title!r} by "
                f"{real[0].source}; kept the latter"))
    return chosen


def _entry_from_group(group, section, also_in, used_ids, commit_dates, today, report) -> Entry | None:
    first = next((r for r in group if _has_paper(r)), group[0])
    title = first.title
    venue = _best_venue(group, title, report)
    paper_urls = [link.url for r in group for link in r.links if link.kind == "paper"]
    arxiv_id = next((a for url in paper_urls if (a := arxiv_id_from_url(url))), None)
    doi = next((d for url in paper_urls if (d := doi_from_url(url))), None)
    first_version = (arxiv_first_version(arxiv_id) if arxiv_id else None) or next(
        (r.first_version for r in group if r.first_version), None)
    if not first_version and venue.name == "arXiv" and venue.year and venue.month:
        first_version = f"{venue.year:04d}-{venue.month:02d}"
    year = venue.year or (int(first_version[:4]) if first_version else None)
    links = _merge_links([], [link for r in group for link in r.links])
    code_repo = next((repo for link in links if link.kind == "code" and (repo := github_repo(link.url))), None)
    code_repo = code_repo or next((r.code_repo for r in group if r.code_repo), None)
    dates = [commit_dates[r.source] for r in group if r.source in commit_dates]
    try:
        return Entry(
            id=new_entry_id(title, year, used_ids), title=title,
            authors=next((r.authors for r in group if r.authors), []),
            venue=venue.name, track=venue.track, year=year, first_version=first_version, arxiv_id=arxiv_id,
            doi=doi, links=links, code_repo=code_repo,
            description=next((r.description for r in group if r.description), None),
            also_in=also_in, tags=_tags(group), added=min(dates) if dates else today,
            sources=sorted({r.source for r in group}),
        )
    except ValidationError as exc:
        err = exc.errors()[0]
        what = ".".join(str(part) for part in err["loc"])
        reason = err["msg"].removeprefix("Value error, ")
        report.problems.append(ParseProblem(first.source, first.line, f"{title!r} not imported: {what}: {reason}"))
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
    for name in ("venue", "track", "year", "first_version", "arxiv_id", "doi", "code_repo", "description"):
        if getattr(target, name) is None and getattr(fresh, name) is not None:
            if name == "track" and target.venue is not None:
                continue
            setattr(target, name, getattr(fresh, name))
    if not target.authors and fresh.authors:
        target.authors = list(fresh.authors)
    target.links = _merge_links(target.links, fresh.links)
    target.tags = sorted(set(target.tags) | set(fresh.tags), key=str.casefold)
    if target.sources and fresh.added < target.added:
        target.added = fresh.added  # an upstream snapshot older than the one it was first seen in
    target.sources = sorted(set(target.sources) | set(fresh.sources))
    if (fresh.venue not in _NO_VENUE and (target.venue, target.year) != (fresh.venue, fresh.year)):
        report.venue_notes.append(VenueNote(
            target.id, target.title, venue_label(target.venue, target.year, target.track),
            venue_label(fresh.venue, fresh.year, fresh.track), ", ".join(sorted({r.source for r in group}))))
    return target.model_dump() != before
