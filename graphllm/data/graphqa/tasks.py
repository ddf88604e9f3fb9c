"""The twelve GraphQA tasks, one small class each behind one interface.

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

from graphllm.data.graphqa import algorithms
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

    @abstractmethod
    def make(self, graph: Graph, names: list[str], rng: random.Random) -> TaskItem:
        """Sample the nodes the question names; return question, answer text and answer value."""

    @abstractmethod
    def parse(self, answer: str, names: list[str]) -> Any:
        """The value an answer text states, or None when it states none."""


def _yes_no(answer: str) -> bool | None:
    head = answer.strip().lower()
    return True if head.startswith("yes") else False if head.startswith("no") else None


def _number(answer: str) -> int | None:
    match = re.search(r"-?\d+", answer)
    return int(match.group(0)) if match else None


def _ordered(nodes, names: list[str]) -> list[int]:
    integer = names[0].isdigit() if names else True
    return sorted(nodes, key=(lambda v: v) if integer else (lambda v: names[v]))


def _node_list(answer: str, names: list[str]) -> list[int] | None:
    text = answer.strip().rstrip(".")
    if text.lower() in ("no nodes", ""):
        return []
    index = {name: i for i, name in enumerate(names)}
    parts = [p.strip() for p in re.split(r",|\band\b", text) if p.strip()]
    if not all(p in index for p in parts):
        return None
    return [index[p] for p in parts]


class EdgeExistence(Task):
    name = "edge_existence"

    def make(self, graph, names, rng):
        a, b = rng.sample(range(graph.n), 2)
        value = b in graph.adjacency[a]
        return TaskItem(f"Is node {names[a]} connected to node {names[b]}?", "Yes." if value else "No.", value, [a, b])

    def parse(self, answer, names):
        return _yes_no(answer)


class NodeDegree(Task):
    name = "node_degree"

    def make(self, graph, names, rng):
        v = rng.randrange(graph.n)
        degree = len(graph.adjacency[v])
        return TaskItem(f"What is the degree of node {names[v]}?", f"{degree}.", degree, [v])

    def parse(self, answer, names):
        return _number(answer)


class NodeCount(Task):
    name = "node_count"

    def make(self, graph, names, rng):
        return TaskItem("How many nodes are in this graph?", f"{graph.n}.", graph.n, [])

    def parse(self, answer, names):
        return _number(answer)


class EdgeCount(Task):
    name = "edge_count"

    def make(self, graph, names, rng):
        m = len(graph.edges)
        return TaskItem("How many edges are in this graph?", f"{m}.", m, [])

    def parse(self, answer, names):
        return _number(answer)


class ConnectedNodes(Task):
    name = "connected_nodes"

    def make(self, graph, names, rng):
        v = rng.randrange(graph.n)
        nodes = _ordered(graph.adjacency[v], names)
        answer = ", ".join(names[u] for u in nodes) + "." if nodes else "No nodes."
        return TaskItem(f"List all the nodes connected to {names[v]} in alphabetical order.", answer, nodes, [v])

    def parse(self, answer, names):
        return _node_list(answer, names)


class DisconnectedNodes(Task):
    name = "disconnected_nodes"

    def make(self, graph, names, rng):
        v = rng.randrange(graph.n)
        nodes = _ordered(set(range(graph.n)) - graph.adjacency[v] - {v}, names)
        answer = ", ".join(names[u] for u in nodes) + "." if nodes else "No nodes."
        return TaskItem(f"List all the nodes that are not connected to {names[v]} in alphabetical order.", answer,
                        nodes, [v])

    def parse(self, answer, names):
        return _node_list(answer, names)


class CycleCheck(Task):
    name = "cycle_check"

    def make(self, graph, names, rng):
        value = algorithms.has_cycle(graph)
        return TaskItem("Is there a cycle in this graph?",
                        "Yes, there is a cycle." if value else "No, there is no cycle.", value, [])

    def parse(self, answer, names):
        return _yes_no(answer)


class Reachability(Task):
    name = "reachability"

    def make(self, graph, names, rng):
        a, b = rng.sample(range(graph.n), 2)
        value = algorithms.distances_from(graph, a)[b] is not None
        return TaskItem(f"Is there a path from node {names[a]} to node {names[b]}?", "Yes." if value else "No.",
                        value, [a, b])

    def parse(self, answer, names):
        return _yes_no(answer)


class ShortestPath(Task):
    name = "shortest_path"

    def make(self, graph, names, rng):
        a, b = rng.sample(range(graph.n), 2)
        length = algorithms.distances_from(graph, a)[b]
        answer = f"{length}." if length is not None else f"There is no path from node {names[a]} to node {names[b]}."
        return TaskItem(f"What is the length of the shortest path from node {names[a]} to node {names[b]}?",
                        answer, length, [a, b])

    def parse(self, answer, names):
        return None if answer.strip().lower().startswith("there is no path") else _number(answer)


class TriangleCounting(Task):
    name = "triangle_counting"

    def make(self, graph, names, rng):
        count = algorithms.triangles(graph)
        return TaskItem("How many triangles are in this graph?", f"{count}.", count, [])

    def parse(self, answer, names):
        return _number(answer)


class MaximumFlow(Task):
    """Capacities are drawn from 1..10 per edge and, unlike the reference, written into the text: without
    them the question has no answer a reader could derive."""

    name = "maximum_flow"

    def make(self, graph, names, rng):
        a, b = rng.sample(range(graph.n), 2)
        capacities = {edge: rng.randint(1, 10) for edge in graph.edges}
        flow = algorithms.maximum_flow(graph, capacities, a, b)
        extra = ""
        if capacities:
            extra = "The capacities of the edges are: " + ", ".join(
                f"({names[u]}, {names[v]}): {c}" for (u, v), c in capacities.items()) + ".\n"
        return TaskItem(f"What is the maximum capacity of the flow from node {names[a]} to node {names[b]}?",
                        f"{flow}.", flow, [a, b], extra, capacities)

    def parse(self, answer, names):
        return _number(answer)


class NodeClassification(Task):
    """Two-block SBM graphs; the block is the class. Half the nodes' classes are given, one other node is
    asked about."""

    name = "node_classification"
    needs = "sbm2"

    def make(self, graph, names, rng):
        classes = rng.sample(CLASSES, 2)
        chosen = rng.sample(range(graph.n), graph.n // 2 + 1)
        known, query = sorted(chosen[:-1]), chosen[-1]
        extra = "".join(f"Node {names[v]} likes {classes[graph.blocks[v]]}.\n" for v in known)
        label = classes[graph.blocks[query]]
        return TaskItem(f"Does node {names[query]} like {classes[0]} or {classes[1]}?", label, label, [query],
                        extra, known_labels={v: graph.blocks[v] for v in known}, classes=classes)

    def parse(self, answer, names):
        word = answer.strip().rstrip(".").lower()
        return word if word in CLASSES else None


TASKS: dict[str, Task] = {task.name: task for task in (
    EdgeExistence(), NodeDegree(), NodeCount(), EdgeCount(), ConnectedNodes(), DisconnectedNodes(), CycleCheck(),
    Reachability(), ShortestPath(), TriangleCounting(), MaximumFlow(), NodeClassification())}
