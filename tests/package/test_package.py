"""The package's shape: no import cycles, no upward imports between parts, no module past ~400 lines."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGE = REPO / "graphllm"
MAX_LINES = 400
# What each part must not import: the parts built on it (so a library part never reaches the CLI, and the
# site, which only reads results, never a benchmark or the training loop).
FORBIDDEN = {
    "graphllm.catalog": ("graphllm.models", "graphllm.inference", "graphllm.site", "graphllm.cli", "graphllm.bench",
                         "graphllm.experiment", "graphllm.train"),
    "graphllm.links": ("graphllm.models", "graphllm.inference", "graphllm.site", "graphllm.cli", "graphllm.bench"),
    "graphllm.data": ("graphllm.models", "graphllm.inference", "graphllm.site", "graphllm.cli", "graphllm.bench",
                      "graphllm.experiment", "graphllm.train", "graphllm.evaluate"),
    "graphllm.models": ("graphllm.inference", "graphllm.site", "graphllm.cli", "graphllm.bench",
                        "graphllm.experiment", "graphllm.train", "graphllm.evaluate"),
    "graphllm.results": ("graphllm.",),  # a leaf: everything reads it, it reads nothing of ours but errors
    "graphllm.site": ("graphllm.cli", "graphllm.bench", "graphllm.experiment", "graphllm.train",
                      "graphllm.inference", "graphllm.models"),
    "graphllm.inference": ("graphllm.site", "graphllm.cli", "graphllm.bench", "graphllm.experiment",
                           "graphllm.serve"),
    "graphllm.serve": ("graphllm.site", "graphllm.cli", "graphllm.bench"),
}
ALLOWED_IN_LEAVES = ("graphllm.errors", "graphllm.fileio")


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(REPO).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _imports(path: Path, name: str, modules: dict[str, Path]) -> set[str]:
    """Every graphllm module `path` imports, at the top or inside a function (a lazy import is still a tie)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        else:
            continue
        out |= {t for t in targets if t in modules and t != name}
    return out


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, name, modules) for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each a cycle of imports."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _is_package_face(name: str, other: str) -> bool:
    """A package's __init__ importing its own submodules (a registry filling itself) is not a cycle of parts."""
    return other.startswith(name + ".") or name.startswith(other + ".")


def test_no_import_cycles():
    graph = _graph()
    without_faces = {name: {o for o in deps if not _is_package_face(name, o)} for name, deps in graph.items()}
    assert _cycles(without_faces) == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_upward_imports():
    wrong = []
    for name, deps in _graph().items():
        for part, forbidden in FORBIDDEN.items():
            if name == part or name.startswith(part + "."):
                wrong += [(name, d) for d in deps if d.startswith(forbidden) and d not in ALLOWED_IN_LEAVES
                          and not d.startswith(part)]
    assert wrong == []


def test_no_module_past_400_lines():
    long = {str(path.relative_to(REPO)): n for path in PACKAGE.rglob("*.py")
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_the_cli_starts_without_torch_and_its_help_lists_every_registered_draft():
    """Building the parser imports no torch (catalog commands must not wait for it); `--help` of the commands
    taking drafts renders them from the registry, so a new draft module shows up without touching the CLI."""
    import os
    import subprocess
    import sys

    code = ("import sys, graphllm.cli as cli; cli.build_parser(); "
            "print('torch' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"
    from graphllm.inference.drafts.registry import REGISTRY

    for command in (["generate"], ["bench", "decode"]):
        text = subprocess.run([sys.executable, "-m", "graphllm", *command, "--help"], capture_output=True, text=True,
                              check=True, env={**os.environ, "COLUMNS": "400"}).stdout
        assert all(entry.usage.split("  ")[0] in text for entry in REGISTRY.values()), command
    from graphllm.inference.drafts.registry import TRAINERS

    text = subprocess.run([sys.executable, "-m", "graphllm", "distill", "--help"], capture_output=True, text=True,
                          check=True, env={**os.environ, "COLUMNS": "400"}).stdout
    text = " ".join(text.split())  # help wraps lines
    assert all(f"{name}: {entry.summary}" in text and f"{name} draft:" in text for name, entry in TRAINERS.items())
    assert "--layers" in text and "--epochs" in text  # each trained draft's own options


def test_a_trained_draft_registered_from_its_own_module_is_trained_by_graphllm_distill(tmp_path, monkeypatch,
                                                                                      capsys):
    """What `graphllm distill` offers comes from the registry of trained drafts: a new one brings its options, its
    check (run before any model loads) and its training, and the command prints the trainer's report."""
    from graphllm.cli import main
    from graphllm.inference.drafts import registry

    monkeypatch.setattr(registry, "TRAINERS", dict(registry.TRAINERS))
    import graphllm.inference.drafts as drafts

    monkeypatch.setattr(drafts, "TRAINERS", registry.TRAINERS)
    seen = []

    def declare(group):
        group.add_argument("--rounds", type=int, default=1, help="rounds of the toy draft")

    def check(options):
        if options.rounds > 5:
            raise ValueError(f"--rounds must be at most 5, not {options.rounds}")

    @registry.register_trainer("toy", "a toy draft", declare, check)
    def train_toy(job):
        seen.append((job.options.rounds, job.out, job.recipe.name))
        return f"toy draft of {job.options.rounds} rounds saved to {job.out}"

    assert main(["distill", "--recipe", "zero-shot", "--draft", "toy", "--out", str(tmp_path), "--rounds", "9"]) == 2
    assert "--rounds must be at most 5, not 9" in capsys.readouterr().err and not seen
    assert main(["distill", "--recipe", "zero-shot", "--draft", "toy", "--out", str(tmp_path), "--rounds", "3"]) == 0
    assert seen == [(3, tmp_path, "zero-shot")]
    assert capsys.readouterr().out.strip() == f"toy draft of 3 rounds saved to {tmp_path}"
    with pytest.raises(ValueError, match="registered twice"):
        registry.register_trainer("toy", "again", declare)(train_toy)
