"""The Semantic Scholar Graph API: where and when an arXiv paper was published."""

from __future__ import annotations

import os
from dataclasses import dataclass

from graphllm.catalog.clients.http import ApiClient, ApiError
from graphllm.catalog.text import canonical_venue_name, known_venue

DEFAULT_URL = "https://api.semanticscholar.org/graph/v1"
FIELDS = "title,venue,year,publicationVenue,publicationDate,externalIds"
PREPRINT_VENUES = {"", "arxiv", "arxiv.org", "corr", "biorxiv", "medrxiv", "ssrn"}


@dataclass
class Publication:
    venue: str | None  # None while the paper is only a preprint
    year: int | None


def venue_from(data: dict) -> str | None:
    """A short venue name: a known abbreviation among the venue's alternate names, else its name."""
    publication = data.get("publicationVenue") or {}
    names = [publication.get("name"), data.get("venue"), *(publication.get("alternate_names") or [])]
    names = [n for n in names if isinstance(n, str) and n.strip()]
    if not names or names[0].strip().casefold() in PREPRINT_VENUES:
        return None
    for name in names:
        short = known_venue(name)
        if short:
            return short
    return canonical_venue_name(names[0])


class SemanticScholarClient:
    def __init__(self, base_url: str | None = None, api_key: str | None = None, **kwargs) -> None:
        key = api_key or os.environ.get("S2_API_KEY")
        # Without a key the shared pool allows about one request per second.
        kwargs.setdefault("min_interval", 0.0 if key else 1.0)
        self.api = ApiClient("Semantic Scholar", base_url or os.environ.get("GRAPHLLM_S2_API", DEFAULT_URL),
                             headers={"x-api-key": key} if key else None, **kwargs)

    def publication(self, arxiv_id: str) -> Publication:
        data = self.api.json(f"paper/arXiv:{arxiv_id}", {"fields": FIELDS})
        year = data.get("year")
        if year is not None and not isinstance(year, int):
            raise ApiError("bad-response", f"Semantic Scholar's year for arXiv:{arxiv_id} is not a number")
        return Publication(venue_from(data), year)
