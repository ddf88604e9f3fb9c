"""Merging the upstream lists into the catalog: one entry per paper, idempotent, curated data kept."""

import re
from pathlib import Path

import pytest
import yaml

from graphllm.catalog.importers import parse_data_dir
from graphllm.catalog.importers.base import MD_LINK_RE
from graphllm.catalog.store import load_catalog, read_catalog
from graphllm.catalog.text import normalise_title, url_identity
from graphllm.catalog.upstream import import_upstream
from tests.conftest import CATALOG, run_cli


def _snapshot(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(root.iterdir())}


@pytest.fixture(scope="module")
def fresh_import(tmp_path_factory, shared_data):
    root = tmp_path_factory.mktemp("fresh") / "catalog"
    outcome = import_upstream(root, shared_data)
    return root, outcome


def test_fresh_import_counts(fresh_import):
    root, outcome = fresh_import
    report = outcome.report
    assert report.per_source == {"awesome-graph-llm": 182, "lm-on-graphs": 156, "seed-toolbox": 14}
    assert len(report.duplicates_within["awesome-graph-llm"]) == 7
    assert all(len(group) == 2 for group in report.duplicates_within["awesome-graph-llm"])
    assert report.groups == len(report.added) == len(load_catalog(root).entries())
    # 182 + 156 + 14 records collapse by the within-list duplicates and the papers both lists share.
    shared_or_dup = sum(len(g) - 1 for g in _groups(report)) + report.overlaps
    assert report.groups < 182 + 156 + 14
    assert shared_or_dup > 0


def _groups(report):
    return [g for groups in report.duplicates_within.values() for g in groups]


def test_fresh_import_matches_the_committed_catalog_apart_from_curated_descriptions(fresh_import):
    root, _ = fresh_import
    fresh = load_catalog(root)
    committed = load_catalog(CATALOG)
    assert {e.id for e in fresh.entries()} <= {e.id for e in committed.entries()}


def test_every_upstream_paper_url_is_in_the_catalog(shared_data):
    catalog = load_catalog(CATALOG)
    in_catalog = {url_identity(link.url) for e in catalog.entries() for link in e.links}
    missing = []
    for result in parse_data_dir(shared_data):
        for record in result.records:
            for link in record.links:
                if url_identity(link.url) not in in_catalog:
                    missing.append((result.source, record.line, link.url))
    assert missing == []


def test_every_url_in_the_upstream_files_is_in_the_catalog_or_reported(shared_data):
    """Independent of the parsers: scan the raw Markdown lines that hold entries for their links."""
    catalog = load_catalog(CATALOG)
    in_catalog = {url_identity(link.url) for e in catalog.entries() for link in e.links}
    reported = {"https://arxiv.org/abs/2305.15066"}  # a copy-paste second PDF link, reported by the parser
    missing = []
    for name in ("awesome-graph-llm", "awesome-language-model-on-graphs"):
        text = (shared_data / name / "README.md").read_text(encoding="utf-8")
        text = re.sub(r"```.*?```", "", text, flags=re.S)  # the lists' contribution templates
        for line in text.splitlines():
            if not re.match(r"^\s*(- \(|\*[^*]+\*\s*\[\[)", line):
                continue
            for _, url in MD_LINK_RE.findall(line):
                if url and "img.shields.io" not in url and url_identity(url) not in in_catalog:
                    missing.append(url)
    assert set(missing) <= reported


def test_a_preprint_and_its_venue_version_are_one_entry():
    catalog = load_catalog(CATALOG)
    talk = [e for e in catalog.entries() if normalise_title(e.title).startswith("talk like a graph")]
    assert len(talk) == 1
    entry = talk[0]
    assert (entry.venue, entry.year) == ("ICLR", 2024)  # awesome-graph-llm's venue beats lm-on-graphs' preprint
    assert entry.sources == ["awesome-graph-llm", "lm-on-graphs"]
    assert entry.authors == ["Bahare Fatemi", "Jonathan Halcrow", "Bryan Perozzi"]
    assert "Pure Graphs / Direct Answering" in entry.tags and "Datasets, Benchmarks & Surveys" in entry.tags
    grapharena = [e for e in catalog.entries() if e.arxiv_id == "2407.00379"]
    assert len(grapharena) == 1 and grapharena[0].also_in == ["basic-graph-reasoning"]


