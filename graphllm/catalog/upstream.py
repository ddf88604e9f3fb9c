"""`graphllm catalog import` and `sync`: read upstream lists and merge them into `catalog/`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from graphllm.catalog.importers import list_name, parse_all, parse_text, parse_upstream, read_list_file
from graphllm.catalog.importers.base import read_source_field
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
from graphllm.fileio import write_if_changed

NOTICE_FILE = "NOTICE"


@dataclass
class ImportOutcome:
    catalog: Catalog
    report: MergeReport
    changed: list[Path]
    diff: str


def import_upstream(catalog_dir: str | Path, data_dir: str | Path, dry_run: bool = False) -> ImportOutcome:
    """Merge every configured upstream list into the catalog. Refuses a catalog that does not validate."""
    upstreams = load_upstreams(catalog_dir)
    outcome = merge_into(catalog_dir, upstreams, parse_all(upstreams, data_dir), dry_run)
    if not dry_run and write_if_changed(Path(catalog_dir) / NOTICE_FILE, notice(upstreams, data_dir)):
        outcome.changed.append(Path(catalog_dir) / NOTICE_FILE)
    return outcome


def notice(upstreams: Upstreams, data_dir: str | Path) -> str:
    """catalog/NOTICE: the copyright and permission notice of every merged list, as its licence requires."""
    parts = [f"The catalog in this directory merges entries from {sum(1 for u in upstreams.lists if u.repository)} "
             "lists named in upstreams.yaml. Their copyright and\npermission notices follow, as their licences "
             "require.\n"]
    for upstream in upstreams.lists:
        if not upstream.repository:
            continue
        folder = upstream.readme(Path(data_dir)).parent
        licence = folder / "LICENSE"
        if not licence.exists():
            raise CatalogError(f"{upstream.name}: no LICENSE beside its snapshot in {folder}; a list is merged only "
                               "under a licence that allows it")
        commit = read_source_field(folder, "commit")
        parts.append("=" * 80 + f"\nsource: {upstream.repository}\n" + (f"commit: {commit}\n" if commit else "")
                     + "\n" + licence.read_text(encoding="utf-8").strip() + "\n")
    return "\n".join(parts)


def sync_upstream(catalog_dir: str | Path, source: str | None, data_dir: str | Path, list_name_: str | None = None,
                  dry_run: bool = False, timeout: float = 30.0, latest: bool = False) -> ImportOutcome:
    """`graphllm catalog sync`: every configured list, one configured list (`--list`), any list's Markdown
    from a file or URL (with `--list`, read with that list's settings), or (`latest`) every configured
    list fetched from its raw_url today."""
    upstreams = load_upstreams(catalog_dir)
    if latest:
        chosen = [upstreams.get(list_name_)] if list_name_ else [u for u in upstreams.lists if u.raw_url]
        results = [parse_text(fetch_list(u.raw_url, timeout), upstreams, u, display=u.raw_url) for u in chosen]
        return merge_into(catalog_dir, upstreams, results, dry_run)
    if source is None:
        if list_name_ is None:
            return import_upstream(catalog_dir, data_dir, dry_run)
        result = parse_upstream(upstreams, upstreams.get(list_name_), data_dir)
        return merge_into(catalog_dir, upstreams, [result], dry_run)
    text = fetch_list(source, timeout)
    name = list_name_ or list_name(text, Path(source.rstrip("/")).stem)
    upstream = upstreams.get(list_name_) if list_name_ else _configured(upstreams, source, name)
    name = upstream.name if upstream else name
    result = parse_text(text, upstreams, upstream, source=name, display=source)
    return merge_into(catalog_dir, upstreams, [result], dry_run)


def _configured(upstreams: Upstreams, source: str, name: str):
    """The configured list a URL is the README of, or whose name its first heading gives, if any."""
    return next((u for u in upstreams.lists if source in (u.raw_url, u.repository) or u.name == name), None)


def fetch_list(source: str, timeout: float = 30.0) -> str:
    if source.startswith(("http://", "https://")):
        import requests

        try:
            response = requests.get(source, timeout=timeout)
            response.raise_for_status()
        except requests.RequestException as exc:
            raise CatalogError(f"cannot fetch {source}: {exc}") from None
        if "charset" not in response.headers.get("Content-Type", ""):
            response.encoding = "utf-8"  # Markdown lists are UTF-8; HTTP's default for text/* is Latin-1
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
