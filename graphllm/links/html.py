"""Small HTML readers: the anchors a page defines, and the links it contains."""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Anchors GitHub creates with JavaScript (line ranges in file views): not in the served HTML.
_GITHUB_JS_ANCHOR = re.compile(r"^L\d+(?:C\d+)?(?:-L\d+(?:C\d+)?)?$")
LINK_ATTRS = {"a": "href", "link": "href", "area": "href", "img": "src", "script": "src", "iframe": "src",
              "source": "src", "video": "src", "audio": "src", "embed": "src"}


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: set[str] = set()
        self.links: list[tuple[str, int]] = []
        self.base: str | None = None

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        for key in ("id", "name"):
            if values.get(key):
                self.anchors.add(values[key])
        if tag == "base" and values.get("href"):
            self.base = values["href"]
        attr = LINK_ATTRS.get(tag)
        if attr and values.get(attr):
            self.links.append((values[attr].strip(), self.getpos()[0]))

    handle_startendtag = handle_starttag


def parse_html(text: str) -> _Collector:
    collector = _Collector()
    collector.feed(text)
    collector.close()
    return collector


def has_anchor(anchors: set[str], fragment: str, host: str = "") -> bool:
    """`#x` exists as an id or name, or as GitHub's `user-content-x`, or is a GitHub line anchor."""
    from urllib.parse import unquote

    for name in {fragment, unquote(fragment)}:
        if name in anchors or f"user-content-{name}" in anchors or f"user-content-{name.lower()}" in anchors:
            return True
    return host.endswith("github.com") and bool(_GITHUB_JS_ANCHOR.match(fragment))
