"""Upstream list importers, found through one registry. Each module exposes NAME, TITLE,
DEFAULT_PATH (relative to the shared data directory) and `parse(text) -> ParseResult`.
Adding a list means adding one module here and nothing else."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from graphllm.catalog.importers import awesome_graph_llm, lm_on_graphs, seed_toolbox
from graphllm.catalog.importers.base import ParseResult, read_commit_date
from graphllm.errors import CatalogError

IMPORTERS: dict[str, ModuleType] = {m.NAME: m for m in (awesome_graph_llm, lm_on_graphs, seed_toolbox)}


def parse_file(name: str, path: str | Path) -> ParseResult:
    if name not in IMPORTERS:
        raise CatalogError(f"unknown upstream list {name!r}; known: {', '.join(IMPORTERS)}")
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogError(f"cannot read upstream list {path}: {exc.strerror or exc}") from exc
    result = IMPORTERS[name].parse(text, ParseResult(name))
    result.commit_date = read_commit_date(path)
    return result


def parse_data_dir(data_dir: str | Path) -> list[ParseResult]:
    """Parse every known upstream list under `data_dir` (the shared data folder)."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise CatalogError(f"upstream data directory {data_dir} not found; pass --data DIR")
    return [parse_file(name, data_dir / module.DEFAULT_PATH) for name, module in IMPORTERS.items()]
