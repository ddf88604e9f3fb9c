"""Reading and writing the JSON files of bench reports: written atomically, read back with their format checked,
and a file that is not one a clear error naming the command that writes it."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

from graphllm.errors import GraphLLMError
from graphllm.fileio import atomic_write_text


def write_report(data: dict, path: str | Path) -> None:
    atomic_write_text(path, json.dumps(data, indent=2) + "\n")


def read_report(path: str | Path, command: str, version: int, build: Callable[[dict], object]):
    """`build(data)` of the JSON file at `path`, which `command --json` wrote in format `version`."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if data.get("format") != version:
            raise ValueError(f"format {data.get('format')}, this graphllm reads {version}")
        return build(data)
    except (OSError, ValueError, TypeError, AttributeError, KeyError) as exc:
        raise GraphLLMError(f"{path}: not a `{command} --json` result ({exc})") from None


def utc_now() -> str:
    """When a report is made, to the minute: `2026-12-08 09:30 UTC`."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
