"""mkdocs hooks (wired in mkdocs.yml): generate the catalog pages and plots as virtual files.

Glue only; the pages themselves come from graphllm.site.pages and graphllm.site.plots.
"""

from __future__ import annotations

import logging

from mkdocs.structure.files import File, Files

from graphllm import paths
from graphllm.catalog import bibtex
from graphllm.catalog.store import load_catalog
from graphllm.catalog.upstreams import load_upstreams
from graphllm.errors import GraphLLMError
from graphllm.site import decoding, feeds, health, leaderboard, pages, plots

log = logging.getLogger("mkdocs.plugins.graphllm")
_state: dict = {}


def on_config(config):
    try:
        catalog = load_catalog(paths.catalog_dir())
        upstreams = load_upstreams(paths.catalog_dir())
    except GraphLLMError as exc:
        raise SystemExit(f"graphllm: cannot build the site: {exc}") from None
    _state["catalog"], _state["upstreams"] = catalog, upstreams
    guide = [{"Architecture": "architecture.md"}, {"The catalog": "catalog.md"}, {"Link checker": "links.md"},
             {"Experiments": "experiments.md"}, {"Inference": "inference.md"}, {"Serving": "serve.md"},
             {"Benchmarks": "benchmarks.md"}, {"Benchmark notes": "benchmark-notes.md"}, {"On a GPU": "gpu.md"}]
    config["nav"] = pages.nav(catalog, extra=[{"Leaderboard": "leaderboard.md"}, {"Decoding speed": "decoding.md"},
                                              {"Guide": guide}])
    return config


def on_files(files: Files, config) -> Files:
    catalog = _state["catalog"]

    def add(src_uri: str, content: str | bytes) -> None:
        existing = files.get_file_from_path(src_uri)
        if existing is not None:
            files.remove(existing)
        files.append(File.generated(config, src_uri, content=content))

    add("index.md", pages.home_page(catalog, _state["upstreams"]))
    add("feed.xml", feeds.atom_feed(catalog, config.get("site_url") or "https://graphllm.github.io/"))
    add("catalog.bib", bibtex.bibliography(catalog))
    for entry in catalog.entries():
        add(pages.bibtex_path(entry.id), bibtex.bibtex(entry))
    link_health, problems = health.load_link_report(paths.link_report())
    for problem in problems:  # a warning, so that a strict build stops on a damaged report
        log.warning("graphllm: %s", problem)
    for section in catalog.taxonomy.sections:
        add(pages.section_path(section.id), pages.section_page(catalog, section, link_health))
    add("papers.md", pages.papers_page(catalog))
    figures = {}
    for key, draw in plots.FIGURES.items():
        add(f"assets/stats/{key}.svg", draw(catalog))
        figures[key] = f"assets/stats/{key}.svg"
    add("stats.md", pages.stats_page(catalog, figures))
    results, problems = [], []
    for folder in (paths.results_dir(), paths.local_results_dir()):
        found, wrong = leaderboard.load_results(folder)
        results, problems = results + found, problems + wrong
    for problem in problems:  # a warning, so that `mkdocs build --strict` (and `graphllm site`) stops on it
        log.warning("graphllm: %s", problem)
    result_figures = {}
    for key, svg in leaderboard.figures(results).items():
        add(f"assets/leaderboard/{key}.svg", svg)
        result_figures[key] = f"assets/leaderboard/{key}.svg"
    add("leaderboard.md", leaderboard.page(results, result_figures))
    runs, problems = decoding.load_results(paths.results_dir() / "decode")
    for problem in problems:  # a warning, so that `mkdocs build --strict` (and `graphllm site`) stops on it
        log.warning("graphllm: %s", problem)
    run_figures = {}
    for name, run in runs:
        add(f"assets/decode/{name}.svg", decoding.figure(run))
        run_figures[name] = f"assets/decode/{name}.svg"
    add("decoding.md", decoding.page(runs, run_figures))
    log.info("graphllm: generated %d section pages from %d entries", len(catalog.taxonomy.sections),
             len(catalog.entries()))
    return files
