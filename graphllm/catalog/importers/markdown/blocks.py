"""Markdown split into the pieces an awesome list is made of: headings, list items and table rows.

Awesome lists write one entry per list item (`-`, `*`, `+` or numbered; the item may continue on
indented lines, after a blank line, or in a nested bullet holding its authors or links) or per table
row (with a header row that names the columns). `<details>` blocks are read like the rest, their
`<summary>` acting as a heading, as does a paragraph of bold text alone. Code fences and HTML comments are skipped.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field

_HEADING_RE = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_BULLET_RE = re.compile(r"^(\s*)([-*+]|\d{1,4}[.)])\s+(\S.*)$")
_TABLE_SEPARATOR_RE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_SUMMARY_RE = re.compile(r"<summary[^>]*>(.*?)</summary>", re.I)
_WEB_LINK_RE = re.compile(r"\]\(\s*https?://|<a\s[^>]*href=[\"']https?://|(?<![(\w])https?://", re.I)
_BOLD_LINE_RE = re.compile(r"^\*{2,3}([^*]+)\*{2,3}\s*$")  # a paragraph that is only bold text: a sub-heading
DETAILS_LEVEL = 7  # a <summary> or a bold line nests under whatever heading holds it


def heading_plain(text: str) -> str:
    """A heading as people read it: no images, HTML, emphasis, emoji or in-heading links."""
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)|<img[^>]*>", "", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"<[^>]+>", "", text).replace("*", "").replace("\\", "")
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("So", "Sk", "Cn", "Cs", "Co")
                   and ch not in "\ufe0f\u200d")
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip(" -:")


@dataclass
class Item:
    """One list item or table row, with the heading path it sits under."""

    line: int
    path: tuple[str, ...]
    lines: list[tuple[int, str]] = field(default_factory=list)
    indent: int = 0
    cells: dict[str, str] | None = None  # header name -> cell text, for a table row

    @property
    def text(self) -> str:
        return "\n".join(text for _, text in self.lines)

    @property
    def has_web_link(self) -> bool:
        """Whether it links anywhere outside the page: what makes a line look like an entry."""
        return bool(_WEB_LINK_RE.search(self.text))


def _cells(line: str) -> list[str]:
    text = line.strip()
    if text.startswith("|"):
        text = text[1:]
    if text.endswith("|") and not text.endswith("\\|"):
        text = text[:-1]
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", text)]


def iter_items(text: str) -> Iterator[Item]:
    """Every list item and table row of a Markdown document, in order."""
    lines = text.splitlines()
    path: list[tuple[int, str]] = []
    current: Item | None = None
    blank_before = False
    in_fence = False
    in_comment = False
    header: list[str] | None = None

    def under() -> tuple[str, ...]:
        return tuple(title for _, title in path if title)

    seen_item = False

    def set_heading(level: int, title: str) -> None:
        if level == 1 and not seen_item and not path:
            title = ""  # the document's own title heads every path; it names no section
        while path and path[-1][0] >= level:
            path.pop()
        path.append((level, title))

    for number, raw in enumerate(lines, start=1):
        line = raw
        if in_comment:
            if "-->" not in line:
                continue
            line, in_comment = line.split("-->", 1)[1], False
        line = re.sub(r"<!--.*?-->", "", line)
        if "<!--" in line:
            line, in_comment = line.split("<!--", 1)[0], True
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        stripped = line.strip()
        heading = _HEADING_RE.match(line)
        summary = _SUMMARY_RE.search(line) or (None if current and line[:1].isspace() else _BOLD_LINE_RE.match(line))
        if heading or summary or stripped.lower().startswith("</details"):
            if current:
                yield current
                current = None
            header = None
            if heading:
                set_heading(len(heading.group(1)), heading_plain(heading.group(2)))
            elif summary:
                set_heading(DETAILS_LEVEL, heading_plain(summary.group(1)))
            elif path and path[-1][0] == DETAILS_LEVEL:
                path.pop()
            continue
        if stripped.startswith("|") or (header is not None and "|" in stripped):
            if current:
                yield current
                current = None
            if _TABLE_SEPARATOR_RE.match(stripped):
                continue
            following = lines[number] if number < len(lines) else ""
            if header is None or _TABLE_SEPARATOR_RE.match(following.strip()):
                header = [heading_plain(cell).casefold() for cell in _cells(stripped)]
                continue
            cells = _cells(stripped)
            named = {name or f"column {i + 1}": (cells[i] if i < len(cells) else "") for i, name in enumerate(header)}
            seen_item = True
            yield Item(number, under(), [(number, stripped)], cells=named)
            continue
        header = None
        bullet = _BULLET_RE.match(line)
        if bullet:
            indent = len(bullet.group(1).expandtabs(4))
            content = bullet.group(3)
            if current and indent > current.indent and _continues(current, content):
                current.lines.append((number, content))
                blank_before = False
                continue
            if current:
                yield current
            current = Item(number, under(), [(number, content)], indent)
            seen_item = True
            blank_before = False
            continue
        if not stripped:
            blank_before = bool(current)
            continue
        if current and (not blank_before or len(line) - len(line.lstrip()) >= 2):
            current.lines.append((number, stripped))
            blank_before = False
            continue
        if current:
            yield current
            current = None
    if current:
        yield current


def _continues(parent: Item, content: str) -> bool:
    """A nested bullet continues its parent when it adds authors or the parent's first links."""
    child = Item(0, (), [(0, content)])
    return not child.has_web_link or not parent.has_web_link
