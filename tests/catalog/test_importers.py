"""The one reader of awesome-list Markdown: every format of the fourteen lists, and the faults it must not have."""

from pathlib import Path

import pytest

from graphllm.catalog.importers import parse_all, parse_text
from graphllm.catalog.upstreams import load_upstreams
from graphllm.errors import CatalogError
from tests.conftest import CATALOG, FIXTURES

LISTS = FIXTURES / "lists"


@pytest.fixture(scope="module")
def upstreams():
    return load_upstreams(CATALOG)


@pytest.fixture(scope="module")
def parsed(upstreams, shared_data):
    return {result.source: result for result in parse_all(upstreams, shared_data)}


def _read(name: str, upstreams, upstream=None):
    return parse_text((LISTS / name).read_text(encoding="utf-8"), upstreams, upstream, source=Path(name).stem)


# What each list holds: entries read, entry-like items, and items under skipped headings (by reason).
EXPECTED = {
    "awesome-graph-llm": (182, 0), "lm-on-graphs": (156, 0), "awesome-graphrag": (159, 5),
    "llm-kg4qa": (238, 3), "kg-llm-papers": (262, 3), "awesome-kgllm": (50, 0),
    "awesome-graphs-meet-agents": (138, 0), "awesome-graph-augmented-llm-agent": (52, 0),
    "awesome-foundation-models-on-graphs": (208, 34), "awesome-graph-foundation-models": (41, 29),
    "gfm-papers": (80, 38), "awesome-large-graph-model": (86, 0), "awesome-graph-prompt": (69, 0),
    "awesome-graphs-into-llms": (11, 21), "seed-toolbox": (14, 0),
}


def test_every_configured_list_is_read_in_full(parsed, upstreams):
    assert list(parsed) == upstreams.names() == list(EXPECTED)
    for name, (read, skipped) in EXPECTED.items():
        result = parsed[name]
        assert (len(result.records), sum(result.skipped.values())) == (read, skipped), name
        assert result.commit_date
        # Every heading of every list has a rule: nothing lands by accident.
        assert not [p for p in result.problems if "no section rule" in str(p)], name


def test_what_cannot_be_read_is_reported_as_file_line(parsed):
    problems = {name: [str(p) for p in result.problems] for name, result in parsed.items() if result.problems}
    assert set(problems) == {"lm-on-graphs", "awesome-graph-foundation-models", "gfm-papers",
                             "awesome-graphs-into-llms"}
    assert problems["awesome-graph-foundation-models"] == [
        "awesome-graph-foundation-models:80: empty [code] link ignored"]
    assert any("second paper link https://arxiv.org/abs/2305.15066" in m for m in problems["lm-on-graphs"])
    assert sum("empty [Code] link" in m for m in problems["lm-on-graphs"]) == 3
    assert "gfm-papers:135: link 'hhttps://arxiv.org/pdf/2008.06274.pdf' (pdf) is not an absolute http(s) URL; " \
           "ignored" in problems["gfm-papers"]
    # Method names without a link (a table of the survey) cannot be matched to a paper: each is named.
    assert "awesome-graphs-into-llms:20: 'GPT4Graph' has no link to a paper, code or page; skipped" \
        in problems["awesome-graphs-into-llms"]


