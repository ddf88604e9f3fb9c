"""The awesome-style list: deterministic, up to date, and clean for awesome-lint."""

import re
import shutil
import subprocess
from pathlib import Path

from graphllm.catalog.render import LIST_FILE, github_slug, render_item, render_list
from graphllm.catalog.store import load_catalog
from tests.conftest import CATALOG, REPO, require_tool, run_cli


def test_render_is_deterministic():
    first = render_list(load_catalog(CATALOG))
    second = render_list(load_catalog(CATALOG))
    assert first == second
    assert first.endswith("\n") and not first.endswith("\n\n")


def test_committed_list_is_up_to_date():
    result = run_cli("catalog", "render", "--check")
    assert result.returncode == 0, result.stderr


def test_render_cli_is_byte_identical_on_rerun(tmp_path):
    out = tmp_path / "LIST.md"
    assert run_cli("catalog", "render", "--output", str(out)).returncode == 0
    first = out.read_bytes()
    result = run_cli("catalog", "render", "--output", str(out))
    assert "unchanged" in result.stdout
    assert out.read_bytes() == first
    out.write_text(first.decode() + "hand edit\n")
    assert run_cli("catalog", "render", "--output", str(out), "--check").returncode == 1


def test_every_entry_once_with_its_links():
    catalog = load_catalog(CATALOG)
    text = render_list(catalog)
    items = [line for line in text.splitlines() if line.startswith("- [") and "](#" not in line]
    assert len(items) == len(catalog.entries())
    for entry in catalog.entries():
        for link in entry.links:
            assert f"({link.url})" in text


def test_item_shape_and_escaping():
    catalog = load_catalog(CATALOG)
    entry = next(e for e in catalog.entries() if e.id == "talk-like-a-graph")
    assert render_item(entry) == ("- [Talk like a Graph: Encoding Graphs for Large Language Models]"
                                  "(https://arxiv.org/abs/2310.04560) - ICLR 2024. "
                                  "[Code](https://github.com/google-research/talk-like-a-graph).")
    tricky = entry.model_copy(update={"title": "A [bracketed] *title*"})
    assert render_item(tricky).startswith(r"- [A \[bracketed\] \*title\*](")


def test_toc_anchors_match_headings():
    text = render_list(load_catalog(CATALOG))
    headings = re.findall(r"^#{2,3} (.+)$", text, flags=re.M)
    seen: dict[str, int] = {}
    anchors = {github_slug(h, seen) for h in headings}
    toc = re.findall(r"^\s*- \[[^\]]+\]\(#([^)]+)\)$", text, flags=re.M)
    assert toc and set(toc) <= anchors
    assert len(toc) == len(headings) - 1  # every heading but "Contents"
    assert github_slug("Datasets, Benchmarks & Surveys", {}) == "datasets-benchmarks--surveys"


def test_no_url_twice():
    text = render_list(load_catalog(CATALOG))
    urls = [u for u in re.findall(r"\]\((https?://[^)]+)\)", text)]
    normalised = [re.sub(r"^https?://(www\.)?", "", u).rstrip("/") for u in urls]
    assert len(normalised) == len(set(normalised))


def test_awesome_lint_finds_no_list_item_toc_or_double_link_issue(tmp_path):
    """The real awesome-lint (npm). Its repository-level rules (badge, git repo, contributing.md) are
    about the upstream repository, not the rendered list, so only the list rules are asserted."""
    binary = REPO / ".cache" / "npm" / "node_modules" / ".bin" / "awesome-lint"
    require_tool(binary.exists() and shutil.which("node") is not None, "awesome-lint (make tools)")
    shutil.copy(REPO / LIST_FILE, tmp_path / "readme.md")
    result = subprocess.run([str(binary), "readme.md"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr
    assert "remark-lint:awesome-badge" in output  # proves the linter ran over the file
    bad = [line for line in output.splitlines()
           if re.search(r"awesome-list-item|awesome-toc|double-link|awesome-heading", line)]
    assert bad == []


def test_awesome_lint_check_is_not_vacuous(tmp_path):
    binary = REPO / ".cache" / "npm" / "node_modules" / ".bin" / "awesome-lint"
    require_tool(binary.exists() and shutil.which("node") is not None, "awesome-lint (make tools)")
    text = (REPO / LIST_FILE).read_text(encoding="utf-8")
    first = re.search(r"^- \[.*$", text.split("## Contents")[1].split("\n## ")[1], flags=re.M).group(0)
    Path(tmp_path / "readme.md").write_text(text.replace(first, first + "\n" + first.rstrip(".") + " no period"))
    result = subprocess.run([str(binary), "readme.md"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr
    assert "double-link" in output and "awesome-list-item" in output
