"""Link health on the site: the verdicts of a `graphllm links check --json` report, per link of an entry.

Only what a reader should know is marked: broken, timed out, failing (server error), blocked (could
not be verified: a bot wall or a rate limit, not a broken link) and redirected. A link the report does
not hold is shown as it is.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path

from graphllm.catalog.text import url_identity

MARKS = {  # verdict -> (mark, class, what it means to a reader)
    "broken": ("✗", "gl-link-broken", "broken"),
    "timeout": ("⏱", "gl-link-timeout", "timed out"),
    "error": ("!", "gl-link-error", "server error when checked"),
    "blocked": ("?", "gl-link-blocked", "could not be verified (bot wall or rate limit)"),
    "redirected": ("↪", "gl-link-redirected", "redirects"),
}


@dataclass(frozen=True)
class Health:
    verdict: str
    detail: str


def load_link_report(path: Path) -> tuple[dict[str, Health], list[str]]:
    """URL identity -> health, and the problems that make the report unusable (empty when it is fine)."""
    if not path.exists():
        return {}, []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        results = data["results"]
        health = {}
        for row in results:
            detail = row.get("error") or ""
            if row.get("final_url") and row["final_url"] != row["url"]:
                detail = f"to {row['final_url']}"
            health[url_identity(row["url"])] = Health(str(row["verdict"]), detail)
        return health, []
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return {}, [f"{path}: not a `graphllm links check --json` report ({type(exc).__name__}: {exc}); "
                    "rerun the link check or remove the file"]


def mark(url: str, health: dict[str, Health]) -> str:
    """The inline mark after a link, or "" when it is fine or unknown."""
    found = health.get(url_identity(url))
    if found is None or found.verdict not in MARKS:
        return ""
    symbol, css, meaning = MARKS[found.verdict]
    title = html.escape(meaning + (f": {found.detail}" if found.detail else ""), quote=True)
    return f' <span class="{css}" title="{title}">{symbol}</span>'


def summary(urls: list[str], health: dict[str, Health]) -> str:
    """"Link check: 40 ok, 1 broken, 2 blocked of 43 links" for the links of one page ("" without a report)."""
    if not health:
        return ""
    counts: dict[str, int] = {}
    for url in urls:
        found = health.get(url_identity(url))
        key = found.verdict if found else "not checked"
        counts[key] = counts.get(key, 0) + 1
    order = ["ok", "redirected", "blocked", "error", "timeout", "broken", "skipped", "not checked"]
    parts = [f"{counts[k]} {k}" for k in order if counts.get(k)]
    return f"Link check of these {len(urls)} links: " + ", ".join(parts) + "."
