"""GraphQA task `disconnected_nodes`: the nodes not adjacent to a named node (itself excluded), listed in order."""

from __future__ import annotations

from graphllm.data.graphqa.tasks.base import Task, TaskItem, node_list, ordered, register_task


@register_task
class DisconnectedNodes(Task):
    name = "disconnected_nodes"
    position = 6

    def make(self, graph, names, rng):
        v = rng.randrange(graph.n)
        nodes = ordered(set(range(graph.n)) - graph.adjacency[v] - {v}, names)
        answer = ", ".join(names[u] for u in nodes) + "." if nodes else "No nodes."
        return TaskItem(f"List all the nodes that are not connected to {names[v]} in alphabetical order.", answer,
                        nodes, [v])

    def parse(self, answer, names):
        return node_list(answer, names)
