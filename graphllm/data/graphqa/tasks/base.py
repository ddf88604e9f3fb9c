"""What a GraphQA task is, and the registry every task module adds itself to (`@register_task`).

`make` samples the nodes a question refers to and returns the question, the answer text and the answer
value; `parse` turns an answer text back into the value (what evaluation compares). Question and answer
wording follows "Talk like a Graph"; lists of nodes are in the order the question asks for (numeric for
integer names, alphabetical for names).
"""

from __future__ import annotations

import random
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from graphllm.data.graphqa.graphs import Graph

CLASSES = ["soccer", "baseball", "tennis", "golf", "football", "surfing"]


@dataclass
class TaskItem:
    question: str
    answer: str
    value: Any
    nodes: list[int]
    extra_text: str = ""  # facts the question needs beyond the graph (capacities, known labels)
    capacities: dict[tuple[int, int], int] | None = None
    known_labels: dict[int, int] = field(default_factory=dict)  # node -> class index (node classification)
    classes: list[str] = field(default_factory=list)


class Task(ABC):
    name = ""
    needs = "any"  # "any" graph, or "sbm2": a two-block stochastic block model
    # Place in the default task list. Examples are drawn task after task from one generator per graph, so the
    # data a default config generates depends on this order: a new task takes the next free place.
    position = 0

    @abstractmethod
    def make(self, graph: Graph, names: list[str], rng: random.Random) -> TaskItem:
        """Sample the nodes the question names; return question, answer text and answer value."""

    @abstractmethod
    def parse(self, answer: str, names: list[str]) -> Any:
        """The value an answer text states, or None when it states none."""


def number(answer: str) -> int | None:
    match = re.search(r"-?\d+", answer)
    return int(match.group(0)) if match else None


def ordered(nodes, names: list[str]) -> list[int]:
    integer = names[0].isdigit() if names else True
    return sorted(nodes, key=(lambda v: v) if integer else (lambda v: names[v]))


def node_list(answer: str, names: list[str]) -> list[int] | None:
    text = answer.strip().rstrip(".")
    if text.lower() in ("no nodes", ""):
        return []
    index = {name: i for i, name in enumerate(names)}
    parts = [p.strip() for p in re.split(r",|\band\b", text) if p.strip()]
    if not all(p in index for p in parts):
        return None
    return [index[p] for p in parts]


REGISTRY: dict[str, Task] = {}


def register_task(cls: type[Task]) -> type[Task]:
    """Class decorator: one instance of the task, under its `name`."""
    if not cls.name or cls.name in REGISTRY:
        raise ValueError(f"task {cls.name!r} has no name or is registered twice")
    if any(t.position == cls.position for t in REGISTRY.values()):
        raise ValueError(f"task {cls.name!r} takes position {cls.position}, which another task has")
    REGISTRY[cls.name] = cls()
    return cls


def yes_no(answer: str) -> bool | None:
    head = answer.strip().lower()
    return True if head.startswith("yes") else False if head.startswith("no") else None
