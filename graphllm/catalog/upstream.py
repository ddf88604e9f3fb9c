"""`graphllm catalog import` and `sync`: read upstream lists and merge them into `catalog/`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from graphllm.catalog.importers import list_name, parse_all, parse_text, parse_upstream, read_list_file
from graphllm.catalog.merge import MergeReport, merge
from graphllm.catalog.store import (
    NON_SECTION_FILES,
    Catalog,
    preview_diff,
    read_catalog,
    read_taxonomy,
    today,
    write_catalog,
)
from graphllm.catalog.upstreams import Upstreams, load_upstreams
from graphllm.errors import CatalogError


@dataclass
class ImportOutcome:
    catalog: Catalog
    report: MergeReport
    changed: list[Path]
    diff: str


def import_upstream(catalog_dir: str | Path, data_dir: str | Path, dry_run: bool = False) -> ImportOutcome:
    """Merge every configured upstream list into the catalog. Refuses a catalog that does not validate."""
    upstreams = load_upstreams(catalog_dir)
    return merge_into(catalog_dir, upstreams, parse_all(upstreams, data_dir), dry_run)


def sync_upstream(catalog_dir: str | Path, source: str | None, data_dir: str | Path, list_name_: str | None = None,
                  dry_run: bool = False, timeout: float = 30.0) -> ImportOutcome:
    """`graphllm catalog sync`: every configured list, one configured list (`--list`), or any list's
    Markdown from a file or URL (with `--list`, read with that list's settings)."""
    upstreams = load_upstreams(catalog_dir)
    if source is None:
        if list_name_ is None:
            return import_upstream(catalog_dir, data_dir, dry_run)
        result = parse_upstream(upstreams, upstreams.get(list_name_), data_dir)
        return merge_into(catalog_dir, upstreams, [result], dry_run)
    text = fetch_list(source, timeout)
    upstream = upstreams.get(list_name_) if list_name_ else _configured(upstreams, source)
    name = upstream.name if upstream else list_name(text, Path(source.rstrip("/")).stem)
    result = parse_text(text, upstreams, upstream, source=name, display=source)
    return merge_into(catalog_dir, upstreams, [result], dry_run)


def _configured(upstreams: Upstreams, source: str):
    """The configured list a URL is the raw README of, if any."""
    return next((u for u in upstreams.lists if source in (u.raw_url, u.repository)), None)


def fetch_list(source: str, timeout: float = 30.0) -> str:
    if source.startswith(("http://", "https://")):
        import requests

        try:
            response = requests.get(source, timeout=timeout)
            response.raise_for_status()
        except requests.RequestException as exc:
            raise CatalogError(f"cannot fetch {source}: {exc}") from None
        response.encoding = response.encoding or "utf-8"
        return response.text
    return read_list_file(Path(source))


def merge_into(catalog_dir: str | Path, upstreams: Upstreams, results, dry_run: bool = False) -> ImportOutcome:
    catalog_dir = Path(catalog_dir)
    existing = None
    if any(path.name not in NON_SECTION_FILES for path in catalog_dir.glob("*.yaml")):
        existing, _, problems = read_catalog(catalog_dir)
        if problems:
            raise CatalogError(f"{problems[0]} - fix the catalog (see `graphllm catalog validate`) before importing")
    taxonomy, problems = read_taxonomy(catalog_dir)
    if problems:
        raise CatalogError(str(problems[0]))
    merged, report = merge(existing, results, catalog_dir, today(), taxonomy=taxonomy, rank=upstreams.rank)
    if dry_run:
        return ImportOutcome(merged, report, [], preview_diff(merged))
    return ImportOutcome(merged, report, write_catalog(merged), "")
