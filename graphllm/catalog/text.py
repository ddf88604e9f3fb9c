"""Normalisation of the messy text found in upstream lists: titles, arXiv ids, URLs, venues, slugs.

Everything here is a pure function so that importing, merging and validating agree on one
definition of "the same paper".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

_QUOTES = str.maketrans({"‘": "'", "’": "'", "′": "'", "`": "'", "“": '"', "”": '"', "\u00a0": " "})

# New-style ids (0704.0001 onwards) and old-style ids (cs/0112017, math.GT/0309136).
_ARXIV_NEW = r"\d{4}\.\d{4,5}"
_ARXIV_OLD = r"[a-z\-]+(?:\.[A-Z]{2})?/\d{7}"
ARXIV_ID_RE = re.compile(rf"^(?:{_ARXIV_NEW}|{_ARXIV_OLD})$")
_ARXIV_URL_RE = re.compile(
    rf"^https?://(?:www\.|export\.|browse\.)?arxiv\.org/(?:abs|pdf|html)/({_ARXIV_NEW}|{_ARXIV_OLD})"
    r"(?:v\d+)?(?:\.pdf)?/?(?:[?#].*)?$",
    re.IGNORECASE,
)
_GITHUB_REPO_RE = re.compile(r"^https?://(?:www\.)?github\.com/([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+)")
_GITHUB_RESERVED = {"orgs", "topics", "features", "marketplace", "sponsors", "settings", "about", "apps"}


def straighten(text: str) -> str:
    """Unicode NFKC, straight quotes, single spaces, stripped."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    return re.sub(r"\s+", " ", text).strip()


