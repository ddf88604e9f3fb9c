"""GraphQA task `connected_nodes`: the neighbours of a named node, listed in order."""

from __future__ import annotations

from graphllm.data.graphqa.tasks.base import Task, TaskItem, node_list, ordered, register_task


@register_task
class ConnectedNodes(Task):
    name = "connected_nodes"
    position = 5

    def make(self, graph, names, rng):
        v = rng.randrange(graph.n)
        nodes = ordered(graph.adjacency[v], names)
        answer = ", ".join(names[u] for u in nodes) + "." if nodes else "No nodes."
        return TaskItem(f"List all the nodes connected to {names[v]} in alphabetical order.", answer, nodes, [v])

    def parse(self, answer, names):
        return node_list(answer, names)
