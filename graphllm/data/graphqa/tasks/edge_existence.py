"""GraphQA task `edge_existence`: is there an edge between two named nodes (yes/no)."""

from __future__ import annotations

from graphllm.data.graphqa.tasks.base import Task, TaskItem, register_task, yes_no


@register_task
class EdgeExistence(Task):
    name = "edge_existence"
    position = 1

    def make(self, graph, names, rng):
        a, b = rng.sample(range(graph.n), 2)
        value = b in graph.adjacency[a]
        return TaskItem(f"Is node {names[a]} connected to node {names[b]}?", "Yes." if value else "No.", value, [a, b])

    def parse(self, answer, names):
        return yes_no(answer)
