"""One awesome-list item or table row read into a Record: title, venue, date, authors, links, tags.

The forms met in the field's lists, each handled here once rather than per list:

- venue before the title: `(*NeurIPS'23*)`, `(ICML 2025)`, `(NeurIPS 2021, RL Agent, ...)` (the words
  after the first comma become tags), `[Arxiv 24.12]`, `[KDD 2024]`, or a link whose label is the venue
  (`\\[[TKDE](url)\\]`); after it: `` `venue` ``, `(COLING, 2020)`, `In **KDD'2022**,`; `` `2024.07` `` is a date;
- links as `[label](url)`, `[[label](url)]`, `[[label]](url)`, `<a href>`, linked badges and bare URLs;
  labels may carry emoji; in-page links (`#...`), images and badges are never paper links;
- the title in `**bold**` when the item has one, else the text left after venue and links;
- authors on an emphasised continuation line (`*A, B and C.*`);
- shields.io badges as tags, and a GitHub stars badge as the code repository.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote, urlsplit

from graphllm.catalog.importers.base import LINK_KINDS, RawLink, Record
from graphllm.catalog.importers.markdown.blocks import Item
from graphllm.catalog.text import (
    Venue,
    arxiv_id_from_url,
    clean_title,
    github_repo,
    known_venue,
    paper_keys,
    parse_venue,
    straighten,
)

_URL = r"[^()\s]*(?:\([^()\s]*\)[^()\s]*)*"
_LINK_RE = re.compile(rf"\[{{1,2}}([^\[\]]*)\]{{1,2}}\(\s*<?({_URL})>?(?:\s+\"[^\"]*\")?\s*\)\]?")
_LINKED_IMAGE_RE = re.compile(r"\[!\[([^\]]*)\]\(([^)]*)\)\]\(\s*([^)\s]+)\s*\)")
_IMAGE_RE = re.compile(r"!\[([^\]]*)\]\(([^)]*)\)")
_HTML_IMG_RE = re.compile(r"<img[^>]*?src=[\"']([^\"']*)[\"'][^>]*>|<img[^>]*>", re.I)
_HTML_ANCHOR_RE = re.compile(r"<a\s[^>]*?href=[\"']([^\"']*)[\"'][^>]*>(.*?)</a>", re.I | re.S)
_BARE_URL_RE = re.compile(r"(?<![(\[<\"'=\w])https?://[^\s<>()\[\]|]+")
_BADGE_RE = re.compile(r"img\.shields\.io/badge/([^/?)\s]+)", re.I)
_STARS_RE = re.compile(r"img\.shields\.io/github/stars/([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)", re.I)
_ESCAPE_RE = re.compile(r"\\([\\\[\]_*&#()`!|.~<>{}+-])")
_BOLD_RE = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")
_DATE_RE = re.compile(r"`\s*((?:19|20)\d{2})[.-](\d{1,2})\s*`")
_LOOSE_DATE_RE = re.compile(r"(?:^|[\s,])((?:19|20)\d{2})\.(\d{1,2})(?=[\s,]|$)")
_BACKTICK_RE = re.compile(r"`([^`]+)`")
_IN_VENUE_RE = re.compile(r"\bIn\s+\*\*([^*]+)\*\*[^,\n]*,?", re.I)
_LEADING_PAREN_RE = re.compile(r"^\(\s*\*?([^()]*?)\*?\s*\)\s*")
_LEADING_BRACKET_RE = re.compile(r"^\[\s*([^\[\]]*?)\s*\]\s*(?!\()")
_TRAILING_PAREN_RE = re.compile(r"\s*\(\s*\*?([^()]*?)\*?\s*\)\s*[.,;]?\s*$")
_AUTHORS_RE = re.compile(r"^\s*\*(?!\*)([^*]+)\*(?!\*)\s*(.*)$")
_PAPER_HOSTS = ("arxiv.org", "openreview.net", "aclanthology.org", "doi.org", "dl.acm.org", "ieeexplore.ieee.org",
                "proceedings.neurips.cc", "papers.nips.cc", "proceedings.mlr.press", "link.springer.com",
                "ojs.aaai.org", "www.ijcai.org", "ijcai.org", "openaccess.thecvf.com", "www.nature.com",
                "www.sciencedirect.com", "papers.ssrn.com", "www.semanticscholar.org", "pubmed.ncbi.nlm.nih.gov",
                "www.biorxiv.org", "biorxiv.org", "www.vldb.org", "vldb.org", "www.jmlr.org", "jmlr.org",
                "journals.sagepub.com", "onlinelibrary.wiley.com", "academic.oup.com")
_VIDEO_HOSTS = ("www.youtube.com", "youtube.com", "youtu.be", "www.bilibili.com", "bilibili.com")
_EXTRA_KINDS = {
    "repo": "code", "repository": "code", "official code": "code", "code link": "code", "source code": "code",
    "website": "project", "page": "project", "project website": "project", "demo": "project",
    "zhihu": "blog", "blog post": "blog", "talk": "video", "youtube": "video", "bilibili": "video",
    "doc": "docs", "docs": "docs", "documentation": "docs", "link": None, "paper link": "paper", "url": None,
    "openreview": "paper", "acl": "paper", "ieee": "paper", "acm": "paper", "springer": "paper", "doi": "paper",
}
# Table columns: which role a header plays.
TITLE_COLUMNS = ("title", "paper title", "name", "method", "work", "model", "dataset", "paper")
VENUE_COLUMNS = ("venue", "conference", "publication", "published")
YEAR_COLUMNS = ("year", "date", "time")
TAG_COLUMNS = ("category", "task", "kind", "type", "task level", "strategy")
LINK_COLUMN_KINDS = {"link": "paper", "paper link": "paper", "paper": "paper", "pdf": "paper", "url": "paper",
                     "code": "code", "github": "code", "repo": "code", "dataset": "dataset"}


def unescape(text: str) -> str:
    return _ESCAPE_RE.sub(r"\1", text)


def _plain_label(label: str) -> str:
    label = "".join(ch for ch in label if unicodedata.category(ch) not in ("So", "Sk", "Cn") and ch != "\ufe0f")
    return straighten(label.replace("*", "").replace("`", ""))


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def kind_for(label: str, url: str, column_kind: str | None = None) -> tuple[str, str | None]:
    """Our link kind for an upstream label (or table column), and the label when it says more than that."""
    key = _plain_label(label).casefold()
    kind = LINK_KINDS.get(key) or _EXTRA_KINDS.get(key) or column_kind
    shown = None
    if kind is None:
        host = _host(url)
        if github_repo(url) or host in ("gitee.com", "gitlab.com", "huggingface.co"):
            kind = "code"
        elif host in _PAPER_HOSTS or host.endswith(".pdf") or urlsplit(url).path.lower().endswith(".pdf"):
            kind = "paper"
        elif host in _VIDEO_HOSTS:
            kind = "video"
        else:
            kind = "page"
        if key and key not in ("link", "url", "here"):
            shown = _plain_label(label)
    elif key == "blog in chinese":
        shown = "blog in Chinese"
    return kind, shown


def _badge_tag(raw: str) -> str | None:
    """The label of a shields.io static badge (`label-message-color` or `message-color`)."""
    text = unquote(raw)
    parts = re.split(r"(?<!-)-(?!-)", text)
    if len(parts) < 2:
        return None
    words = parts[:-1]
    label = " ".join(w.replace("--", "-").replace("__", "\0").replace("_", " ").replace("\0", "_") for w in words)
    label = straighten(label).strip(" :")
    return label or None


def _strip_markup(text: str, record: Record) -> str:
    """Remove images and HTML, keeping what they say: badge tags, star repos and linked badges' links."""
    for repo in _STARS_RE.findall(text):
        record.code_repo = record.code_repo or repo
    for raw in _BADGE_RE.findall(text):
        tag = _badge_tag(raw)
        if tag and tag.casefold() not in ("github", "awesome", "arxiv", "paper", "code", "pdf") \
                and tag not in record.tags:
            record.tags.append(tag)
    text = _LINKED_IMAGE_RE.sub(lambda m: "" if _STARS_RE.search(m.group(2)) else f" [{m.group(1)}]({m.group(3)}) ",
                                text)

    def anchor(match: re.Match) -> str:
        inner = match.group(2)
        if re.fullmatch(r"\s*(<img[^>]*>\s*)+", inner, re.I):
            return ""
        return f"[{re.sub(r'<[^>]+>', '', inner)}]({match.group(1)})"

    text = _HTML_ANCHOR_RE.sub(anchor, text)
    text = _IMAGE_RE.sub("", _HTML_IMG_RE.sub("", text))
    text = re.sub(r"</?(?:br|sup|sub|b|i|em|strong|span|font|p|div|center)\b[^>]*>", " ", text, flags=re.I)
    return text