def test_every_format_of_the_field(upstreams):
    result = _read("every-format.md", upstreams)
    by_title = {r.title.split(":")[0].split()[0]: r for r in result.records}
    assert list(by_title) == ["Alpha", "Beta", "Gamma", "Delta", "Epsilon", "Zeta", "Eta", "Theta", "Iota", "Kappa",
                              "Lambda", "Mu"]
    alpha = by_title["Alpha"]
    assert (alpha.venue.name, alpha.venue.year, alpha.code_repo) == ("NeurIPS", 2023, "a/alpha")
    assert by_title["Beta"].title == "Beta: Bold Titles Win"
    assert [link.kind for link in by_title["Beta"].links] == ["paper", "code"]  # emoji-labelled `[[Code]](url)`
    gamma = by_title["Gamma"]
    assert (gamma.venue.name, gamma.venue.year, gamma.venue.month) == ("arXiv", 2024, 12)
    delta = by_title["Delta"]  # the venue is the paper link's label; the date in backticks
    assert (delta.title, delta.venue.name, delta.first_version) == ("Delta: A Roadmap", "TKDE", "2023-06")
    assert [link.kind for link in delta.links] == ["paper", "code"]
    assert by_title["Epsilon"].title == "Epsilon: agentic memory for agents"
    assert (by_title["Epsilon"].venue.name, by_title["Epsilon"].venue.year) == ("arXiv", 2025)
    zeta = by_title["Zeta"]
    assert zeta.tags == ["RL Agent", "Multi-Agent Coordination"] and zeta.code_repo == "z/zeta"
    assert [link.kind for link in zeta.links] == ["paper"]  # the stars badge's anchor is not a link of the paper
    assert by_title["Eta"].links[0].url == "https://github.com/h/eta"  # a linked badge
    theta = by_title["Theta"]
    assert theta.authors == ["Ada Lovelace", "Alan Turing", "Grace Hopper"]  # "X and Y" split
    assert (theta.venue.name, theta.first_version, theta.tags) == ("ICDM", "2022-08", ["Encoder"])
    iota = by_title["Iota"]
    assert (iota.venue.name, iota.venue.year) == ("KDD", 2022) and len(iota.links) == 2
    assert by_title["Lambda"].authors == ["Edsger Dijkstra"] and by_title["Lambda"].links[0].kind == "paper"
    mu = by_title["Mu"]
    assert (mu.venue.name, mu.venue.year, mu.venue.track, mu.tags) == ("ACL", 2024, "Findings", ["KGQA"])
    assert mu.taxonomy.endswith("Tables")  # a <details> summary is a heading
    assert [(p.line, p.message) for p in result.problems] == [
        (15, "empty [Code] link ignored"),
        (35, "'Nu: a method without a link' has no link to a paper, code or page; skipped"),
        (43, "'a sentence about the list, with no link' has no link to a paper, code or page; skipped"),
    ]
    # In-page links and badges are never entries or paper links.
    assert not any(link.url.startswith("#") or "shields.io" in link.url
                   for r in result.records for link in r.links)


def test_a_star_annotated_copy_is_read(upstreams):
    """`* ` bullets, escaped brackets and star counts after each entry (once read as zero entries)."""
    result = _read("star-annotated.md", upstreams, upstreams.get("awesome-graph-llm"))
    assert [r.title for r in result.records] == [
        "GraphZeta: A Brand New Graph Foundation Model", "Prompting Graphs Twice",
        "Can Language Models Solve Graph Problems in Natural Language?"]
    assert [len(r.links) for r in result.records] == [2, 1, 2]
    assert result.problems == []


def test_code_links_written_as_double_brackets_are_kept(parsed):
    code = [link.url.casefold() for r in parsed["lm-on-graphs"].records for link in r.links if link.kind == "code"]
    for name in ("METERN", "GraphFormers", "Heterformer", "DRAGON", "Edgeformers", "Patton", "SciNCL", "LinkBERT",
                 "GRENADE"):
        assert any(name.casefold() in url for url in code), name


def test_a_list_that_yields_nothing_is_an_error(upstreams, tmp_path):
    with pytest.raises(CatalogError, match="no entry could be read from 0 entry-like lines"):
        parse_text("# A list\n\nSome prose, no items.\n", upstreams, None)
    mostly_unreadable = "## Papers\n" + "- [](https://example.org/x)\n" * 6 + \
        "- (ICLR 2024) A Paper [[paper](https://arxiv.org/abs/2401.00002)]\n"
    with pytest.raises(CatalogError, match="only 1 entries read from 7 entry-like lines"):
        parse_text(mostly_unreadable, upstreams, None)


def test_a_list_nobody_configured_is_placed_by_keywords(upstreams):
    text = ("# Someone's list\n## Misc\n"
            "- GraphRAG for everyone [[paper](https://arxiv.org/abs/2501.00009)]\n"
            "- A Survey of Graph Agents [[paper](https://arxiv.org/abs/2501.00010)]\n")
    result = parse_text(text, upstreams, None, source="someones-list")
    assert [(r.section, r.weak) for r in result.records] == [("graphrag-retrieval-integration", True),
                                                              ("surveys", True)]


def test_headings_map_to_sections_by_the_deepest_rule(upstreams):
    lm = upstreams.get("lm-on-graphs")
    tag = ("Text-Attributed Graphs", "LLM as Predictor (Node)", "Graph-Empowered LLM (Node)")
    assert upstreams.place(lm, tag, "GreaseLM: Graph REASoning Enhanced Language Models for Question Answering") \
        .section == "kg-question-answering"
    assert upstreams.place(lm, tag, "Patton: Language Model Pretraining on Text-rich Networks").section \
        == "tag-llm-as-predictor"
    assert upstreams.place(lm, ("Text-Attributed Graphs", "Datasets"), "X").section == "benchmarks-datasets"
    assert upstreams.place(lm, ("Unknown heading",), "X") is None
    assert upstreams.skip_reason(upstreams.get("gfm-papers"), ("1. GNN-based Papers",)).startswith("pure GNN")
    assert upstreams.skip_reason(lm, ("Table of Contents",)).startswith("table of contents")
