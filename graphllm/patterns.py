"""Regular expressions that users write in settings files (upstream title rules, link-check exclusions), checked
once where the settings load, so that a typo is one clear line and not an error deep in a run."""

from __future__ import annotations

import re


def checked_pattern(pattern: str, what: str) -> str:
    """`pattern` unchanged if it compiles; otherwise a ValueError naming `what` (e.g. "title pattern")."""
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"{what} {pattern!r} is not a regular expression: {exc}") from None
    return pattern
