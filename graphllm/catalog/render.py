"""The awesome-style Markdown list rendered from the catalog.

Deterministic (same catalog, same bytes) and shaped for awesome-lint: a `Contents` ToC whose items
match the headings in order, list items `- [Title](url) - Description.` and no URL twice.
"""

from __future__ import annotations

import re
import unicodedata

from graphllm.catalog.schema import Entry, Section
from graphllm.catalog.store import Catalog, sort_key
from graphllm.catalog.text import venue_text

LIST_FILE = "LIST.md"
KIND_LABELS = {
    "paper": "Paper", "code": "Code", "project": "Project page", "dataset": "Dataset", "blog": "Blog",
    "video": "Video", "slides": "Slides", "docs": "Docs", "page": "Page",
}


def github_slug(text: str, seen: dict[str, int]) -> str:
    """The anchor GitHub gives a heading (github-slugger's rule), unique within one document."""
    slug = "".join(ch for ch in text.lower() if ch in " -_" or unicodedata.category(ch)[0] in "LNM")
    slug = slug.replace(" ", "-")
    count = seen.get(slug, 0)
    seen[slug] = count + 1
    return f"{slug}-{count}" if count else slug


def escape(text: str) -> str:
    return re.sub(r"([\\`*_\[\]<>|])", r"\\\1", text)


def link_label(kind: str, label: str | None) -> str:
    return label[:1].upper() + label[1:] if label else KIND_LABELS[kind]


def primary_link(entry: Entry):
    return next((link for kind in ("paper", "code", "project", "page") for link in entry.links
                 if link.kind == kind), entry.links[0])


def _url_key(url: str) -> str:
    return re.sub(r"^https?://(www\.)?", "", url).rstrip("/")


def render_item(entry: Entry, listed: set[str] | None = None) -> str:
    """One list item. A further link already `listed` by an earlier item (one repository holding the code of
    two papers) is left out: awesome lists name each URL once."""
    listed = set() if listed is None else listed
    main = primary_link(entry)
    parts = [venue_text(entry.venue, entry.year, entry.track) or "Resource"]
    if entry.description and main.kind != "paper":
        parts = [entry.description.rstrip(".")]
    description = ", ".join(parts) + "."
    if not description.startswith("arXiv"):  # awesome-lint: a description starts a sentence ("Preprint 2024.")
        description = description[:1].upper() + description[1:]
    listed.add(_url_key(main.url))
    extras = []
    for link in entry.links:
        if link is not main and _url_key(link.url) not in listed:
            listed.add(_url_key(link.url))
            extras.append(f"[{link_label(link.kind, link.label)}]({link.url})")
    tail = f" {', '.join(extras)}." if extras else ""
    return f"- [{escape(entry.title)}]({main.url}) - {escape(description)}{tail}"


def _layout(catalog: Catalog) -> list[tuple[str | None, list[Section]]]:
    """Sections in taxonomy order, consecutive sections of one group gathered under it."""
    layout: list[tuple[str | None, list[Section]]] = []
    for section in catalog.taxonomy.sections:
        if section.group and layout and layout[-1][0] == section.group:
            layout[-1][1].append(section)
        else:
            layout.append((section.group, [section]))
    return layout


def render_list(catalog: Catalog) -> str:
    entries = catalog.entries()
    papers = sum(1 for e in entries if e.paper_url)
    sources = ", ".join(sorted({s for e in entries for s in e.sources}))
    lines = [
        "# Awesome Graph LLM",
        "",
        "> A curated list of papers, code and resources on graphs and large language models.",
        "",
        f"{len(entries)} entries ({papers} papers) in {len(catalog.taxonomy.sections)} sections, merged from "
        f"the upstream lists ({sources}); their MIT notices are kept in `catalog/NOTICE`. This file is "
        "generated from `catalog/` by `graphllm catalog render`; edit the YAML files there instead.",
        "",
        "## Contents",
        "",
    ]
    seen: dict[str, int] = {}
    listed: set[str] = set()
    anchors: dict[str, str] = {}
    for heading in ["Contents"] + [t for g, ss in _layout(catalog) for t in ([g] if g else []) + [s.title for s in ss]]:
        anchors.setdefault(heading, github_slug(heading, seen))
    for group, sections in _layout(catalog):
        if group:
            lines.append(f"- [{group}](#{anchors[group]})")
            lines.extend(f"  - [{s.title}](#{anchors[s.title]})" for s in sections)
        else:
            lines.extend(f"- [{s.title}](#{anchors[s.title]})" for s in sections)
    for group, sections in _layout(catalog):
        if group:
            lines += ["", f"## {group}"]
        for section in sections:
            lines += ["", f"{'###' if group else '##'} {section.title}", ""]
            if section.description:
                lines += [section.description, ""]
            items = sorted(catalog.sections.get(section.id, []), key=sort_key)
            lines.extend(render_item(entry, listed) for entry in items) if items else lines.append("No entries yet.")
    return "\n".join(lines) + "\n"