def test_reimport_changes_nothing(catalog_copy, shared_data):
    before = _snapshot(catalog_copy)
    outcome = import_upstream(catalog_copy, shared_data)
    assert outcome.changed == []
    assert outcome.report.added == [] and outcome.report.updated == []
    assert _snapshot(catalog_copy) == before


def test_import_keeps_curated_fields_and_reports_venue_differences(catalog_copy, shared_data):
    path = catalog_copy / "datasets-benchmarks-surveys.yaml"
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    talk = next(e for e in entries if e["id"] == "talk-like-a-graph")
    talk["title"] = "Talk like a Graph (curated title)"
    talk["venue"], talk["year"] = "TMLR", 2025
    talk["description"] = "Curated note."
    talk["links"].append({"kind": "video", "url": "https://example.org/talk"})
    entries.remove(next(e for e in entries if e["id"] == "grs-qa-graph-reasoning-structured-question"))
    from graphllm.catalog.store import dump_yaml

    path.write_text(dump_yaml(entries), encoding="utf-8")
    outcome = import_upstream(catalog_copy, shared_data)
    after = {e.id: e for e in load_catalog(catalog_copy).entries()}
    kept = after["talk-like-a-graph"]
    assert kept.title == "Talk like a Graph (curated title)"
    assert (kept.venue, kept.year, kept.description) == ("TMLR", 2025, "Curated note.")
    assert kept.links[-1].url == "https://example.org/talk"
    notes = {n.entry: n for n in outcome.report.venue_notes}
    assert notes["talk-like-a-graph"].current == "TMLR 2025" and notes["talk-like-a-graph"].upstream == "ICLR 2024"
    # An entry the catalog lacks comes back, with its old id.
    assert [e.id for e in outcome.report.added] == ["grs-qa-graph-reasoning-structured-question"]


def test_import_refuses_an_invalid_catalog_and_leaves_it_untouched(catalog_copy, shared_data):
    path = catalog_copy / "prompting.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "- id: [unclosed\n", encoding="utf-8")
    before = _snapshot(catalog_copy)
    result = run_cli("catalog", "import", "--catalog", str(catalog_copy), "--data", str(shared_data))
    assert result.returncode == 2
    assert "prompting.yaml" in result.stderr and "YAML syntax error" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert _snapshot(catalog_copy) == before


def test_import_dry_run_writes_nothing(tmp_path, shared_data):
    root = tmp_path / "catalog"
    result = run_cli("catalog", "import", "--catalog", str(root), "--data", str(shared_data), "--dry-run")
    assert result.returncode == 0, result.stderr
    assert not root.exists()
    assert "+- id: talk-like-a-graph" in result.stdout
    assert "awesome-graph-llm: 7 duplicate groups" in result.stdout


def test_import_cli_prints_counts_and_parse_problems(catalog_copy, shared_data):
    result = run_cli("catalog", "import", "--catalog", str(catalog_copy), "--data", str(shared_data))
    assert result.returncode == 0, result.stderr
    assert "awesome-graph-llm: 182 entries" in result.stdout
    assert "lm-on-graphs: 156 entries" in result.stdout
    assert "unique entries after merging: 285" in result.stdout
    assert "catalog already up to date" in result.stdout
    assert result.stderr.count("not parsed:") == 4


def test_read_catalog_of_committed_data_has_no_problems():
    _, located, problems = read_catalog(CATALOG)
    assert problems == []
    assert len(located) == 285
