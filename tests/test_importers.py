"""The parsers, run on the real upstream files in ../shared/data."""

from collections import Counter

import pytest

from graphllm.catalog.importers import IMPORTERS, parse_data_dir, parse_file
from graphllm.catalog.importers.lm_on_graphs import section_for
from graphllm.catalog.text import normalise_title
from graphllm.errors import CatalogError


@pytest.fixture(scope="module")
def parsed(shared_data):
    return {result.source: result for result in parse_data_dir(shared_data)}


def test_awesome_graph_llm_has_182_entries_in_14_sections(parsed):
    result = parsed["awesome-graph-llm"]
    assert len(result.records) == 182
    assert [s.title for s in result.sections] == [
        "Datasets, Benchmarks & Surveys", "Prompting", "General Graph Model", "Large Multimodal Models (LMMs)",
        "Basic Graph Reasoning", "Node Classification", "Knowledge Graph", "Molecular Graph",
        "Graph Retrieval Augmented Generation (GraphRAG)", "Planning", "Multi-Agent Systems", "Graph Robustness",
        "Others", "Resources & Tools",
    ]
    assert {s.group for s in result.sections} == {None, "Applications"}
    assert result.problems == []
    assert result.commit_date == "2025-04-08"


def test_awesome_graph_llm_has_7_duplicate_pairs(parsed):
    titles = Counter(normalise_title(r.title) for r in parsed["awesome-graph-llm"].records)
    # GraphArena's duplicate shares its arXiv id but not its title; the merge catches it by id.
    assert sum(1 for count in titles.values() if count == 2) == 6
    assert max(titles.values()) == 2


def test_awesome_graph_llm_messy_items(parsed):
    by_line = {r.line: r for r in parsed["awesome-graph-llm"].records}
    teg = next(r for r in by_line.values() if r.title.startswith("TEG-DB"))
    assert [(link.kind, link.label) for link in teg.links] == [("paper", None), ("code", None), ("dataset", None)]
    assert teg.venue.name == "NeurIPS" and teg.venue.year == 2024
    nlgraph = next(r for r in by_line.values() if r.title.startswith("Can Language Models Solve Graph Problems"))
    assert nlgraph.code_repo == "Arthur-Heng/NLGraph"
    www = next(r for r in by_line.values() if r.title.startswith("GraphTranslator"))
    assert (www.venue.name, www.venue.year) == ("WWW", 2024)  # "(WWW'24)" without emphasis
    blog = next(r for r in by_line.values() if r.title.startswith("LLMRec"))
    assert ("blog", "blog in Chinese") in [(link.kind, link.label) for link in blog.links]
    graphml = next(r for r in by_line.values() if r.title.startswith("GraphML"))
    assert graphml.description == "An XML-based file format for graphs."
    assert graphml.links[0].kind == "page"
    curly = next(r for r in by_line.values() if "TKDE" == r.venue.name and r.venue.year == 2023)
    assert curly.title


def test_lm_on_graphs_has_156_entries_in_a_three_level_taxonomy(parsed):
    result = parsed["lm-on-graphs"]
    assert len(result.records) == 156
    taxonomies = {r.taxonomy for r in result.records}
    assert "Pure Graphs / Direct Answering" in taxonomies
    assert "Text-Attributed Graphs / LLM as Predictor (Node) / Graph As Sequence (Node)" in taxonomies
    assert "Perspectives" in taxonomies
    assert all(r.authors for r in result.records)
    assert all(r.section for r in result.records)
    talk = next(r for r in result.records if r.title.startswith("Talk Like A Graph"))
    assert talk.authors == ["Bahare Fatemi", "Jonathan Halcrow", "Bryan Perozzi"]
    assert talk.first_version == "2023-10"
    assert set(talk.tags) == {"DecoderOnly", "LLM"}
    assert result.commit_date == "2025-03-01"


def test_lm_on_graphs_reports_what_it_could_not_parse(parsed):
    messages = [str(p) for p in parsed["lm-on-graphs"].problems]
    assert len(messages) == 4
    assert any("second paper link https://arxiv.org/abs/2305.15066" in m for m in messages)
    assert sum("empty [Code] link" in m for m in messages) == 3


def test_lm_on_graphs_section_mapping():
    assert section_for("Text-Attributed Graphs / Datasets") == "datasets-benchmarks-surveys"
    assert section_for("Text-Attributed Graphs / LLM as Encoder / Optimization") == "node-classification"
    molecules = "Text-Paired Graphs (Molecules) / LLM as Predictor (Graph) / Graph As Sequence"
    assert section_for(molecules) == "molecular-graph"
    assert section_for("Unknown heading") is None


def test_seed_toolbox_section(parsed):
    result = parsed["seed-toolbox"]
    assert [s.title for s in result.sections] == ["Efficient tuning & inference for graph LLMs"]
    assert len(result.records) == 14
    spec = next(r for r in result.records if r.title.startswith("SpecInfer"))
    assert (spec.venue.name, spec.venue.year) == ("ASPLOS", 2024)
    assert spec.links[0].url == "https://arxiv.org/abs/2305.09781"
    selfee = next(r for r in result.records if r.title.startswith("SelFee"))
    assert [link.kind for link in selfee.links] == ["project", "code"]
    peft = next(r for r in result.records if r.title.startswith("PEFT"))
    assert peft.venue.name is None  # blank stays unknown


def test_parser_reports_unparseable_lines(tmp_path):
    path = tmp_path / "README.md"
    path.write_text("## Prompting\n- (*ICLR'24*) Good paper [[paper](https://arxiv.org/abs/2310.04560)]\n"
                    "- something that is not an item\n- (*ICLR'24*) No links here\n", encoding="utf-8")
    result = parse_file("awesome-graph-llm", path)
    assert len(result.records) == 1
    assert [p.line for p in result.problems] == [3, 4]


def test_unknown_list_and_missing_file_are_clear_errors(tmp_path):
    with pytest.raises(CatalogError, match="unknown upstream list"):
        parse_file("nope", tmp_path / "x.md")
    with pytest.raises(CatalogError, match="cannot read upstream list"):
        parse_file("awesome-graph-llm", tmp_path / "missing.md")
    assert set(IMPORTERS) == {"awesome-graph-llm", "lm-on-graphs", "seed-toolbox"}
