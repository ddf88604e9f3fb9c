"""The mkdocs-material site generated from the catalog (strict build, zero warnings)."""

import re
from html.parser import HTMLParser

import pytest

from graphllm.catalog.store import load_catalog
from graphllm.errors import GraphLLMError
from graphllm.site.pages import counts
from tests.conftest import CATALOG


class _Assets(HTMLParser):
    def __init__(self):
        super().__init__()
        self.assets: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "img", "iframe", "source") and attrs.get("src"):
            self.assets.append(attrs["src"])
        loaded = ("stylesheet", "preload", "icon", "modulepreload")
        if tag == "link" and attrs.get("href") and attrs.get("rel") in loaded:
            self.assets.append(attrs["href"])


def test_every_page_is_generated(built_site):
    catalog = load_catalog(CATALOG)
    for section in catalog.taxonomy.sections:
        page = built_site / "sections" / section.id / "index.html"
        assert page.exists(), section.id
        html = page.read_text(encoding="utf-8")
        for entry in catalog.sections[section.id]:
            assert (entry.paper_url or entry.links[0].url).replace("&", "&amp;") in html
    for page in ("index.html", "papers/index.html", "stats/index.html", "tags/index.html",
                 "contribute/index.html", "search/search_index.json"):
        assert (built_site / page).exists(), page
    for figure in ("per_year", "venues", "code"):
        svg = (built_site / "assets" / "stats" / f"{figure}.svg").read_text(encoding="utf-8")
        assert svg.startswith("<?xml") and "<svg" in svg


def test_home_page_counts_and_credits(built_site):
    c = counts(load_catalog(CATALOG))
    html = (built_site / "index.html").read_text(encoding="utf-8")
    assert f"<strong>{c['entries']}</strong> entries" in html
    assert f"<strong>{c['with_code']}</strong> with code" in html
    assert "Newest additions" in html
    assert "XiaoxinHe/Awesome-Graph-LLM" in html and "PeterGriffinJin/Awesome-Language-Model-on-Graphs" in html


def test_all_papers_page_has_one_row_per_entry_with_filter_data(built_site):
    catalog = load_catalog(CATALOG)
    html = (built_site / "papers" / "index.html").read_text(encoding="utf-8")
    rows = re.findall(r"<tr data-sections=", html)
    assert len(rows) == len(catalog.entries())
    for control in ("gl-text", "gl-section", "gl-venue", "gl-year-min", "gl-year-max", "gl-has-code"):
        assert f'id="{control}"' in html


def test_taxonomy_tags_are_on_section_pages(built_site):
    html = (built_site / "sections" / "graph-reasoning" / "index.html").read_text(encoding="utf-8")
    assert "Pure Graphs / Direct Answering" in html
    tags = (built_site / "tags" / "index.html").read_text(encoding="utf-8")
    assert "Text-Attributed Graphs / LLM as Encoder / Optimization" in tags


def test_no_asset_is_loaded_from_another_host(built_site):
    offenders = []
    for page in built_site.rglob("*.html"):
        parser = _Assets()
        parser.feed(page.read_text(encoding="utf-8"))
        offenders += [(page.name, a) for a in parser.assets if re.match(r"^(https?:)?//", a)]
    assert offenders == []