def normalise_title(title: str) -> str:
    """The key two spellings of one title share: case, punctuation and spacing ignored.

    >>> normalise_title("GPT4Graph: Can LLMs Understand Graph Structured Data ?")
    'gpt4graph can llms understand graph structured data'
    """
    text = straighten(title).casefold()
    text = re.sub(r"[^\w\s]", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def clean_title(title: str) -> str:
    """A display title: straight quotes, single spaces, no trailing period, balanced spacing."""
    text = straighten(title)
    text = re.sub(r"\s+([?!:,])", r"\1", text)
    text = text.rstrip()
    if text.endswith(".") and not text.endswith(".."):
        text = text[:-1].rstrip()
    return text


def arxiv_id_from_url(url: str) -> str | None:
    """The version-less arXiv id of an arxiv.org abs/pdf/html URL, else None."""
    match = _ARXIV_URL_RE.match(url.strip())
    return match.group(1) if match else None


def arxiv_abs_url(arxiv_id: str) -> str:
    return f"https://arxiv.org/abs/{arxiv_id}"


def arxiv_first_version(arxiv_id: str) -> str | None:
    """YYYY-MM of the first version, which a new-style arXiv id encodes (YYMM.number)."""
    match = re.match(r"^(\d{2})(\d{2})\.", arxiv_id)
    if not match:
        return None
    year, month = 2000 + int(match.group(1)), int(match.group(2))
    return f"{year:04d}-{month:02d}" if 1 <= month <= 12 else None


def canonical_paper_url(url: str) -> str:
    """arXiv links of any form become the abs page of the latest version; others are kept as given."""
    arxiv_id = arxiv_id_from_url(url)
    return arxiv_abs_url(arxiv_id) if arxiv_id else url.strip()


def github_repo(url: str) -> str | None:
    """`owner/name` of a github.com repository URL (deep links allowed), else None."""
    match = _GITHUB_REPO_RE.match(url.strip())
    if not match or match.group(1).lower() in _GITHUB_RESERVED:
        return None
    name = match.group(2)
    if name.endswith(".git"):
        name = name[:-4]
    return f"{match.group(1)}/{name}"


def url_problem(url: str) -> str | None:
    """Why `url` is not a usable absolute http(s) link, or None when it is."""
    if not url or url != url.strip():
        return "empty or surrounded by spaces"
    if re.search(r"\s", url):
        return "contains whitespace"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return f"scheme must be http or https, not {parts.scheme or 'missing'!r}"
    host = parts.hostname or ""
    if not host:
        return "has no host"
    if not re.fullmatch(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?", host) or ".." in host:
        return f"host {host!r} is not a valid host name"
    if "." not in host and host != "localhost":
        return f"host {host!r} has no domain"
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return "has an invalid port"
    return None


def slugify(text: str, max_words: int = 6) -> str:
    words = normalise_title(text).replace("_", " ").split()
    ascii_words = [unicodedata.normalize("NFKD", w).encode("ascii", "ignore").decode() for w in words]
    return "-".join(w for w in ascii_words[:max_words] if w) or "entry"


def slug_base(title: str) -> str:
    """A short readable id: the name before a colon when the title has one ("GraphGPT: ..." -> graphgpt)."""
    head, sep, _ = title.partition(":")
    if sep and 1 <= len(head.split()) <= 4:
        return slugify(head)
    return slugify(title)


# --- venues -------------------------------------------------------------------------------------

_VENUE_CANON = {
    name.casefold(): name
    for name in [
        "NeurIPS", "ICLR", "ICML", "AAAI", "IJCAI", "ACL", "EMNLP", "NAACL", "EACL", "COLING", "KDD",
        "WWW", "WSDM", "SIGIR", "CIKM", "ICDM", "TKDE", "TMLR", "PKDD", "BCB", "SDM", "CVPR", "ICCV",
        "ECCV", "ASPLOS", "arXiv", "Complex Networks", "IEEE Intelligent Systems", "Nature Communications",
        "Nature Machine Intelligence", "Journal of Chemical Information and Modeling", "TPAMI", "TNNLS",
        "LoG", "ECML-PKDD", "VLDB", "SIGMOD", "ICDE", "TACL",
    ]
}
_PREPRINT = {"preprint", "arxiv", "[]", ""}
# Full names Semantic Scholar and DBLP use, mapped to the short names the catalog uses.
_LONG_VENUES = {
    "neural information processing systems": "NeurIPS", "advances in neural information processing systems": "NeurIPS",
    "international conference on learning representations": "ICLR",
    "international conference on machine learning": "ICML",
    "aaai conference on artificial intelligence": "AAAI",
    "international joint conference on artificial intelligence": "IJCAI",
    "annual meeting of the association for computational linguistics": "ACL",
    "conference on empirical methods in natural language processing": "EMNLP",
    "north american chapter of the association for computational linguistics": "NAACL",
    "knowledge discovery and data mining": "KDD", "the web conference": "WWW",
    "web search and data mining": "WSDM",
    "annual international acm sigir conference on research and development in information retrieval": "SIGIR",
    "international conference on information and knowledge management": "CIKM",
    "ieee transactions on knowledge and data engineering": "TKDE",
    "trans. mach. learn. res.": "TMLR", "transactions on machine learning research": "TMLR",
    "nips": "NeurIPS",
}


@dataclass(frozen=True)
class Venue:
    """A parsed venue. `name` None means unknown; "arXiv" means a preprint."""

    name: str | None
    year: int | None = None
    month: int | None = None
    track: str | None = None


def _two_digit_year(yy: str) -> int:
    value = int(yy)
    return 2000 + value if value < 70 else 1900 + value


def known_venue(name: str) -> str | None:
    """The catalog's short name for a venue given by abbreviation or full name, or None if unknown."""
    key = straighten(name).strip(" ,;-'").casefold()
    return _VENUE_CANON.get(key) or _LONG_VENUES.get(key)


def canonical_venue_name(name: str) -> str:
    name = straighten(name).strip(" ,;-'")
    return _VENUE_CANON.get(name.casefold()) or _LONG_VENUES.get(name.casefold(), name)


def parse_venue(raw: str) -> Venue:
    """Parse the venue labels both upstream lists use.

    Handles "NeurIPS'24 D&B", "TKDE‘23", "WSDM '25", "EACL'24'", "ACL 2024", "EMNLP23",
    "BCB 19", "arXiv 2024.10", "preprint 2024", "ICML 2023 Workshop on Computational Biology".
    """
    text = straighten(raw.replace("_", " ")).strip("* ")  # "arXiv_2023.09" is "arXiv 2023.09"
    if text.casefold() in _PREPRINT:
        return Venue("arXiv")
    match = re.fullmatch(r"(?i)(?:arxiv|preprint)[\s,]+((?:19|20)?\d{2})(?:\.(\d{1,2}))?", text)
    if match:
        year = match.group(1)
        month = int(match.group(2)) if match.group(2) else None
        return Venue("arXiv", int(year) if len(year) == 4 else _two_digit_year(year), month)
    match = re.fullmatch(r"(.*?)\s*'\s*((?:19|20)\d{2})\b\s*(.*)", text)
    if match and match.group(1):
        return _venue(match.group(1), int(match.group(2)), match.group(3))
    match = re.fullmatch(r"(.*?)\s*'\s*(\d{2})'?\s*(.*)", text)
    if match and match.group(1):
        return _venue(match.group(1), _two_digit_year(match.group(2)), match.group(3))
    match = re.fullmatch(r"(.*?)[\s,]*((?:19|20)\d{2})\b\s*(.*)", text)
    if match and match.group(1):
        return _venue(match.group(1), int(match.group(2)), match.group(3))
    match = re.fullmatch(r"([A-Za-z][A-Za-z&.\- ]*?)\s*(\d{2})", text)
    if match:
        return _venue(match.group(1), _two_digit_year(match.group(2)), "")
    return Venue(canonical_venue_name(text))


def _venue(name: str, year: int, rest: str) -> Venue:
    track = straighten(rest).strip(" ,;-'") or None
    # "ACL Findings 2024", "Findings of EMNLP 2024" and "ACL 2024 findings" are one venue and track.
    findings = re.fullmatch(r"(?i)(?:findings of (?:the )?)?(.*?)(?:\s+findings)?", straighten(name))
    if findings and findings.group(1) != straighten(name) or (track or "").casefold() == "findings":
        name, track = findings.group(1), "Findings"
    if name.strip(" -–—").casefold() in ("others", "other", ""):
        return Venue(None, year)
    return Venue(canonical_venue_name(name), year, None, track)


def venue_text(name: str | None, year: int | None, track: str | None = None) -> str:
    """"NeurIPS 2024 D&B", "arXiv 2023", or "" when nothing is known."""
    return " ".join(str(part) for part in (name, year, track) if part)


def url_identity(url: str) -> str:
    """The key under which two spellings of one link are the same link.

    arXiv links become their abs page, the host is case-insensitive, a trailing slash is ignored, and
    so is the case of a GitHub owner/name (GitHub treats them case-insensitively). Other paths keep
    their case: many sites (OpenReview ids, for one) are case-sensitive.
    """
    url = canonical_paper_url(url)
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    host = (parts.hostname or "").lower()
    if host in ("github.com", "www.github.com"):
        host = "github.com"
        # The root of the default branch is the repository page itself.
        path = re.sub(r"^(/[^/]+/[^/]+)/tree/(?:main|master)$", r"\1", path).lower()
    query = f"?{parts.query}" if parts.query else ""
    return f"{host}{path}{query}"


# --- paper identities ---------------------------------------------------------------------------

_DOI_RE = re.compile(r"\b(10\.\d{4,9}/[^\s?#]+)", re.I)
_DOI_HOSTS = ("doi.org", "dx.doi.org", "dl.acm.org", "link.springer.com", "onlinelibrary.wiley.com",
              "www.sciencedirect.com", "journals.sagepub.com", "pubs.acs.org", "academic.oup.com",
              "www.tandfonline.com", "ojs.aaai.org", "ieeexplore.ieee.org", "www.nature.com")
_OPENREVIEW_RE = re.compile(r"^https?://(?:www\.)?openreview\.net/(?:forum|pdf)\?(?:.*&)?id=([A-Za-z0-9_-]+)", re.I)
_ACL_RE = re.compile(r"^https?://(?:www\.)?aclanthology\.org/([A-Za-z0-9.-]+?)(?:\.pdf)?/?$", re.I)


def doi_from_url(url: str) -> str | None:
    """The DOI a publisher or doi.org URL names (lower-cased, as DOIs are case-insensitive), else None.

    >>> doi_from_url("https://dl.acm.org/doi/pdf/10.1145/3637528.3671456")
    '10.1145/3637528.3671456'
    """
    parts = urlsplit(url.strip())
    if (parts.hostname or "").lower() not in _DOI_HOSTS:
        return None
    match = _DOI_RE.search(parts.path)
    if not match:
        return None
    doi = match.group(1).rstrip("/.").lower()
    doi = re.sub(r"\.pdf$", "", doi)
    if doi.startswith("10.48550/arxiv."):
        return None  # arXiv's own DOI: the arXiv id is the identity
    return doi


def paper_keys(url: str) -> set[str]:
    """Every identity under which a paper link names its paper: arXiv id, DOI, OpenReview or ACL id, URL."""
    keys = {f"url:{url_identity(url)}"}
    arxiv = arxiv_id_from_url(url)
    if arxiv:
        keys.add(f"arxiv:{arxiv}")
    doi = doi_from_url(url)
    if doi:
        keys.add(f"doi:{doi}")
    for prefix, pattern in (("openreview", _OPENREVIEW_RE), ("acl", _ACL_RE)):
        match = pattern.match(url.strip())
        if match:
            keys.add(f"{prefix}:{match.group(1).lower()}")
    return keys
