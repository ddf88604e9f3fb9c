"""The arXiv API (Atom 1.0): title, authors and first-version date of a paper by id."""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from graphllm.catalog.clients.http import ApiClient, ApiError
from graphllm.catalog.text import ARXIV_ID_RE, arxiv_id_from_url, clean_title

DEFAULT_URL = "http://export.arxiv.org/api/query"
ATOM = "{http://www.w3.org/2005/Atom}"


@dataclass
class ArxivPaper:
    arxiv_id: str
    title: str
    authors: list[str]
    published: str  # YYYY-MM-DD of version 1

    @property
    def abs_url(self) -> str:
        return f"https://arxiv.org/abs/{self.arxiv_id}"


def parse_identifier(text: str) -> str:
    """An arXiv id from '2310.04560', '2310.04560v2', 'arXiv:2310.04560' or any arxiv.org URL."""
    text = text.strip()
    from_url = arxiv_id_from_url(text)
    if from_url:
        return from_url
    bare = re.sub(r"^arxiv:", "", text, flags=re.I)
    bare = re.sub(r"v\d+$", "", bare)
    if ARXIV_ID_RE.match(bare):
        return bare
    raise ApiError("not-found", f"{text!r} is not an arXiv id or arxiv.org URL (expected e.g. 2310.04560)")


class ArxivClient:
    def __init__(self, base_url: str | None = None, **kwargs) -> None:
        # arXiv asks API users for at most one request every three seconds.
        kwargs.setdefault("min_interval", 3.0)
        self.api = ApiClient("arXiv", base_url or os.environ.get("GRAPHLLM_ARXIV_API", DEFAULT_URL), **kwargs)

    def paper(self, identifier: str) -> ArxivPaper:
        arxiv_id = parse_identifier(identifier)
        response = self.api.get("", {"id_list": arxiv_id, "max_results": "1"})
        try:
            root = ET.fromstring(response.content)
        except ET.ParseError as exc:
            raise ApiError("bad-response", f"arXiv sent malformed XML for {arxiv_id}: {exc}") from None
        for entry in root.findall(f"{ATOM}entry"):
            entry_id = (entry.findtext(f"{ATOM}id") or "").strip()
            if "api/errors" in entry_id:
                summary = (entry.findtext(f"{ATOM}summary") or "").strip()
                raise ApiError("not-found", f"arXiv rejected {arxiv_id!r}: {summary or 'error'}")
            if arxiv_id_from_url(entry_id) != arxiv_id:
                continue
            title = clean_title(entry.findtext(f"{ATOM}title") or "")
            authors = [a.findtext(f"{ATOM}name", "").strip() for a in entry.findall(f"{ATOM}author")]
            published = (entry.findtext(f"{ATOM}published") or "")[:10]
            if not title or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", published):
                raise ApiError("bad-response", f"arXiv's entry for {arxiv_id} lacks a title or a published date")
            return ArxivPaper(arxiv_id, title, [a for a in authors if a], published)
        raise ApiError("not-found", f"arXiv has no paper {arxiv_id}")
