"""GraphQA task `cycle_check`: does the graph have a cycle (yes/no)."""

from __future__ import annotations

from graphllm.data.graphqa import algorithms
from graphllm.data.graphqa.tasks.base import Task, TaskItem, register_task, yes_no


@register_task
class CycleCheck(Task):
    name = "cycle_check"
    position = 7

    def make(self, graph, names, rng):
        value = algorithms.has_cycle(graph)
        return TaskItem("Is there a cycle in this graph?",
                        "Yes, there is a cycle." if value else "No, there is no cycle.", value, [])

    def parse(self, answer, names):
        return yes_no(answer)
