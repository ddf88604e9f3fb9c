"""The Atom feed of catalog additions (RFC 4287), newest first, for feed readers."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from graphllm.catalog.store import Catalog, sort_key
from graphllm.catalog.text import venue_text

FEED_ENTRIES = 100


def _stamp(day) -> str:
    return f"{day.isoformat()}T00:00:00Z"


def newest(catalog: Catalog, count: int):
    """The `count` most recently added entries: by date added, then the catalog's own order."""
    return sorted(catalog.entries(), key=lambda e: (-e.added.toordinal(), sort_key(e)))[:count]


def atom_feed(catalog: Catalog, site_url: str, count: int = FEED_ENTRIES) -> str:
    entries = newest(catalog, count)
    sections = catalog.section_of()
    base = site_url.rstrip("/") + "/"
    lines = ['<?xml version="1.0" encoding="utf-8"?>', '<feed xmlns="http://www.w3.org/2005/Atom">',
             "  <title>graphllm catalog: new papers on graphs and LLMs</title>",
             "  <id>urn:graphllm:catalog</id>",
             f"  <updated>{_stamp(entries[0].added) if entries else '1970-01-01T00:00:00Z'}</updated>",
             f"  <link rel=\"self\" href={quoteattr(base + 'feed.xml')}/>",
             f"  <link rel=\"alternate\" href={quoteattr(base)}/>",
             "  <author><name>graphllm</name></author>"]
    for entry in entries:
        section = catalog.taxonomy.get(sections[entry.id]).title
        link = entry.paper_url or entry.links[0].url
        about = venue_text(entry.venue, entry.year, entry.track) or "resource"
        authors = ", ".join(entry.authors[:6]) + (" et al." if len(entry.authors) > 6 else "")
        summary = f"{about}; in {section}" + (f"; by {authors}" if authors else "")
        lines += ["  <entry>",
                  f"    <title>{escape(entry.title)}</title>",
                  f"    <id>urn:graphllm:catalog:{entry.id}</id>",
                  f"    <link href={quoteattr(link)}/>",
                  f"    <updated>{_stamp(entry.added)}</updated>",
                  f"    <category term={quoteattr(section)}/>",
                  f"    <summary>{escape(summary)}</summary>",
                  "  </entry>"]
    lines.append("</feed>")
    return "\n".join(lines) + "\n"