def _venue_of(raw: str) -> Venue | None:
    """A venue when the text reads as one ("NeurIPS'24", "arXiv 2024.10", "COLING, 2020"), else None."""
    text = straighten(raw).strip("*_ ,;")
    if not text or len(text) > 80:
        return None
    venue = parse_venue(text)
    if venue.year or known_venue(text) or text.casefold() in ("arxiv", "preprint"):
        return venue
    return None


def _date(text: str) -> str | None:
    match = _DATE_RE.search(text) or _LOOSE_DATE_RE.search(_LINK_RE.sub(" ", text))
    if match and 1 <= int(match.group(2)) <= 12:
        return f"{int(match.group(1)):04d}-{int(match.group(2)):02d}"
    return None


def _split_authors(text: str) -> list[str]:
    text = straighten(text).strip(" .")
    parts = re.split(r",\s*|\s+and\s+|\s*&\s*", text)
    return [p.strip(" .") for p in parts if p.strip(" .") and p.strip(" .").casefold() not in ("et al", "others")]


def read_item(item: Item, source: str, problems: list[tuple[int, str]]) -> Record | None:
    """The Record an item states, or None (with the reason in `problems`) when it names no entry."""
    if item.cells is not None:
        return _read_row(item, source, problems)
    record = Record(source, item.line, "", [])
    first_line, *rest_lines = [unescape(_strip_markup(text, record)) for _, text in item.lines]

    # Venue before the title, in parentheses or brackets, or as the label of the first link.
    head = first_line.strip()
    venue: Venue | None = None
    lead = _LEADING_PAREN_RE.match(head) or _LEADING_BRACKET_RE.match(head)
    if lead:
        inside = lead.group(1)
        first, _, more = inside.partition(",")
        found = _venue_of(inside) if re.fullmatch(r".*,\s*(19|20)\d{2}", inside) else _venue_of(first)
        if found:
            venue = found
            if more and not re.fullmatch(r"\s*(19|20)\d{2}\s*", more):
                record.tags.extend(t.strip() for t in more.split(",") if t.strip())
            head = head[lead.end():]
    leading_link = re.match(rf"^\[{{1,2}}([^\[\]]*)\]{{1,2}}\(\s*({_URL})\s*\)\]?\s*", head)
    if not venue and leading_link:
        found = _venue_of(leading_link.group(1))
        if found and not github_repo(leading_link.group(2)):
            venue = found
            record.links.append(RawLink("paper", leading_link.group(2)))
            head = head[leading_link.end():]

    # A resource item: `[Name](url) description` names itself in its first link.
    named = None
    if not venue and leading_link and kind_for(leading_link.group(1), leading_link.group(2))[1]:
        named = leading_link
        rest = straighten(head[leading_link.end():]).lstrip(".:-–— ")
        if rest and not _LINK_RE.search(rest):
            record.description = rest[0].upper() + rest[1:] + ("" if rest.endswith((".", "!", "?")) else ".")

    # The title: bold text, else what is left of the first line.
    bold = next((m for m in _BOLD_RE.finditer(head) if not re.search(r"\bIn\s*$", head[: m.start()])), None)
    all_text = "\n".join([head, *rest_lines])
    in_venue = _IN_VENUE_RE.search(all_text)
    if not venue and in_venue:
        venue = _venue_of(in_venue.group(1)) or Venue(straighten(in_venue.group(1)))
    record.first_version = _date(all_text)
    for label, url in _all_links(all_text):
        _add_link(record, label, url, problems, item.line)
    if named:
        title = named.group(1)
        record.links = [RawLink(link.kind, link.url) if link.url == named.group(2) else link for link in record.links]
    elif bold:
        title = bold.group(1) or bold.group(2)
        title = _LINK_RE.sub(lambda m: m.group(1), title)
    else:
        # The title is the text before the first link; what follows the links (a star count) is not.
        first_link = _LINK_RE.search(head) or _BARE_URL_RE.search(head)
        before = head[: first_link.start()] if first_link else head
        if not _plain_label(_BACKTICK_RE.sub("", before)).strip(" .:-–—,;|"):
            before = _LINK_RE.sub("", head)
        title = _DATE_RE.sub("", _BARE_URL_RE.sub("", before))
    backtick = _BACKTICK_RE.search(_DATE_RE.sub("", head))
    if not venue and backtick:
        venue = _venue_of(backtick.group(1)) or (Venue(straighten(backtick.group(1)))
                                                  if backtick.group(1).strip() else None)
    title = _BACKTICK_RE.sub("", title)
    title = "".join(ch for ch in title if unicodedata.category(ch) not in ("So", "Cn") and ch != "\ufe0f").rstrip()
    trailing = _TRAILING_PAREN_RE.search(title)
    if trailing:
        found = _venue_of(trailing.group(1))
        if found:
            venue = venue or found
            title = title[: trailing.start()]
    title = title.replace("**", "").replace("[]", "").strip(" .:-–—,;|")
    record.title = clean_title(title)
    record.venue = venue or Venue(None)

    # Authors on an emphasised continuation line; a plain paragraph is a description.
    described = []
    for text in rest_lines:
        authors = _AUTHORS_RE.match(text)
        if authors and not record.authors and not _IN_VENUE_RE.search(text):
            record.authors = _split_authors(authors.group(1))
            continue
        plain = straighten(_LINK_RE.sub("", _IN_VENUE_RE.sub("", text)).replace("**", ""))
        if len(plain) >= 30 and " " in plain:
            described.append(plain)
    if described and not record.description and not any(link.kind == "paper" for link in record.links):
        record.description = " ".join(described)
    return _finish(record, item, problems)


