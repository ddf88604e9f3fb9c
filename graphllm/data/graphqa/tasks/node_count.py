"""GraphQA task `node_count`: the number of nodes of the graph."""

from __future__ import annotations

from graphllm.data.graphqa.tasks.base import Task, TaskItem, number, register_task


@register_task
class NodeCount(Task):
    name = "node_count"
    position = 3

    def make(self, graph, names, rng):
        return TaskItem("How many nodes are in this graph?", f"{graph.n}.", graph.n, [])

    def parse(self, answer, names):
        return number(answer)