def test_leaderboard_from_results(tmp_path, monkeypatch):
    import json

    from graphllm.site.build import build_site

    results = tmp_path / "results"
    results.mkdir()
    result = {"run": "demo-graph-prefix", "recipe": "graph-prefix", "llm": "tiny", "tasks": ["cycle_check"],
              "accuracy": {"cycle_check": 0.75}, "n": {"cycle_check": 40}, "majority": {"cycle_check": 0.6},
              "eval_examples_per_second": 2.0, "samples": [], "data": None, "created": "2026-12-07T00:00:00+00:00",
              "train": {"config": {}, "steps": 10, "examples": 80, "seconds": 3.0, "trainable_parameters": 1234,
                        "train_loss": [[1, 2.0], [2, 1.5]], "val_loss": [[2, 1.7]]}}
    (results / "demo-graph-prefix.json").write_text(json.dumps(result))
    (results / "foreign.json").write_text("{not json")
    (results / "other.json").write_text('{"links": []}')
    monkeypatch.setenv("GRAPHLLM_RESULTS", str(results))
    (results / "damaged.json").write_text(json.dumps({k: v for k, v in result.items() if k != "n"}))
    with pytest.raises(GraphLLMError, match=r"damaged.json: not a result of this graphllm .*'n'"):
        build_site(strict=True, site_dir=tmp_path / "site")
    (results / "damaged.json").unlink()
    site = build_site(strict=True, site_dir=tmp_path / "site")
    html = (site / "leaderboard" / "index.html").read_text(encoding="utf-8")
    assert "graph-prefix" in html and "0.750" in html and "0.600" in html
    assert "GraphToken, PaLM 2-S (published)" in html and "0.956" in html
    assert (site / "assets" / "leaderboard" / "accuracy.svg").exists()
    assert (site / "assets" / "leaderboard" / "curves.svg").exists()


def test_leaderboard_compares_only_runs_on_the_same_questions():
    from graphllm.site import leaderboard

    def result(run, accuracy, n, majority):
        return _result(run=run, recipe=run.split("-", 1)[1], accuracy=accuracy, n=n, majority=majority)

    demo = {"n": {"cycle_check": 50}, "majority": {"cycle_check": 0.76}}
    nine = {"n": {"cycle_check": 100, "edge_count": 100}, "majority": {"cycle_check": 0.65, "edge_count": 0.046}}
    results = [result("demo-graph-token", {"cycle_check": 0.96}, **demo),
               result("demo-zero-shot", {"cycle_check": 0.0}, **demo),
               result("big-graph-prefix", {"cycle_check": 0.9, "edge_count": 0.3}, **nine)]
    groups = leaderboard.samples(results)
    assert [[r.run for r in g] for g in groups] == [["big-graph-prefix"], ["demo-graph-token", "demo-zero-shot"]]
    text = leaderboard.page(results, {})
    big, demo_table = text.split("\n## ")[0].split("### ")[1:3]
    assert big.startswith("2 tasks, 100 test questions each") and "0.650 | 0.046 | 0.348 | — |" in big
    assert "| *GraphToken, PaLM 2-S (published)* | — | PaLM 2-S | — | 0.956 | 0.426 | 0.691 | — |" in big
    assert "| 0.600 | 0/2 |" in big  # neither task at PaLM 2-S's figure
    assert "| 0.960 <small>(0.87-0.99)</small> | 0.960 | 1/1 |" in demo_table
    assert "0.760" in demo_table and "0.650" not in demo_table and "big-graph-prefix" not in demo_table
    svg = leaderboard.figures(results)["accuracy"]
    svg = svg.decode() if isinstance(svg, bytes) else svg
    assert "big-graph-prefix" in svg and "demo-graph-token" not in svg  # the first table's runs only


def test_leaderboard_says_when_a_run_trained_one_model_per_task():
    from graphllm.results.experiment import TrainingSummary
    from graphllm.site import leaderboard

    common = {"n": {"node_count": 100}, "majority": {"node_count": 0.03}, "recipe": "graph-prefix"}
    train = {"config": {}, "steps": 300, "examples": 2400, "seconds": 600.0, "trainable_parameters": 3276032}
    results = [_result(**common, run="joint", accuracy={"node_count": 0.2}, train=TrainingSummary(**train)),
               _result(**common, run="each", per_task=True, accuracy={"node_count": 0.9},
                       train=TrainingSummary(**train, models=9))]
    text = leaderboard.page(results, {})
    assert "| graph-prefix | each | tiny | 300 per task (9 models) | 0.900 <small>(0.83-0.94)</small> | 0.900 |" in text
    assert "| graph-prefix | joint | tiny | 300 | 0.200 <small>(0.13-0.29)</small> | 0.200 |" in text
    assert "| `each.json` | graph-prefix | 100 | 3,276,032 per task (9 models) | 600 s |" in text


