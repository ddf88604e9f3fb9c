"""Reading and writing the catalog directory.

Reading keeps the line of every mapping and key so that errors point at `file:line`. Writing uses
one stable layout (field order of the schema, block style, no line wrapping) and atomic renames,
so the same data always gives the same bytes and an interrupted write leaves the old file intact.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from graphllm.catalog.schema import ENTRY_FIELDS, Entry, Section, Taxonomy
from graphllm.errors import CatalogError
from graphllm.fileio import write_if_changed

TAXONOMY_FILE = "taxonomy.yaml"
UPSTREAMS_FILE = "upstreams.yaml"  # the upstream lists' settings (graphllm/catalog/upstreams.py)
NON_SECTION_FILES = {TAXONOMY_FILE, UPSTREAMS_FILE}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the catalog, located as precisely as the data allows."""

    file: str
    line: int | None
    message: str
    entry: str | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        what = []
        if self.entry:
            what.append(f"entry {self.entry!r}")
        if self.field:
            what.append(f"field {self.field!r}")
        return f"{where}: {' '.join(what) + ': ' if what else ''}{self.message}"


@dataclass
class Located:
    """An entry with where it was read from."""

    entry: Entry
    section: str
    file: str
    line: int
    field_lines: dict[str, int] = field(default_factory=dict)


@dataclass
class Catalog:
    root: Path
    taxonomy: Taxonomy
    sections: dict[str, list[Entry]]

    def entries(self) -> list[Entry]:
        return [entry for section in self.taxonomy.ids() for entry in self.sections.get(section, [])]

    def section_of(self) -> dict[str, str]:
        return {entry.id: sid for sid, entries in self.sections.items() for entry in entries}


# --- YAML with line numbers -------------------------------------------------------------------


class _LineMap(dict):
    """A dict that remembers the line of the mapping and of each key (1-based)."""

    line: int = 0
    key_lines: dict[str, int]


class _LineLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode):
    data = _LineMap()
    data.line = node.start_mark.line + 1
    data.key_lines = {}
    yield data
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in data:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first on line {data.key_lines[key]})", key_node.start_mark
            )
        data[key] = loader.construct_object(value_node, deep=True)
        data.key_lines[key] = key_node.start_mark.line + 1


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _read_yaml(path: Path, display: str) -> tuple[Any, Problem | None]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, Problem(display, None, f"cannot read file: {exc}")
    try:
        return yaml.load(text, Loader=_LineLoader), None  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        reason = getattr(exc, "problem", None) or str(exc)
        return None, Problem(display, line, f"YAML syntax error: {reason}")


def _field_path(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _error_line(data: Any, loc: tuple, default: int) -> int:
    """The line of the deepest mapping key on the error's path."""
    line, node = default, data
    for part in loc:
        if isinstance(node, _LineMap) and part in node:
            line = node.key_lines.get(part, line)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
            line = getattr(node, "line", line)
        else:
            break
    return line


def pydantic_problems(exc: ValidationError, data: Any, display: str, default_line: int, entry: str | None):
    problems = []
    for err in exc.errors():
        loc = err["loc"]
        path = _field_path(loc)
        if err["type"] == "missing":
            message = "required field is missing"
        elif err["type"] == "extra_forbidden":
            allowed = ", ".join(ENTRY_FIELDS)
            message = f"unknown field (allowed: {allowed})" if entry else "unknown field"
        else:
            message = err["msg"].removeprefix("Value error, ")
        problems.append(Problem(display, _error_line(data, loc, default_line), message, entry, path or None))
    return problems


# --- reading ----------------------------------------------------------------------------------


def read_taxonomy(root: Path) -> tuple[Taxonomy | None, list[Problem]]:
    path = root / TAXONOMY_FILE
    display = _display(path)
    if not path.exists():
        return None, [Problem(display, None, f"missing; run `graphllm catalog import` to create {display}")]
    data, problem = _read_yaml(path, display)
    if problem:
        return None, [problem]
    try:
        return Taxonomy.model_validate(_plain(data)), []
    except ValidationError as exc:
        return None, pydantic_problems(exc, data, display, 1, None)


def read_section_file(path: Path) -> tuple[list[Located], list[Problem]]:
    display = _display(path)
    data, problem = _read_yaml(path, display)
    if problem:
        return [], [problem]
    if data is None:
        return [], []
    if not isinstance(data, list):
        return [], [Problem(display, 1, "a section file must be a YAML list of entries (`- id: ...`)")]
    located, problems = [], []
    for index, item in enumerate(data):
        line = getattr(item, "line", 1)
        if not isinstance(item, dict):
            problems.append(Problem(display, line, f"item {index} is not a mapping of fields"))
            continue
        name = str(item.get("id") or f"#{index}")
        try:
            entry = Entry.model_validate(_plain(item))
        except ValidationError as exc:
            problems.extend(pydantic_problems(exc, item, display, line, name))
            continue
        located.append(Located(entry, path.stem, display, line, dict(item.key_lines)))
    return located, problems


def read_catalog(root: str | Path) -> tuple[Catalog | None, list[Located], list[Problem]]:
    """Read everything that can be read; return the catalog (None without a taxonomy) and all problems."""
    root = Path(root)
    if not root.is_dir():
        raise CatalogError(f"catalog directory {root} does not exist; run `graphllm catalog import` first")
    taxonomy, problems = read_taxonomy(root)
    known = set(taxonomy.ids()) if taxonomy else set()
    located: list[Located] = []
    order = {sid: index for index, sid in enumerate(taxonomy.ids())} if taxonomy else {}
    files = sorted(list(root.glob("*.yaml")) + list(root.glob("*.yml")),
                   key=lambda p: (order.get(p.stem, len(order)), p.name))
    for path in files:
        if path.name in NON_SECTION_FILES:
            continue
        if taxonomy and path.stem not in known:
            problems.append(
                Problem(_display(path), None, f"unknown section {path.stem!r}: add it to {TAXONOMY_FILE} "
                        f"or move its entries to one of: {', '.join(sorted(known))}")
            )
            continue
        if path.suffix == ".yml":
            problems.append(Problem(_display(path), None, "use the .yaml extension for section files"))
            continue
        items, file_problems = read_section_file(path)
        located.extend(items)
        problems.extend(file_problems)
    if taxonomy is None:
        return None, located, problems
    sections: dict[str, list[Entry]] = {sid: [] for sid in taxonomy.ids()}
    for item in located:
        sections[item.section].append(item.entry)
    return Catalog(root, taxonomy, sections), located, problems


def load_catalog(root: str | Path) -> Catalog:
    """The catalog, or a CatalogError naming the first problem and how many there are."""
    catalog, _, problems = read_catalog(root)
    if problems or catalog is None:
        more = f" (and {len(problems) - 1} more; run `graphllm catalog validate`)" if len(problems) > 1 else ""
        raise CatalogError(f"{problems[0]}{more}")
    return catalog


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


# --- writing ----------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow=False, indentless=False):  # lists indented under their key
        return super().increase_indent(flow, False)

    def ignore_aliases(self, data):  # shared date objects must not become &id001 anchors
        return True


def _str_representer(dumper: yaml.SafeDumper, value: str):
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _str_representer)


