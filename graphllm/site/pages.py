"""Markdown for the generated pages of the site, as pure functions of the catalog.

The mkdocs hook (site/hooks.py) turns these strings into virtual files at build time, so nothing
generated is committed and the site can never disagree with `catalog/`.
"""

from __future__ import annotations

import html
from collections import Counter

from graphllm.catalog.render import escape, link_label
from graphllm.catalog.schema import Entry, Section
from graphllm.catalog.store import Catalog, sort_key
from graphllm.catalog.text import venue_text
from graphllm.catalog.upstreams import Upstreams
from graphllm.site import feeds
from graphllm.site.health import mark, summary


def section_path(section_id: str) -> str:
    return f"sections/{section_id}.md"


def nav(catalog: Catalog, extra: list[dict] | None = None) -> list:
    """The site navigation: home, every section in taxonomy order (grouped), then the other pages."""
    sections: list = []
    for section in catalog.taxonomy.sections:
        item = {section.title: section_path(section.id)}
        if section.group:
            group = next((g for g in sections if isinstance(g, dict) and section.group in g), None)
            if group is None:
                group = {section.group: []}
                sections.append(group)
            group[section.group].append(item)
        else:
            sections.append(item)
    return [{"Home": "index.md"}, {"Sections": sections}, {"All papers": "papers.md"},
            {"Statistics": "stats.md"}, *(extra or []), {"Tags": "tags.md"}, {"Contribute": "contribute.md"}]


def bibtex_path(entry_id: str) -> str:
    return f"bib/{entry_id}.bib"


def _links_md(entry: Entry, health: dict | None = None) -> str:
    """The entry's links with their health marks, then its BibTeX (a file of the site, one folder up from the
    section pages that list it)."""
    links = [f"[{link_label(link.kind, link.label)}]({link.url}){mark(link.url, health or {})}"
             for link in entry.links]
    return " · ".join(links + [f"[BibTeX](../{bibtex_path(entry.id)})"])


def _cell(text: str) -> str:
    return escape(text).replace("\n", " ")


def section_page(catalog: Catalog, section: Section, health: dict | None = None) -> str:
    own = sorted(catalog.sections.get(section.id, []), key=sort_key)
    home = catalog.section_of()
    cross = sorted((e for e in catalog.entries() if section.id in e.also_in), key=sort_key)
    tags = sorted({t for e in own + cross for t in e.tags if " / " in t}, key=str.casefold)
    lines = ["---", "tags:"] + [f"  - {_yaml_str(t)}" for t in tags] + ["---", "", f"# {section.title}", ""]
    if section.description:
        lines += [section.description, ""]
    lines += [f"{len(own)} entries" + (f", and {len(cross)} listed under another section" if cross else "") + ".",
              ""]
    rows = [(e, None) for e in own] + [(e, home[e.id]) for e in cross]
    checked = summary([link.url for e, _ in rows for link in e.links], health or {})
    if checked:
        lines += [checked + " Marks: ✗ broken, ? could not be verified, ! server error, ⏱ timed out, "
                  "↪ redirects (hover for details).", ""]
    with_stars = any(e.stars is not None for e, _ in rows)
    # One table per year, then the cross-listed entries: no page is one unbroken list of a hundred rows.
    groups: dict[str, list] = {}
    for entry, elsewhere in rows:
        heading = "Listed under other sections" if elsewhere else (str(entry.year) if entry.year else "Year unknown")
        groups.setdefault(heading, []).append((entry, elsewhere))
    for heading, group in groups.items():
        lines += [f"## {heading}", "", "| Title | Venue | Year | Links |" + (" Stars |" if with_stars else ""),
                  "|---|---|---|---|" + ("--:|" if with_stars else "")]
        lines += [_row(catalog, entry, elsewhere, health, with_stars) for entry, elsewhere in group]
        lines.append("")
    return "\n".join(lines)


def _row(catalog: Catalog, entry: Entry, elsewhere: str | None, health: dict | None, with_stars: bool) -> str:
    title = _cell(entry.title)
    if elsewhere:
        title += f" *(in [{_cell(catalog.taxonomy.get(elsewhere).title)}]({elsewhere}.md))*"
    venue = _cell(" ".join(p for p in (entry.venue, entry.track) if p) or "—")
    row = f"| {title} | {venue} | {entry.year or '—'} | {_links_md(entry, health)} |"
    if with_stars:
        row += f" {entry.stars if entry.stars is not None else '—'} |"
    return row


def _yaml_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def counts(catalog: Catalog) -> dict[str, int]:
    entries = catalog.entries()
    return {
        "entries": len(entries),
        "papers": sum(1 for e in entries if e.paper_url),
        "with_code": sum(1 for e in entries if e.code_url),
        "sections": len(catalog.taxonomy.sections),
        "venues": len({e.venue for e in entries if e.venue not in (None, "arXiv", "preprint")}),
        "preprints": sum(1 for e in entries if e.venue == "arXiv"),
    }


