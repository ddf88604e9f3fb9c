"""`graphllm catalog import`: parse the upstream lists and merge them into `catalog/`."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from graphllm.catalog.importers import parse_data_dir
from graphllm.catalog.merge import MergeReport, merge
from graphllm.catalog.store import Catalog, read_catalog, today, write_catalog
from graphllm.errors import CatalogError


@dataclass
class ImportOutcome:
    catalog: Catalog
    report: MergeReport
    changed: list[Path]
    diff: str


def import_upstream(catalog_dir: str | Path, data_dir: str | Path, dry_run: bool = False) -> ImportOutcome:
    """Merge every upstream list into the catalog. Refuses to touch a catalog that does not validate."""
    catalog_dir = Path(catalog_dir)
    existing = None
    if catalog_dir.exists() and any(catalog_dir.glob("*.yaml")):
        existing, _, problems = read_catalog(catalog_dir)
        if problems:
            raise CatalogError(f"{problems[0]} - fix the catalog (see `graphllm catalog validate`) before importing")
    results = parse_data_dir(data_dir)
    merged, report = merge(existing, results, catalog_dir, today())
    if dry_run:
        return ImportOutcome(merged, report, [], _preview_diff(merged))
    return ImportOutcome(merged, report, write_catalog(merged), "")


def _preview_diff(catalog: Catalog) -> str:
    """A unified diff of what writing `catalog` would change, computed without writing."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        preview = Catalog(Path(tmp), catalog.taxonomy, catalog.sections)
        write_catalog(preview)
        chunks = []
        for new in sorted(Path(tmp).glob("*.yaml")):
            old = catalog.root / new.name
            before = old.read_text(encoding="utf-8").splitlines(keepends=True) if old.exists() else []
            chunks.extend(difflib.unified_diff(before, new.read_text(encoding="utf-8").splitlines(keepends=True),
                                               str(old), str(old)))
        return "".join(chunks)
