"""GraphQA task `reachability`: is there a path between two named nodes (yes/no)."""

from __future__ import annotations

from graphllm.data.graphqa import algorithms
from graphllm.data.graphqa.tasks.base import Task, TaskItem, register_task, yes_no


@register_task
class Reachability(Task):
    name = "reachability"
    position = 8

    def make(self, graph, names, rng):
        a, b = rng.sample(range(graph.n), 2)
        value = algorithms.distances_from(graph, a)[b] is not None
        return TaskItem(f"Is there a path from node {names[a]} to node {names[b]}?", "Yes." if value else "No.",
                        value, [a, b])

    def parse(self, answer, names):
        return yes_no(answer)
