"""GraphQA task `node_degree`: the number of neighbours of a named node."""

from __future__ import annotations

from graphllm.data.graphqa.tasks.base import Task, TaskItem, number, register_task


@register_task
class NodeDegree(Task):
    name = "node_degree"
    position = 2

    def make(self, graph, names, rng):
        v = rng.randrange(graph.n)
        degree = len(graph.adjacency[v])
        return TaskItem(f"What is the degree of node {names[v]}?", f"{degree}.", degree, [v])

    def parse(self, answer, names):
        return number(answer)