def entry_to_data(entry: Entry) -> dict[str, Any]:
    """Fields in schema order; empty optional fields left out so files stay short."""
    data = entry.model_dump(mode="python", exclude_none=True)
    data["links"] = [link.model_dump(exclude_none=True) for link in entry.links]
    for key in ("authors", "also_in", "tags", "sources"):
        if not data.get(key):
            data.pop(key, None)
    return {key: data[key] for key in ENTRY_FIELDS if key in data}


def dump_yaml(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=10_000,
                     default_flow_style=False)


def section_header(section: Section) -> str:
    return (f"# {section.title}: one entry per paper, newest first. Edit by hand or with `graphllm catalog`;\n"
            f"# check with `graphllm catalog validate`. Schema: graphllm/catalog/schema.py\n")


def sort_key(entry: Entry) -> tuple:
    """Newest first: by year, then first version, then title."""
    return (-(entry.year or 0), _neg_month(entry.first_version), entry.title.casefold(), entry.id)


def _neg_month(first_version: str | None) -> tuple:
    if not first_version:
        return (0, 0)
    year, month = first_version.split("-")[:2]
    return (-int(year), -int(month))


def write_catalog(catalog: Catalog) -> list[Path]:
    """Write the taxonomy and every section file; return the files whose bytes changed."""
    changed = []
    root = catalog.root
    taxonomy_data = {"sections": [s.model_dump(exclude_none=True) for s in catalog.taxonomy.sections]}
    taxonomy_text = ("# Sections of the catalog, in display order. Each has a file <id>.yaml beside this one.\n"
                     + dump_yaml(taxonomy_data))
    if write_if_changed(root / TAXONOMY_FILE, taxonomy_text):
        changed.append(root / TAXONOMY_FILE)
    for section in catalog.taxonomy.sections:
        entries = sorted(catalog.sections.get(section.id, []), key=sort_key)
        body = dump_yaml([entry_to_data(e) for e in entries]) if entries else "[]\n"
        path = root / f"{section.id}.yaml"
        if write_if_changed(path, section_header(section) + body):
            changed.append(path)
    return changed


def preview_diff(catalog: Catalog) -> str:
    """A unified diff of what `write_catalog(catalog)` would change, computed without touching the catalog."""
    import difflib
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        write_catalog(Catalog(Path(tmp), catalog.taxonomy, catalog.sections))
        chunks = []
        for new in sorted(Path(tmp).glob("*.yaml")):
            old = catalog.root / new.name
            before = old.read_text(encoding="utf-8").splitlines(keepends=True) if old.exists() else []
            chunks.extend(difflib.unified_diff(before, new.read_text(encoding="utf-8").splitlines(keepends=True),
                                               str(old), str(old)))
        return "".join(chunks)


def today() -> dt.date:
    return dt.date.today()