def _decode_run(date: str, device: str):
    from graphllm.results.decode import DecodeBenchReport, Row

    rows = [Row("ours: plain greedy", 8, tokens=630, seconds=12.0, prompt_seconds=5.0, passes=96),
            Row("ours: feature tree 2,2,1,1", 8, tokens=630, seconds=8.0, per_pass=3.4, passes=40, prompt_seconds=5.0,
                same=True),
            Row("transformers: generate", 8, tokens=630, seconds=24.0, prompt_seconds=6.0, same=True),
            Row("transformers: prompt lookup (n-gram)", 8,
                error="ValueError: assisted generate is only supported for batch_size = 1")]
    return DecodeBenchReport(rows, [Row("transformers: early exit (soft tokens)", 1, error="RuntimeError: x")], 8, 96,
                             device, date=date, drafts=["feature:runs/f"], pass_costs={2: 1.1},
                             pass_costs_batched={8: {4: 1.69}})


def test_decoding_page_shows_every_bench_run_newest_first(tmp_path, monkeypatch):
    from graphllm.site.build import build_site

    runs = tmp_path / "results" / "decode"
    runs.mkdir(parents=True)
    _decode_run("2026-11-01 10:00 UTC", "Intel Xeon, AVX-512, 2 threads").write(runs / "old.json")
    _decode_run("2026-12-07 11:00 UTC", "AMD EPYC, AVX-512, 2 threads").write(runs / "new.json")
    monkeypatch.setenv("GRAPHLLM_RESULTS", str(tmp_path / "results"))
    site = build_site(strict=True, site_dir=tmp_path / "site")
    html = (site / "decoding" / "index.html").read_text(encoding="utf-8")
    assert html.index("AMD EPYC") < html.index("Intel Xeon")  # newest first
    assert "<strong>1.50x</strong>" in html  # 630 tokens in 8 s against 12 s
    assert ">1.52x</td>" in html  # its limit: 40 passes at 7 / 96 s a step after a 5 s prompt, 12 / 7.92 s
    assert "2.33x" in html and "3.00x" in html  # after the prompt: 210 against 90 tok/s; vs transformers: 78.8 / 26.2
    assert "fails: <code>ValueError: assisted generate is only supported for batch_size = 1</code>" in html
    assert "k=4 1.69" in html and "From soft tokens" in html
    for name in ("old", "new"):
        svg = (site / "assets" / "decode" / f"{name}.svg").read_text(encoding="utf-8")
        assert "<svg" in svg and "limit of its passes" in svg
    nav = (site / "index.html").read_text(encoding="utf-8")
    assert "Decoding speed" in nav


def test_a_damaged_bench_run_stops_the_strict_build_and_names_the_file(tmp_path, monkeypatch):
    import pytest

    from graphllm.errors import GraphLLMError
    from graphllm.site.build import build_site

    runs = tmp_path / "results" / "decode"
    runs.mkdir(parents=True)
    (runs / "half.json").write_text('{"format": 1, "rows": [')
    monkeypatch.setenv("GRAPHLLM_RESULTS", str(tmp_path / "results"))
    with pytest.raises(GraphLLMError, match=r"half\.json: not a `graphllm bench decode --json` result: "
                                            r"not readable as JSON"):
        build_site(strict=True, site_dir=tmp_path / "site")


