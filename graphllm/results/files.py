"""The JSON files of bench reports: written atomically, read back with their format, fields and types checked,
and a file that is not one a clear error naming the command that writes it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import typing
from pathlib import Path
from typing import ClassVar

from pydantic import TypeAdapter, ValidationError

from graphllm.errors import GraphLLMError
from graphllm.fileio import atomic_write_text


class ReportFile:
    """What a bench report dataclass inherits to be written as JSON and read back: it names the command that
    writes it (`COMMAND`) and its format version (`FORMAT`, a field `format` it also has). Its fields that are
    lists of dataclasses are its rows; `DERIVED` names keys a row is written with beside its fields (rates worked
    out from them), which reading drops."""

    COMMAND: ClassVar[str]
    FORMAT: ClassVar[int]
    DERIVED: ClassVar[frozenset[str]] = frozenset()

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def write(self, path: str | Path) -> None:
        atomic_write_text(path, json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def read(cls, path: str | Path):
        """The report in the JSON file at `path`; a file that is not one is a GraphLLMError saying what is wrong
        and what writes one."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise cls._not_one(path, f"not readable as JSON ({exc})") from None
        if not isinstance(data, dict) or data.get("format") != cls.FORMAT:
            found = data.get("format") if isinstance(data, dict) else None
            raise cls._not_one(path, f"format {found}, where this graphllm reads {cls.FORMAT}")
        problem = _unknown_or_missing(cls, data)
        for key, row in _row_fields(cls).items():
            for item in data.get(key) or []:
                problem = problem or (f"a row of {key} is not an object: {str(item)[:80]}"
                                      if not isinstance(item, dict) else _unknown_or_missing(row, item, cls.DERIVED))
            data[key] = [{k: v for k, v in item.items() if k not in cls.DERIVED} for item in data.get(key) or []]
        if problem:
            raise cls._not_one(path, problem)
        try:
            return TypeAdapter(cls).validate_python(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            raise cls._not_one(path, f"{'.'.join(map(str, err['loc']))}: {err['msg']}") from None

    @classmethod
    def _not_one(cls, path, why: str) -> GraphLLMError:
        return GraphLLMError(f"{path}: not a `{cls.COMMAND} --json` result: {why}; write one with "
                             f"`{cls.COMMAND} --json {path}`")


def _unknown_or_missing(kind: type, data: dict, derived: frozenset[str] = frozenset()) -> str | None:
    fields = dataclasses.fields(kind)
    unknown = sorted(set(data) - {f.name for f in fields} - derived)
    missing = [f.name for f in fields if f.name not in data and f.default is dataclasses.MISSING
               and f.default_factory is dataclasses.MISSING]
    where = "" if issubclass(kind, ReportFile) else f"a row ({kind.__name__}) has "
    if unknown:
        return f"{where}unknown field {unknown[0]!r}"
    return f"{where}no {', '.join(missing)}" if missing else None


def _row_fields(kind: type) -> dict[str, type]:
    """The fields of `kind` that are lists of dataclasses, with the row dataclass."""
    hints = typing.get_type_hints(kind)
    rows = {}
    for f in dataclasses.fields(kind):
        args = typing.get_args(hints[f.name])
        if typing.get_origin(hints[f.name]) is list and args and dataclasses.is_dataclass(args[0]):
            rows[f.name] = args[0]
    return rows


def utc_now() -> str:
    """When a report is made, to the minute: `2026-12-08 09:30 UTC`."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
