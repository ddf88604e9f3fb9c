"""The JSON files of bench reports: written atomically, read back with their format checked, and a file that is
not one a clear error naming the command that writes it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import ClassVar

from graphllm.errors import GraphLLMError
from graphllm.fileio import atomic_write_text


class ReportFile:
    """What a bench report dataclass inherits to be written as JSON and read back: it names the command that
    writes it (`COMMAND`), its format version (`FORMAT`, a field `format` it also has) and its list of rows
    (`ROWS`: the field and the row dataclass)."""

    COMMAND: ClassVar[str]
    FORMAT: ClassVar[int]
    ROWS: ClassVar[tuple[str, type]]

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def write(self, path: str | Path) -> None:
        atomic_write_text(path, json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def read(cls, path: str | Path):
        """The report in the JSON file at `path`; a file that is not one is a GraphLLMError saying so."""
        key, row = cls.ROWS
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            if data.get("format") != cls.FORMAT:
                raise ValueError(f"format {data.get('format')}, this graphllm reads {cls.FORMAT}")
            return cls(**{**data, key: [row(**item) for item in data[key]]})
        except (OSError, ValueError, TypeError, AttributeError, KeyError) as exc:
            raise GraphLLMError(f"{path}: not a `{cls.COMMAND} --json` result ({exc})") from None


def utc_now() -> str:
    """When a report is made, to the minute: `2026-12-08 09:30 UTC`."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
