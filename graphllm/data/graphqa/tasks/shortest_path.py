"""GraphQA task `shortest_path`: the number of edges on a shortest path between two named nodes, or that
there is none."""

from __future__ import annotations

from graphllm.data.graphqa import algorithms
from graphllm.data.graphqa.tasks.base import Task, TaskItem, number, register_task


@register_task
class ShortestPath(Task):
    name = "shortest_path"
    position = 9

    def make(self, graph, names, rng):
        a, b = rng.sample(range(graph.n), 2)
        length = algorithms.distances_from(graph, a)[b]
        answer = f"{length}." if length is not None else f"There is no path from node {names[a]} to node {names[b]}."
        return TaskItem(f"What is the length of the shortest path from node {names[a]} to node {names[b]}?",
                        answer, length, [a, b])

    def parse(self, answer, names):
        return None if answer.strip().lower().startswith("there is no path") else number(answer)
