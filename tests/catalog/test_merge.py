"""Merging the fourteen lists into the catalog: one entry per paper, nothing lost, idempotent, curated data kept."""

import datetime as dt
from pathlib import Path

import pytest
import yaml

from graphllm.catalog.importers import parse_all
from graphllm.catalog.merge import entry_keys, record_keys
from graphllm.catalog.store import dump_yaml, load_catalog, read_catalog
from graphllm.catalog.text import normalise_title, url_identity
from graphllm.catalog.upstream import import_upstream, sync_upstream
from graphllm.catalog.upstreams import load_upstreams
from tests.conftest import CATALOG, FIXTURES, run_cli

UNIQUE_ENTRIES = 1110  # stated in the README


def _snapshot(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(root.iterdir())}


@pytest.fixture(scope="module")
def records(shared_data):
    return [r for result in parse_all(load_upstreams(CATALOG), shared_data) for r in result.records]


def test_a_fresh_import_is_the_committed_catalog(tmp_path, shared_data):
    root = tmp_path / "catalog"
    root.mkdir()
    for name in ("taxonomy.yaml", "upstreams.yaml"):
        (root / name).write_bytes((CATALOG / name).read_bytes())
    outcome = import_upstream(root, shared_data)
    assert outcome.report.groups == len(outcome.report.added) == UNIQUE_ENTRIES
    assert _snapshot(root) == _snapshot(CATALOG)  # NOTICE included: it is written from the snapshots


def test_every_entry_of_every_imported_section_is_in_the_catalog(records):
    """By arXiv id, DOI, normalised title or any of its URLs: nothing any list names is lost."""
    catalog = load_catalog(CATALOG)
    keys = set()
    urls = set()
    for entry in catalog.entries():
        keys |= entry_keys(entry)
        urls |= {url_identity(link.url) for link in entry.links}
    missing = [(r.source, r.line, r.title) for r in records
               if not record_keys(r) & keys and not {url_identity(link.url) for link in r.links} & urls]
    assert missing == []
    assert len(records) == 1746


def test_every_link_of_every_record_is_on_its_entry(records):
    catalog = load_catalog(CATALOG)
    urls = {url_identity(link.url) for e in catalog.entries() for link in e.links}
    lost = [(r.source, r.line, link.url) for r in records for link in r.links if url_identity(link.url) not in urls]
    assert lost == []


def test_no_duplicates_and_the_count(records):
    catalog = load_catalog(CATALOG)
    entries = catalog.entries()
    assert len(entries) == UNIQUE_ENTRIES
    for key in (lambda e: e.arxiv_id, lambda e: e.doi, lambda e: normalise_title(e.title)):
        values = [key(e) for e in entries if key(e)]
        assert len(values) == len(set(values))
    result = run_cli("catalog", "validate")
    assert result.returncode == 0, result.stderr
    assert f"{UNIQUE_ENTRIES} unique entries" in result.stdout


def test_a_preprint_and_its_venue_version_are_one_entry():
    catalog = load_catalog(CATALOG)
    talk = [e for e in catalog.entries() if normalise_title(e.title).startswith("talk like a graph")]
    assert len(talk) == 1
    entry = talk[0]
    assert (entry.venue, entry.year) == ("ICLR", 2024)  # a venue beats lm-on-graphs' preprint
    assert {"awesome-graph-llm", "lm-on-graphs"} <= set(entry.sources)
    assert entry.authors == ["Bahare Fatemi", "Jonathan Halcrow", "Bryan Perozzi"]
    assert "Pure Graphs / Direct Answering" in entry.tags and "Datasets, Benchmarks & Surveys" in entry.tags
    # "DRAGON: Deep Bidirectional ..." in one list and "Deep Bidirectional ..." in another: one paper.
    dragon = [e for e in catalog.entries() if "deep bidirectional language knowledge graph" in normalise_title(e.title)]
    assert len(dragon) == 1 and {"lm-on-graphs", "llm-kg4qa"} <= set(dragon[0].sources)