def home_page(catalog: Catalog, upstreams: Upstreams, newest: int = 10) -> str:
    c = counts(catalog)
    entries = catalog.entries()
    home = catalog.section_of()
    recent = feeds.newest(catalog, newest)
    lines = [
        "# Graph + LLM hub", "",
        "The curated catalog of research on **graphs and large language models**: papers, code and tools, "
        f"merged from {len(_credited(upstreams))} of the community's awesome lists into one entry per paper, "
        "checked by machine, and kept as structured data that anyone can correct with a pull request.", "",
        '<div class="grid cards" markdown>', "",
        f"- **{c['entries']}** entries, **{c['papers']}** papers",
        f"- **{c['with_code']}** with code",
        f"- **{c['sections']}** sections",
        f"- **{c['venues']}** venues, **{c['preprints']}** arXiv preprints", "",
        "</div>", "",
        "Browse by section in the navigation, filter [all papers](papers.md), see the "
        "[statistics](stats.md), or [contribute](contribute.md) a paper. New papers arrive in the "
        "[Atom feed](feed.xml); every entry's BibTeX is in [catalog.bib](catalog.bib).", "",
        "## Newest additions", "",
        "| Title | Section | Venue | Added |", "|---|---|---|---|",
    ]
    for entry in recent:
        section = catalog.taxonomy.get(home[entry.id])
        link = entry.paper_url or entry.links[0].url
        lines.append(f"| [{_cell(entry.title)}]({link}) | [{_cell(section.title)}]({section_path(section.id)}) "
                     f"| {_cell(venue_text(entry.venue, entry.year, entry.track) or '—')} | {entry.added} |")
    lines += ["", "## Credits", "", "The catalog merges these lists, whose authors we thank "
              "(entries each list gave, and its licence):", ""]
    given = Counter(source for e in entries for source in e.sources)
    lines += [f"- [{u.title}]({u.repository}): {given[u.name]} entries, {u.license} licence"
              for u in _credited(upstreams)]
    lines += ["", "Their licence notices are kept in `catalog/NOTICE`.", ""]
    return "\n".join(lines)


def _credited(upstreams: Upstreams):
    return [u for u in upstreams.lists if u.repository]


def papers_page(catalog: Catalog) -> str:
    """All entries in one table, with filter controls that assets/javascripts/papers.js drives."""
    home = catalog.section_of()
    entries = sorted(catalog.entries(), key=sort_key)
    years = [e.year for e in entries if e.year]
    venues = sorted({e.venue for e in entries if e.venue}, key=str.casefold)
    esc = html.escape
    out = [
        "# All papers", "",
        "Filter by free text (title, authors, tags), section, venue, year range and code availability.", "",
        '<div class="gl-filters" id="gl-filters">',
        '<input type="search" id="gl-text" placeholder="Filter: title, author, tag…" aria-label="Filter text">',
        '<select id="gl-section" aria-label="Section"><option value="">All sections</option>',
    ]
    out += [f'<option value="{esc(s.id)}">{esc(s.title)}</option>' for s in catalog.taxonomy.sections]
    out += ["</select>", '<select id="gl-venue" aria-label="Venue"><option value="">All venues</option>']
    out += [f'<option value="{esc(v)}">{esc(v)}</option>' for v in venues]
    out += [
        "</select>",
        f'<label>From <input type="number" id="gl-year-min" min="{min(years)}" max="{max(years)}" '
        f'value="{min(years)}" aria-label="First year"></label>',
        f'<label>to <input type="number" id="gl-year-max" min="{min(years)}" max="{max(years)}" '
        f'value="{max(years)}" aria-label="Last year"></label>',
        '<label><input type="checkbox" id="gl-has-code"> has code</label>',
        "</div>", "",
        f'<p id="gl-count" aria-live="polite">{len(entries)} of {len(entries)} entries</p>', "",
        '<div class="md-typeset__scrollwrap"><div class="md-typeset__table">',
        '<table id="gl-papers">',
        "<thead><tr><th>Title</th><th>Section</th><th>Venue</th><th>Year</th><th>Links</th></tr></thead>",
        "<tbody>",
    ]
    for entry in entries:
        sections = [home[entry.id], *entry.also_in]
        text = " ".join([entry.title, *entry.authors, *entry.tags, entry.venue or "", entry.track or ""])
        links = " · ".join(f'<a href="{esc(link.url)}">{esc(link_label(link.kind, link.label))}</a>'
                           for link in entry.links)
        section = catalog.taxonomy.get(home[entry.id])
        out.append(
            f'<tr data-sections="{esc(" ".join(sections))}" data-venue="{esc(entry.venue or "")}" '
            f'data-year="{entry.year or ""}" data-code="{1 if entry.code_url else 0}" '
            f'data-text="{esc(text.casefold())}">'
            f"<td>{esc(entry.title)}</td>"
            f'<td><a href="../{section_path(section.id)[:-3]}/">{esc(section.title)}</a></td>'
            f"<td>{esc(' '.join(p for p in (entry.venue, entry.track) if p) or '—')}</td>"
            f"<td>{entry.year or '—'}</td><td>{links}</td></tr>")
    out += ["</tbody>", "</table>", "</div></div>", ""]
    return "\n".join(out)


def stats_page(catalog: Catalog, figures: dict[str, str]) -> str:
    entries = catalog.entries()
    c = counts(catalog)
    by_source = Counter(s for e in entries for s in e.sources)
    lines = ["# Statistics", "",
             f"{c['entries']} entries; {c['with_code']} ({100 * c['with_code'] / max(c['entries'], 1):.0f}%) link "
             "to code. Figures are drawn from the catalog each time the site is built.", ""]
    titles = {"per_year": "Papers per year, by section", "venues": "Top venues",
              "code": "Code availability by section"}
    for key, path in figures.items():
        lines += [f"## {titles[key]}", "", f"![{titles[key]}]({path})", ""]
    lines += ["## Entries per source list", "", "| Source | Entries |", "|---|--:|"]
    lines += [f"| {name} | {count} |" for name, count in sorted(by_source.items())]
    return "\n".join(lines) + "\n"

