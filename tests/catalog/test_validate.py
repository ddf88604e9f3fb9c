"""`graphllm catalog validate`: every kind of error names file, line, entry and field; nothing is rewritten."""

from pathlib import Path

import pytest

from graphllm.catalog.validate import validate_catalog
from tests.conftest import run_cli

TAXONOMY = """sections:
  - id: prompting
    title: Prompting
  - id: knowledge-graph
    title: Knowledge Graph
    group: Applications
"""

GOOD = """- id: structgpt
  title: 'StructGPT: A General Framework'
  venue: EMNLP
  year: 2023
  arxiv_id: '2305.09645'
  links:
    - kind: paper
      url: https://arxiv.org/abs/2305.09645
  added: 2025-04-08
"""


def make_catalog(root: Path, prompting: str, knowledge: str = "[]\n", taxonomy: str = TAXONOMY) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "taxonomy.yaml").write_text(taxonomy, encoding="utf-8")
    (root / "prompting.yaml").write_text(prompting, encoding="utf-8")
    (root / "knowledge-graph.yaml").write_text(knowledge, encoding="utf-8")
    return root


def problems(root: Path) -> list[str]:
    return [str(p) for p in validate_catalog(root).problems]


def test_a_valid_catalog_passes(tmp_path):
    report = validate_catalog(make_catalog(tmp_path / "c", GOOD))
    assert report.ok and report.entries == 1


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    root = make_catalog(tmp_path / "c", GOOD + "- id: broken\n  title: [unclosed\n  added: 2025-01-01\n")
    [message] = problems(root)
    assert "YAML syntax error" in message
    assert ":12:" in message or ":13:" in message


def test_missing_field(tmp_path):
    root = make_catalog(tmp_path / "c", GOOD.replace("  added: 2025-04-08\n", ""))
    [message] = problems(root)
    assert "prompting.yaml:1: entry 'structgpt' field 'added': required field is missing" in message


def test_unknown_field_names_its_line(tmp_path):
    root = make_catalog(tmp_path / "c", GOOD.replace("  venue: EMNLP\n", "  venue: EMNLP\n  stras: 12\n"))
    [message] = problems(root)
    assert "prompting.yaml:4: entry 'structgpt' field 'stras': unknown field" in message
    assert "allowed:" in message


def test_bad_url(tmp_path):
    root = make_catalog(tmp_path / "c", GOOD.replace("url: https://arxiv.org", "url: htps://arxiv.org"))
    [message] = problems(root)
    assert "prompting.yaml:8: entry 'structgpt' field 'links[0].url': bad URL" in message
    assert "scheme must be http or https" in message


def test_wrong_types_and_values(tmp_path):
    text = GOOD.replace("year: 2023", "year: twenty").replace("'2305.09645'", "'2305.09645v2'")
    found = problems(make_catalog(tmp_path / "c", text))
    assert any("field 'year'" in m and ":4:" in m for m in found)
    assert any("field 'arxiv_id'" in m and "without a version suffix" in m for m in found)


def test_unknown_section_file_and_also_in(tmp_path):
    root = make_catalog(tmp_path / "c", GOOD.replace("  added:", "  also_in:\n    - planing\n  added:"))
    (root / "graph-robotics.yaml").write_text(GOOD.replace("structgpt", "other"), encoding="utf-8")
    found = problems(root)
    assert any("graph-robotics.yaml: unknown section 'graph-robotics'" in m for m in found)
    assert any("entry 'structgpt' field 'also_in': unknown section 'planing'" in m for m in found)


@pytest.mark.parametrize(
    ("second", "what"),
    [
        (GOOD.replace("id: structgpt", "id: structgpt-2").replace("A General Framework", "Other title")
         .replace("https://arxiv.org/abs/2305.09645", "https://example.org/p"), "duplicate arXiv id '2305.09645'"),
        (GOOD.replace("id: structgpt", "id: structgpt-2").replace("'StructGPT: A General Framework'",
         "'structgpt - a general framework!'").replace("  arxiv_id: '2305.09645'\n", "")
         .replace("https://arxiv.org/abs/2305.09645", "https://example.org/p"), "duplicate normalised title"),
        (GOOD.replace("id: structgpt", "id: structgpt-2").replace("A General Framework", "Other title")
         .replace("  arxiv_id: '2305.09645'\n", "").replace("abs/2305.09645", "pdf/2305.09645v3.pdf"),
         "duplicate paper URL 'arxiv.org/abs/2305.09645'"),
        (GOOD.replace("A General Framework", "Other title").replace("  arxiv_id: '2305.09645'\n", "")
         .replace("https://arxiv.org/abs/2305.09645", "https://example.org/p"), "duplicate id 'structgpt'"),
    ],
)
def test_duplicates_name_both_entries(tmp_path, second, what):
    root = make_catalog(tmp_path / "c", GOOD, knowledge=second)
    found = problems(root)
    assert len(found) == 1, found
    assert what in found[0]
    assert "knowledge-graph.yaml:" in found[0] and " entry 'structgpt" in found[0]
    assert "same as entry 'structgpt' at " in found[0] and found[0].endswith("prompting.yaml:1")


def test_duplicate_yaml_key(tmp_path):
    root = make_catalog(tmp_path / "c", GOOD.replace("  year: 2023\n", "  year: 2023\n  year: 2024\n"))
    [message] = problems(root)
    assert "duplicate key 'year'" in message and "prompting.yaml:5" in message


def test_section_file_must_be_a_list(tmp_path):
    root = make_catalog(tmp_path / "c", "id: structgpt\n")
    [message] = problems(root)
    assert "must be a YAML list" in message


def test_bad_taxonomy(tmp_path):
    root = make_catalog(tmp_path / "c", GOOD, taxonomy=TAXONOMY.replace("title: Prompting", "titel: Prompting"))
    found = problems(root)
    assert any("taxonomy.yaml:3" in m and "titel" in m for m in found)


def test_cli_exits_non_zero_prints_one_line_per_problem_and_never_rewrites(tmp_path):
    bad = GOOD.replace("url: https://arxiv.org", "url: htps://arxiv.org").replace("  venue:", "  venu:")
    root = make_catalog(tmp_path / "c", bad)
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in root.iterdir()}
    result = run_cli("catalog", "validate", "--catalog", str(root))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 3 and "2 problem(s)" in lines[-1]
    assert "Traceback" not in result.stderr
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in root.iterdir()} == before


def test_cli_prints_the_unique_paper_count_for_the_real_catalog():
    result = run_cli("catalog", "validate")
    assert result.returncode == 0, result.stderr
    assert "catalog OK: 1110 unique entries" in result.stdout


def test_missing_catalog_directory_is_a_clear_error(tmp_path):
    result = run_cli("catalog", "validate", "--catalog", str(tmp_path / "nope"))
    assert result.returncode == 2
    assert result.stderr.startswith("error: catalog directory") and "graphllm catalog import" in result.stderr