def test_kg_question_answering_papers_are_not_node_classification():
    catalog = load_catalog(CATALOG)
    section = catalog.section_of()
    by_start = {e.title.split(":")[0].casefold(): e for e in catalog.entries()}
    knowledge_graphs = {s.id for s in catalog.taxonomy.sections if s.group == "Knowledge graphs"}
    for name in ("qa-gnn", "dragon", "reasoninglm", "glam", "chain of history"):
        assert section[by_start[name].id] in knowledge_graphs, name
    assert section[by_start["qa-gnn"].id] == "kg-question-answering"
    assert section[by_start["chain of history"].id] == "kg-construction-completion"  # temporal KG completion
    grease = [e for e in catalog.entries() if e.title.startswith("GreaseLM")]
    assert grease and all(section[e.id] in knowledge_graphs for e in grease)
    assert section[by_start["chatrule"].id] == "kg-reasoning"
    kg_prompting = next(e for e in catalog.entries()
                        if e.title.lower().startswith("knowledge graph prompting for multi"))
    assert section[kg_prompting.id] != "graph-reasoning"


def test_added_is_the_snapshot_a_paper_first_appeared_in():
    catalog = load_catalog(CATALOG)
    entries = catalog.entries()
    assert len({e.added for e in entries}) >= 14
    newest = max(entries, key=lambda e: e.added)
    assert newest.added >= dt.date(2025, 12, 11)
    # GraphRAG's list (snapshot of 2025-12-11) brought HippoRAG 2; Awesome-Graph-LLM had G-Retriever by 2025-04-08.
    gretriever = next(e for e in entries if e.title.startswith("G-Retriever"))
    assert gretriever.added <= dt.date(2025, 4, 8)


def test_no_author_field_holds_two_names():
    assert not [a for e in load_catalog(CATALOG).entries() for a in e.authors if " and " in a]


def test_every_section_page_stays_readable():
    catalog = load_catalog(CATALOG)
    for section in catalog.taxonomy.ids():
        rows = len(catalog.sections[section]) + sum(section in e.also_in for e in catalog.entries())
        assert rows <= 160, section


def test_reimport_changes_nothing(catalog_copy, shared_data):
    before = _snapshot(catalog_copy)
    outcome = import_upstream(catalog_copy, shared_data)
    assert outcome.changed == []
    assert outcome.report.added == [] and outcome.report.updated == []
    assert _snapshot(catalog_copy) == before


def test_a_hand_edit_survives_a_reimport_and_a_sync(catalog_copy, shared_data, tmp_path):
    catalog = load_catalog(catalog_copy)
    talk = next(e for e in catalog.entries() if e.id == "talk-like-a-graph")
    path = catalog_copy / f"{catalog.section_of()[talk.id]}.yaml"
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    data = next(e for e in entries if e["id"] == "talk-like-a-graph")
    data["title"] = "Talk like a Graph (curated title)"
    data["venue"], data["year"] = "TMLR", 2025
    data["description"] = "Curated note."
    data["links"].append({"kind": "video", "url": "https://example.org/talk"})
    removed = entries.pop(-1)
    path.write_text(dump_yaml(entries), encoding="utf-8")
    outcome = import_upstream(catalog_copy, shared_data)
    star = tmp_path / "README.md"
    star.write_text((FIXTURES / "lists" / "star-annotated.md").read_text(), encoding="utf-8")
    sync_upstream(catalog_copy, str(star), shared_data)
    after = {e.id: e for e in load_catalog(catalog_copy).entries()}
    kept = after["talk-like-a-graph"]
    assert kept.title == "Talk like a Graph (curated title)"
    assert (kept.venue, kept.year, kept.description) == ("TMLR", 2025, "Curated note.")
    assert kept.links[-1].url == "https://example.org/talk"
    notes = {n.entry: n for n in outcome.report.venue_notes}
    assert notes["talk-like-a-graph"].current == "TMLR 2025" and notes["talk-like-a-graph"].upstream == "ICLR 2024"
    assert [e.id for e in outcome.report.added] == [removed["id"]]  # a removed entry comes back with its id