def test_link_health_from_a_link_report_marks_each_entry(tmp_path):
    """A `graphllm links check --json` report becomes marks beside the links of the section pages."""
    from graphllm.catalog.store import load_catalog
    from graphllm.links.model import Hop, Result, Verdict
    from graphllm.links.report import LinkReport
    from graphllm.site import health, pages

    catalog = load_catalog(CATALOG)
    section = catalog.taxonomy.get("graph-reasoning")
    entries = catalog.sections["graph-reasoning"]
    broken, walled, fine = entries[0].links[0].url, entries[1].links[0].url, entries[2].links[0].url
    report = LinkReport(["catalog/"], [
        Result(broken, Verdict.BROKEN, [Hop(broken, "GET", 404)], error="404 Not Found"),
        Result(walled, Verdict.BLOCKED, [Hop(walled, "GET", 999)], error="999 bot wall"),
        Result(fine, Verdict.OK, [Hop(fine, "HEAD", 200)])], 0, 1.0)
    path = tmp_path / "report.json"
    path.write_text(report.to_json(), encoding="utf-8")
    link_health, problems = health.load_link_report(path)
    assert problems == []
    page = pages.section_page(catalog, section, link_health)
    assert f'({broken}) <span class="gl-link-broken" title="broken: 404 Not Found">✗</span>' in page
    assert f'({walled}) <span class="gl-link-blocked" title="could not be verified' in page
    assert f"({fine}) <span" not in page
    assert "1 ok" in page and "1 blocked" in page and "1 broken" in page
    assert "<span" not in pages.section_page(catalog, section, {})  # no report, no marks
    path.write_text("{not json", encoding="utf-8")
    assert health.load_link_report(path)[1][0].startswith(f"{path}: not a `graphllm links check --json` report")


def test_feed_and_bibtex_are_published(built_site):
    feed = (built_site / "feed.xml").read_text(encoding="utf-8")
    import xml.etree.ElementTree as ET

    root = ET.fromstring(feed)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    updated = [e.find("a:updated", ns).text for e in root.findall("a:entry", ns)]
    assert len(updated) == 100 and updated == sorted(updated, reverse=True)
    bib = (built_site / "catalog.bib").read_text(encoding="utf-8")
    assert bib.count("\n@") + bib.startswith("@") == len(load_catalog(CATALOG).entries())
    assert "@inproceedings{talk-like-a-graph," in bib and "eprint = {2310.04560}" in bib
    assert (built_site / "bib" / "talk-like-a-graph.bib").read_text(encoding="utf-8").startswith(
        "@inproceedings{talk-like-a-graph,")
    section = next((built_site / "sections").glob("*/index.html")).read_text(encoding="utf-8")
    assert "/bib/" in section and ">BibTeX</a>" in section


def test_leaderboard_cells_carry_their_wilson_interval():
    from graphllm.site.leaderboard import _table, wilson_interval

    assert [round(x, 3) for x in wilson_interval(0.5, 100)] == [0.404, 0.596]  # the textbook case
    assert [round(x, 4) for x in wilson_interval(0.0, 50)] == [0.0, 0.0714]  # not empty at 0
    assert wilson_interval(1.0, 400)[1] == 1.0 and wilson_interval(0.3, 0) == (0.0, 1.0)
    result = _result(recipe="graph-prefix", run="r", llm="smollm2-135m", accuracy={"cycle_check": 0.94},
                     n={"cycle_check": 50}, majority={"cycle_check": 0.76})
    table = "\n".join(_table([result]))
    assert "| 0.940 <small>(0.84-0.98)</small> |" in table and "95% Wilson interval" in table


def _result(**fields):
    """A result as `graphllm train` writes one, with what a test does not care about filled in."""
    from graphllm.results.experiment import ExperimentResult

    defaults = {"llm": "tiny", "tasks": sorted(fields["accuracy"]), "eval_examples_per_second": 0.0, "samples": [],
                "train": None, "data": None, "created": "2026-12-07T00:00:00+00:00", "file": f"{fields['run']}.json"}
    return ExperimentResult(**{**defaults, **fields})