def _all_links(text: str) -> list[tuple[str, str]]:
    found = [(m.group(1), m.group(2)) for m in _LINK_RE.finditer(text)]
    rest = _LINK_RE.sub(" ", text)
    found += [("", url.rstrip(".,;:")) for url in _BARE_URL_RE.findall(rest)]
    return found


def _add_link(record: Record, label: str, url: str, problems, line: int, column_kind: str | None = None) -> None:
    url = url.strip()
    if url.startswith("]("):  # `[[Paper]](](url))`: the URL written inside a second pair of brackets
        url = url[2:].removesuffix(")")
    if not url:
        problems.append((line, f"empty [{_plain_label(label)}] link ignored"))
        return
    if url.startswith("#"):
        return
    if not re.match(r"^https?://", url, re.I):
        if not url.startswith(("mailto:", "./", "../")) and "." in url:
            problems.append((line, f"link {url!r} ({label or 'no label'}) is not an absolute http(s) URL; ignored"))
        return
    kind, shown = kind_for(label, url, column_kind)
    if any(existing.url == url for existing in record.links):
        return
    record.links.append(RawLink(kind, url, shown))


def _finish(record: Record, item: Item, problems) -> Record | None:
    if not record.links and (not record.title or not item.has_web_link and "](#" in item.text):
        return None  # prose or a table-of-contents line, not an entry
    if not record.title:
        problems.append((item.line, "item without a title; skipped"))
        return None
    if not record.links:
        problems.append((item.line, f"{record.title[:60]!r} has no link to a paper, code or page; skipped"))
        return None
    first_paper = next((link for link in record.links if link.kind == "paper"), None)
    if first_paper is not None:
        ids = {k for k in paper_keys(first_paper.url) if not k.startswith("url:")}
        for link in [link for link in record.links if link.kind == "paper" and link is not first_paper]:
            other = {k for k in paper_keys(link.url) if not k.startswith("url:")}
            if ids and other and not ids & other:
                problems.append((item.line, f"second paper link {link.url} of {record.title[:60]!r} names "
                                            "another paper; ignored"))
                record.links.remove(link)
    if record.venue.name == "arXiv" and not any(arxiv_id_from_url(link.url) for link in record.links):
        record.venue = Venue("preprint", record.venue.year, record.venue.month)
    if record.venue.year is None and record.first_version:
        record.venue = Venue(record.venue.name, int(record.first_version[:4]), None, record.venue.track)
    if record.code_repo is None:
        record.code_repo = next((repo for link in record.links if link.kind == "code"
                                 and (repo := github_repo(link.url))), None)
    record.tags = list(dict.fromkeys(t for t in record.tags if t))
    return record


