"""The GitHub workflows install what their commands import: each installs the project with some extras
(`pip install -e '.[links]'`), and every module its commands reach must come with those."""

from __future__ import annotations

import ast
import importlib.metadata as md
import re
import sys
import tomllib
from pathlib import Path

from tests.conftest import REPO

WORKFLOWS = REPO / ".github" / "workflows"
SCRIPTS = {"update_catalog.py": "catalog", "check_links.py": "links check"}


def _commands(text: str) -> list[tuple[str, str]]:
    """(group, action) of every graphllm command a workflow runs, directly or through scripts/."""
    found = []
    for match in re.finditer(r"(?:python\s+scripts/(\w+\.py)|\bgraphllm)\s+([a-z-]+)?(?:\s+([a-z-]+))?", text):
        script, first, second = match.groups()
        words = (SCRIPTS[script].split() + [first]) if script else [first, second]
        words = [w for w in words if w][:2]
        if len(words) == 2:
            found.append((words[0], words[1]))
    return found


def _extras(text: str) -> list[str]:
    match = re.search(r"pip install -e ['\"]?\.(?:\[([a-z,]+)\])?", text)
    assert match, "the workflow installs the project with `pip install -e .[EXTRAS]`"
    return match.group(1).split(",") if match.group(1) else []


def _module_path(name: str) -> Path | None:
    base = REPO / Path(*name.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.exists():
            return path
    return None


def _imports(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def third_party_imports(group: str, action: str) -> set[str]:
    """Top-level names of what `graphllm GROUP ACTION` imports, following graphllm modules all the way down."""
    cli = REPO / "graphllm" / "cli" / f"{group}.py"
    handler = f"_{group}_{action}".replace("-", "_")
    tree = ast.parse(cli.read_text(encoding="utf-8"))
    function = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == handler)
    todo, seen, outside = list(_imports(function)), set(), set()
    while todo:
        name = todo.pop()
        if not name.startswith("graphllm"):
            outside.add(name.split(".")[0])
            continue
        path = _module_path(name)
        if path is None or path in seen:
            continue
        seen.add(path)
        parent = name.rpartition(".")[0]
        if parent and (parent_path := _module_path(parent)) and parent_path not in seen:
            todo.append(parent)  # importing a module runs its package's __init__
        todo += _imports(ast.parse(path.read_text(encoding="utf-8")))
    return {name for name in outside if name not in sys.stdlib_module_names and name != "__future__"}


def _distributions(extras: list[str]) -> set[str]:
    """The distributions `pip install -e .[extras]` brings: the requirements and all they require."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = list(project["dependencies"]) + [r for e in extras for r in project["optional-dependencies"][e]]
    todo, found = [re.split(r"[<>=!~;\[ ]", r, maxsplit=1)[0] for r in wanted], set()
    while todo:
        name = todo.pop().lower().replace("_", "-")
        if name in found:
            continue
        found.add(name)
        try:
            requires = md.requires(name) or []
        except md.PackageNotFoundError:
            continue
        todo += [re.split(r"[<>=!~;\[ (]", r, maxsplit=1)[0] for r in requires if "extra ==" not in r]
    return found


def missing_modules(commands: list[tuple[str, str]], extras: list[str]) -> set[str]:
    provided = _distributions(extras)
    owners = md.packages_distributions()
    missing = set()
    for group, action in commands:
        for name in third_party_imports(group, action):
            dists = {d.lower().replace("_", "-") for d in owners.get(name, [])}
            if not dists & provided:
                missing.add(name)
    return missing


def test_every_workflow_installs_what_its_commands_import():
    checked = 0
    for workflow in sorted(WORKFLOWS.glob("*.yml")):
        text = workflow.read_text(encoding="utf-8")
        commands = _commands(text)
        assert commands, workflow.name
        assert missing_modules(commands, _extras(text)) == set(), workflow.name
        checked += len(commands)
    assert checked >= 5


def test_the_check_would_catch_a_missing_extra():
    """The weekly link check once failed at start-up: pycurl, which the crawler imports, was not installed."""
    assert "pycurl" in missing_modules([("links", "check")], [])
    assert missing_modules([("links", "check")], ["links"]) == set()
