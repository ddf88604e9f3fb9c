"""Finding links: in the catalog, in Markdown files, and in a built site directory.

External http(s) links become targets for the online checker. Links inside a site or between Markdown
files are checked here, offline: the file must exist and a `#fragment` must name an anchor in it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

from graphllm.links.html import has_anchor, parse_html
from graphllm.links.model import Result, Target, Verdict

SKIPPED_SCHEMES = ("mailto:", "javascript:", "data:", "tel:", "about:", "blob:")

_FENCE = re.compile(r"^\s*(```|~~~)")
_INLINE_CODE = re.compile(r"`[^`]*`")
_MD_LINK = re.compile(r"\]\(\s*<?([^()\s<>]*(?:\([^()\s]*\)[^()\s<>]*)*)>?(?:\s+[\"'(][^)]*)?\s*\)")
_AUTOLINK = re.compile(r"<((?:https?|mailto):[^>\s]+)>")
_REF_DEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$")
_HTML_ATTR = re.compile(r"""\b(?:href|src)\s*=\s*["']([^"']+)["']""")
_BARE = re.compile(r"https?://[^\s<>\"'`\]\[]+")


@dataclass
class Extraction:
    targets: list[Target] = field(default_factory=list)  # to check online
    offline: list[Result] = field(default_factory=list)  # already decided: internal links, exclusions
    skipped: int = 0  # mailto:, javascript:, data:, ...


def from_catalog(root: Path) -> Extraction:
    from graphllm.catalog.store import read_catalog

    _, located, _ = read_catalog(root)
    out = Extraction()
    for item in located:
        for link in item.entry.links:
            out.targets.append(Target(link.url, f"{item.file}: {item.entry.id}"))
    return out


def markdown_links(text: str) -> list[tuple[str, int]]:
    """(url, line) for inline links and images, autolinks, reference definitions, HTML attributes and
    bare URLs, outside code blocks and code spans."""
    found: list[tuple[str, int]] = []
    in_fence = False
    for number, line in enumerate(text.splitlines(), start=1):
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        line = _INLINE_CODE.sub("", line)
        ref = _REF_DEF.match(line)
        spans = []
        for pattern in (_MD_LINK, _AUTOLINK, _HTML_ATTR):
            for match in pattern.finditer(line):
                found.append((match.group(1), number))
                spans.append(match.span())
        if ref:
            found.append((ref.group(1), number))
            spans.append(ref.span())
        rest = line
        for start, end in sorted(spans, reverse=True):
            rest = rest[:start] + " " * (end - start) + rest[end:]
        for match in _BARE.finditer(rest):
            found.append((_trim_bare(match.group(0)), number))
    return [(url, number) for url, number in found if url]


def _trim_bare(url: str) -> str:
    url = url.rstrip(".,;:!?*_~")
    while url.endswith(")") and url.count("(") < url.count(")"):
        url = url[:-1]
    return url


def markdown_anchors(text: str) -> set[str]:
    from graphllm.catalog.render import github_slug

    seen: dict[str, int] = {}
    anchors = {github_slug(m.group(1).strip(), seen) for m in re.finditer(r"^#{1,6}\s+(.+?)\s*#*\s*$", text, re.M)}
    return anchors | parse_html(text).anchors


def from_markdown(paths: list[Path]) -> Extraction:
    out = Extraction()
    for path in paths:
        text = path.read_text(encoding="utf-8")
        for url, line in markdown_links(text):
            _route(out, url, f"{path}:{line}", lambda u, s, p=path: _local_markdown(p, u, s))
    return _merge_offline(out)


def _route(out: Extraction, url: str, source: str, local: Callable[[str, str], Result]) -> None:
    """A link is skipped (mailto:, other schemes), checked online (http, https, //host) or decided now
    by `local` (a file of the site or of the repository)."""
    if re.match(r"^https?://", url, re.I):
        out.targets.append(Target(url, source))
    elif url.startswith("//"):
        out.targets.append(Target("https:" + url, source))
    elif url.lower().startswith(SKIPPED_SCHEMES) or re.match(r"^[a-z][a-z0-9+.-]*:", url, re.I):
        out.skipped += 1
    else:
        out.offline.append(local(url, source))


def _local_markdown(path: Path, url: str, source: str) -> Result:
    target, fragment = urldefrag(url)
    file = (path.parent / unquote(target)).resolve() if target else path
    if not file.exists():
        return Result(url, Verdict.BROKEN, error=f"file {file} not found", sources=[source])
    if fragment and file.suffix.lower() in (".md", ".markdown"):
        if fragment not in markdown_anchors(file.read_text(encoding="utf-8")):
            return Result(url, Verdict.BROKEN, error=f"no heading or anchor #{fragment} in {file.name}",
                          sources=[source])
    return Result(url, Verdict.OK, final_url=str(file), sources=[source])


def from_site(site: Path) -> Extraction:
    """Every href/src of every HTML page. Internal links are resolved like a web server would."""
    out = Extraction()
    anchors_cache: dict[Path, set[str]] = {}
    root = site.resolve()
    for page in sorted(root.rglob("*.html")):
        parsed = parse_html(page.read_text(encoding="utf-8", errors="replace"))
        relative_page = page.relative_to(root)
        for href, line in parsed.links:
            _route(out, href, f"{relative_page}:{line}",
                   lambda u, s, p=page: _local_site(root, p, u, s, anchors_cache))
    return _merge_offline(out)


def _local_site(root: Path, page: Path, href: str, source: str, cache: dict[Path, set[str]]) -> Result:
    parts = urlsplit(href)
    path = unquote(parts.path)
    if not path:
        file = page
    elif path.startswith("/"):
        file = root / path.lstrip("/")
    else:
        file = page.parent / path
    file = Path(file).resolve()
    if file.is_dir():
        file = file / "index.html"
    shown = "/" + str(file.relative_to(root)) if file.is_relative_to(root) else str(file)
    display = shown + (f"#{parts.fragment}" if parts.fragment else "")
    if not file.is_relative_to(root):
        return Result(display, Verdict.BROKEN, error="points outside the site", sources=[source])
    if not file.exists():
        return Result(display, Verdict.BROKEN, error="file not found in the site", sources=[source])
    if parts.fragment and file.suffix == ".html":
        if file not in cache:
            cache[file] = parse_html(file.read_text(encoding="utf-8", errors="replace")).anchors
        if not has_anchor(cache[file], parts.fragment):
            return Result(display, Verdict.BROKEN, error=f"anchor #{parts.fragment} not found", sources=[source])
    return Result(display, Verdict.OK, sources=[source])


def _merge_offline(out: Extraction) -> Extraction:
    """One result per distinct local link, with every place it was found."""
    merged: dict[str, Result] = {}
    for result in out.offline:
        if result.url in merged:
            merged[result.url].sources.extend(result.sources)
        else:
            merged[result.url] = result
    out.offline = list(merged.values())
    return out