def _column(cells: dict[str, str], names: tuple[str, ...]) -> tuple[str, str] | None:
    for name in names:
        if name in cells:
            return name, cells[name]
    return None


def _read_row(item: Item, source: str, problems) -> Record | None:
    record = Record(source, item.line, "", [])  # gathers the badges and star counts of every cell
    cells = {name: unescape(_strip_markup(text, record)) for name, text in item.cells.items()}
    title_column = None
    for name in TITLE_COLUMNS:
        text = cells.get(name, "")
        plain = straighten(_LINK_RE.sub(lambda m: m.group(1), text).replace("**", ""))
        if plain and plain not in ("-", "—") and not _LINK_RE.fullmatch(text.strip()):
            title_column = name
            break
    if title_column is None:  # a title given only as a link's label
        named = _column(cells, TITLE_COLUMNS)
        title_column = named[0] if named else None
    title_text = cells.get(title_column, "") if title_column else ""
    title = straighten(_LINK_RE.sub(lambda m: m.group(1), title_text).replace("**", ""))
    venue_cell = _column(cells, VENUE_COLUMNS)
    year_cell = _column(cells, YEAR_COLUMNS)
    venue_text_ = straighten(venue_cell[1]) if venue_cell else ""
    year_match = re.search(r"\b(?:19|20)\d{2}\b", year_cell[1]) if year_cell else None
    if year_match and venue_text_ and not re.search(r"(?:19|20)\d{2}|'\d{2}", venue_text_):
        venue_text_ = f"{venue_text_} {year_match.group(0)}"  # one venue string, so "ACL Findings 2024" parses
    venue = _venue_of(venue_text_) if venue_text_ else None
    if venue is None and venue_text_ not in ("", "-", "—"):
        venue = Venue(venue_text_)
    trailing = _TRAILING_PAREN_RE.search(title)
    if trailing and (found := _venue_of(trailing.group(1))):
        venue = venue or found
        title = title[: trailing.start()]
    year = None
    if year_cell:
        match = re.search(r"\b((?:19|20)\d{2})(?:[.-](\d{1,2}))?\b", year_cell[1])
        if match:
            year = int(match.group(1))
            if match.group(2) and 1 <= int(match.group(2)) <= 12:
                record.first_version = f"{year:04d}-{int(match.group(2)):02d}"
    venue = venue or Venue(None)
    if year and not venue.year:
        venue = Venue(venue.name, year, venue.month, venue.track)
    for name, text in cells.items():
        column_kind = LINK_COLUMN_KINDS.get(name)
        for label, url in _all_links(text):
            if column_kind == "paper" and (found := _venue_of(label)) and not venue.name:
                venue = found  # a paper link labelled with its venue: `[[arXiv 2025]](url)`
            _add_link(record, label if name != title_column else "", url, problems, item.line, column_kind)
        arxiv = re.fullmatch(r"(?i)arxiv[:\s]+(\d{4}\.\d{4,5})", straighten(text))
        if arxiv:
            _add_link(record, "paper", f"https://arxiv.org/abs/{arxiv.group(1)}", problems, item.line)
        if name in TAG_COLUMNS:
            plain = straighten(_LINK_RE.sub(lambda m: m.group(1), text))
            if plain and plain not in ("-", "—"):
                record.tags.append(plain)
    record.title = clean_title(title.strip(" .,;"))
    record.venue = venue
    return _finish(record, item, problems)
