"""Statistics plots of the catalog, drawn at site build time as SVG (deterministic bytes)."""

from __future__ import annotations

import io
from collections import Counter

from graphllm.catalog.store import Catalog


def _svg(fig) -> bytes:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    return buffer.getvalue()


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.hashsalt": "graphllm", "font.size": 9, "svg.fonttype": "path"})
    return plt


def papers_per_year(catalog: Catalog) -> bytes:
    """Stacked bars: entries per year, one colour per section."""
    plt = _pyplot()
    years = sorted({e.year for e in catalog.entries() if e.year})
    fig, ax = plt.subplots(figsize=(8, 4.2))
    bottom = [0] * len(years)
    cmap = plt.get_cmap("tab20")
    for index, section in enumerate(catalog.taxonomy.sections):
        per_year = Counter(e.year for e in catalog.sections.get(section.id, []) if e.year)
        heights = [per_year.get(y, 0) for y in years]
        if not any(heights):
            continue
        ax.bar([str(y) for y in years], heights, bottom=bottom, label=section.title, color=cmap(index % 20))
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    ax.set_ylabel("entries")
    ax.set_xlabel("year (of the venue, or of the preprint)")
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


def top_venues(catalog: Catalog, top: int = 15) -> bytes:
    plt = _pyplot()
    venues = Counter(e.venue for e in catalog.entries() if e.venue and e.venue != "preprint").most_common(top)
    fig, ax = plt.subplots(figsize=(7, 0.3 * len(venues) + 1))
    names = [name for name, _ in venues][::-1]
    values = [count for _, count in venues][::-1]
    bars = ax.barh(names, values, color="#5c6bc0")
    ax.bar_label(bars, padding=2, fontsize=8)
    ax.set_xlabel("entries")
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


def code_availability(catalog: Catalog) -> bytes:
    plt = _pyplot()
    sections = [s for s in catalog.taxonomy.sections if catalog.sections.get(s.id)]
    with_code = [sum(1 for e in catalog.sections[s.id] if e.code_url) for s in sections]
    without = [len(catalog.sections[s.id]) - w for s, w in zip(sections, with_code, strict=True)]
    fig, ax = plt.subplots(figsize=(7, 0.32 * len(sections) + 1))
    names = [s.title for s in sections][::-1]
    ax.barh(names, with_code[::-1], color="#43a047", label="with code")
    ax.barh(names, without[::-1], left=with_code[::-1], color="#cfd8dc", label="without code")
    ax.set_xlabel("entries")
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


FIGURES = {"per_year": papers_per_year, "venues": top_venues, "code": code_availability}
