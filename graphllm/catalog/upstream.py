"""`graphllm catalog import` and `sync`: parse upstream lists and merge them into `catalog/`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from graphllm.catalog.importers import IMPORTERS, parse_data_dir
from graphllm.catalog.importers.base import ParseResult
from graphllm.catalog.merge import MergeReport, merge
from graphllm.catalog.store import Catalog, preview_diff, read_catalog, today, write_catalog
from graphllm.errors import CatalogError


@dataclass
class ImportOutcome:
    catalog: Catalog
    report: MergeReport
    changed: list[Path]
    diff: str


def import_upstream(catalog_dir: str | Path, data_dir: str | Path, dry_run: bool = False) -> ImportOutcome:
    """Merge every upstream list into the catalog. Refuses to touch a catalog that does not validate."""
    return merge_into(catalog_dir, parse_data_dir(data_dir), dry_run)


def sync_upstream(catalog_dir: str | Path, source: str | None, data_dir: str | Path, list_name: str | None = None,
                  dry_run: bool = False, timeout: float = 30.0) -> ImportOutcome:
    """`graphllm catalog sync`: re-import every upstream list, or one list from a file or URL."""
    if source is None:
        return import_upstream(catalog_dir, data_dir, dry_run)
    if source.startswith(("http://", "https://")):
        import requests

        try:
            response = requests.get(source, timeout=timeout)
            response.raise_for_status()
        except requests.RequestException as exc:
            raise CatalogError(f"cannot fetch {source}: {exc}") from None
        text = response.text
    else:
        try:
            text = Path(source).read_text(encoding="utf-8")
        except OSError as exc:
            raise CatalogError(f"cannot read {source}: {exc.strerror or exc}") from None
    name = list_name or detect_list(text)
    if name not in IMPORTERS:
        raise CatalogError(f"unknown upstream list {name!r}; known: {', '.join(IMPORTERS)}")
    return merge_into(catalog_dir, [IMPORTERS[name].parse(text, ParseResult(name))], dry_run)


def detect_list(text: str) -> str:
    """Which upstream format a README is in, from its shape."""
    if re.search(r"^\d+\.\s+\*\*.+\*\*\s*`", text, re.M):
        return "lm-on-graphs"
    if re.search(r"^- \(\*?[^)]*\)", text, re.M):
        return "awesome-graph-llm"
    raise CatalogError("cannot tell which upstream list this is; pass --list NAME")


def merge_into(catalog_dir: str | Path, results, dry_run: bool = False) -> ImportOutcome:
    catalog_dir = Path(catalog_dir)
    existing = None
    if catalog_dir.exists() and any(catalog_dir.glob("*.yaml")):
        existing, _, problems = read_catalog(catalog_dir)
        if problems:
            raise CatalogError(f"{problems[0]} - fix the catalog (see `graphllm catalog validate`) before importing")
    merged, report = merge(existing, results, catalog_dir, today())
    if dry_run:
        return ImportOutcome(merged, report, [], preview_diff(merged))
    return ImportOutcome(merged, report, write_catalog(merged), "")
