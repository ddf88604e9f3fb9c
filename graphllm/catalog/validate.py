"""Validation of the catalog directory: schema errors per file, then checks across entries.

Never writes. Every problem names the file and line, and for duplicates both entries.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from graphllm.catalog.store import Catalog, Located, Problem, read_catalog
from graphllm.catalog.text import normalise_title, url_identity


@dataclass
class ValidationReport:
    catalog: Catalog | None
    problems: list[Problem]
    entries: int

    @property
    def ok(self) -> bool:
        return not self.problems


def validate_catalog(root: str | Path) -> ValidationReport:
    catalog, located, problems = read_catalog(root)
    known = set(catalog.taxonomy.ids()) if catalog else set()
    problems.extend(_duplicates(located))
    for item in located:
        for section in item.entry.also_in:
            if known and section not in known:
                problems.append(Problem(item.file, item.field_lines.get("also_in", item.line),
                                        f"unknown section {section!r} in also_in", item.entry.id, "also_in"))
            elif section == item.section:
                problems.append(Problem(item.file, item.field_lines.get("also_in", item.line),
                                        "also_in repeats the entry's own section", item.entry.id, "also_in"))
    problems.sort(key=lambda p: (p.file, p.line or 0, p.message))
    return ValidationReport(catalog, problems, len(located))


def _duplicates(located: list[Located]) -> list[Problem]:
    problems = []
    checks = [
        ("id", "id", lambda e: [e.id]),
        ("arXiv id", "arxiv_id", lambda e: [e.arxiv_id] if e.arxiv_id else []),
        ("DOI", "doi", lambda e: [e.doi] if e.doi else []),
        ("normalised title", "title", lambda e: [normalise_title(e.title)]),
        ("paper URL", "links", lambda e: sorted({url_identity(link.url) for link in e.links
                                                 if link.kind == "paper"})),
    ]
    for what, field_name, keys_of in checks:
        first: dict[str, Located] = {}
        for item in located:
            for key in keys_of(item.entry):
                other = first.setdefault(key, item)
                if other is item:
                    continue
                problems.append(Problem(
                    item.file, item.field_lines.get(field_name, item.line),
                    f"duplicate {what} {key!r}: same as entry {other.entry.id!r} at {other.file}:{other.line}",
                    item.entry.id, field_name))
    return problems
