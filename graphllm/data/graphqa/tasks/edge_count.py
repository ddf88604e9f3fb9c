"""GraphQA task `edge_count`: the number of edges of the graph."""

from __future__ import annotations

from graphllm.data.graphqa.tasks.base import Task, TaskItem, number, register_task


@register_task
class EdgeCount(Task):
    name = "edge_count"
    position = 4

    def make(self, graph, names, rng):
        m = len(graph.edges)
        return TaskItem("How many edges are in this graph?", f"{m}.", m, [])

    def parse(self, answer, names):
        return number(answer)
