"""One link-check run: gather links from the inputs, answer what the cache knows, check the rest."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from urllib.parse import urldefrag

from graphllm.errors import GraphLLMError
from graphllm.links import extract
from graphllm.links.cache import VerdictCache
from graphllm.links.checker import check_urls
from graphllm.links.config import LinkConfig
from graphllm.links.model import Result, Verdict
from graphllm.links.report import LinkReport


class LinkInputError(GraphLLMError):
    pass


def gather(inputs: list[Path]) -> tuple[extract.Extraction, list[str]]:
    """Links of every input: a catalog directory, a built site directory, or Markdown files."""
    from graphllm import paths

    inputs = inputs or [paths.catalog_dir()]
    total = extract.Extraction()
    names = []
    for path in inputs:
        if path.is_dir() and (path / "taxonomy.yaml").exists():
            part = extract.from_catalog(path)
        elif path.is_dir() and any(path.rglob("*.html")):
            part = extract.from_site(path)
        elif path.is_dir():
            part = extract.from_markdown(sorted(path.rglob("*.md")))
        elif path.is_file() and path.suffix.lower() in (".md", ".markdown"):
            part = extract.from_markdown([path])
        elif not path.exists():
            raise LinkInputError(f"{path} does not exist; give a catalog directory, a built site or Markdown files")
        else:
            raise LinkInputError(f"{path} is neither a catalog directory, a built site nor a Markdown file")
        total.targets += part.targets
        total.offline += part.offline
        total.skipped += part.skipped
        names.append(str(path))
    return total, names


def check(inputs: list[Path], config: LinkConfig, progress: bool = False, use_cache: bool = True) -> LinkReport:
    start = time.perf_counter()
    found, names = gather(inputs)
    sources: dict[str, list[str]] = {}
    for target in found.targets:
        sources.setdefault(target.url, []).append(target.source)

    results: list[Result] = list(found.offline)
    cache = VerdictCache(config.cache.path, config.cache.max_age_hours) if use_cache and config.cache.enabled else None
    pages: dict[str, set[str]] = {}
    wanted: set[str] = set()
    for url in sources:
        if config.excluded(url):
            results.append(Result(url, Verdict.SKIPPED, error="excluded by configuration"))
            continue
        cached = cache.get(url) if cache else None
        if cached:
            results.append(cached)
            continue
        page, fragment = urldefrag(url)
        pages.setdefault(page, set())
        if fragment:
            pages[page].add(fragment)
        wanted.add(url)

    bar = None
    if progress and pages:
        from tqdm import tqdm

        bar = tqdm(total=len(wanted), unit="link", desc="checking links", leave=False)
    try:
        checked = asyncio.run(check_urls(pages, config, on_done=bar.update if bar else None))
    finally:
        if bar:
            bar.close()
    checked = [r for r in checked if r.url in wanted]
    if cache:
        cache.put_many(checked)
        cache.close()
    results += checked
    for result in results:
        if result.url in sources:
            result.sources = sources[result.url]
    results.sort(key=lambda r: (r.verdict != Verdict.BROKEN, str(r.verdict), r.url))
    return LinkReport(names, results, found.skipped, time.perf_counter() - start)