def test_import_refuses_an_invalid_catalog_and_leaves_it_untouched(catalog_copy, shared_data):
    path = catalog_copy / "prompting.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "- id: [unclosed\n", encoding="utf-8")
    before = _snapshot(catalog_copy)
    result = run_cli("catalog", "import", "--catalog", str(catalog_copy), "--data", str(shared_data))
    assert result.returncode == 2
    assert "prompting.yaml" in result.stderr and "YAML syntax error" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert _snapshot(catalog_copy) == before


def test_a_broken_upstreams_file_is_one_clear_line(catalog_copy, shared_data):
    path = catalog_copy / "upstreams.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("section: surveys}", "section: surveys, colour: red}", 1),
                    encoding="utf-8")
    result = run_cli("catalog", "import", "--catalog", str(catalog_copy), "--data", str(shared_data))
    assert result.returncode == 2 and "upstreams.yaml" in result.stderr and "colour" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_import_dry_run_writes_nothing(catalog_copy, shared_data):
    (catalog_copy / "prompting.yaml").unlink()
    before = _snapshot(catalog_copy)
    result = run_cli("catalog", "import", "--catalog", str(catalog_copy), "--data", str(shared_data), "--dry-run")
    assert result.returncode == 0, result.stderr
    assert _snapshot(catalog_copy) == before
    assert "+- id: " in result.stdout


def test_import_cli_prints_per_list_counts_and_problems(catalog_copy, shared_data):
    result = run_cli("catalog", "import", "--catalog", str(catalog_copy), "--data", str(shared_data))
    assert result.returncode == 0, result.stderr
    assert "awesome-graph-llm: 182 read, 182 matched, 0 new, 0 skipped" in result.stdout
    assert "gfm-papers: 80 read, 80 matched, 0 new, 38 skipped (38 pure GNN foundation models" in result.stdout
    assert f"unique entries in these lists: {UNIQUE_ENTRIES}" in result.stdout
    assert "catalog already up to date" in result.stdout
    assert "not parsed: gfm-papers:135:" in result.stderr


def test_read_catalog_of_committed_data_has_no_problems():
    _, located, problems = read_catalog(CATALOG)
    assert problems == []
    assert len(located) == UNIQUE_ENTRIES


def test_one_name_and_a_close_title_are_one_paper_but_a_shared_name_alone_is_not():
    from graphllm.catalog.merge import same_named_paper

    assert same_named_paper("GreaseLM: Graph REASoning Enhanced Language Models",
                            "GreaseLM: Graph Reasoning Enhanced Language Models for Question Answering")
    assert same_named_paper("GraphWiz: An Instruction-Following Language Model for Graph Problems",
                            "GraphWiz: An Instruction-Following Language Model for Graph Computational Problems")
    assert not same_named_paper("GraphFM: A Comprehensive Benchmark for Graph Foundation Model",
                                "GraphFM: A Scalable Framework for Multi-Graph Pretraining")
    assert not same_named_paper("GraphGPT: Graph Instruction Tuning for Large Language Models",
                                "GraphGPT: Extrapolating knowledge graphs from unstructured text using GPT-3")
    assert not same_named_paper("Survey: A Roadmap", "Survey: A Roadmap of Graphs")  # too short to tell
    titles = [e.title for e in load_catalog(CATALOG).entries()]
    assert sum(t.startswith("GreaseLM") for t in titles) == 1 and sum(t.startswith("GraphFM") for t in titles) == 2


def test_the_readme_states_the_count_validate_prints():
    readme = (CATALOG.parent / "README.md").read_text(encoding="utf-8")
    assert f"**{UNIQUE_ENTRIES:,} unique entries**" in readme
