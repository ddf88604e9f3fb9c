"""GraphQA task `maximum_flow`: the value of a maximum flow between two named nodes, with the edges'
capacities given in the text."""

from __future__ import annotations

from graphllm.data.graphqa import algorithms
from graphllm.data.graphqa.tasks.base import Task, TaskItem, number, register_task


@register_task
class MaximumFlow(Task):
    """Capacities are drawn from 1..10 per edge and, unlike the reference, written into the text: without
    them the question has no answer a reader could derive."""

    name = "maximum_flow"
    position = 11

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
        return number(answer)
