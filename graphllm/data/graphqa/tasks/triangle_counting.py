"""GraphQA task `triangle_counting`: the number of triangles (3-cliques) of the graph."""

from __future__ import annotations

from graphllm.data.graphqa import algorithms
from graphllm.data.graphqa.tasks.base import Task, TaskItem, number, register_task


@register_task
class TriangleCounting(Task):
    name = "triangle_counting"
    position = 10

    def make(self, graph, names, rng):
        count = algorithms.triangles(graph)
        return TaskItem("How many triangles are in this graph?", f"{count}.", count, [])

    def parse(self, answer, names):
        return number(answer)
