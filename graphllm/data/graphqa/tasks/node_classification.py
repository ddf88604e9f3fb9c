"""GraphQA task `node_classification`: the class of a node of a two-block SBM graph, half the others' classes given."""

from __future__ import annotations

from graphllm.data.graphqa.tasks.base import CLASSES, Task, TaskItem, register_task


@register_task
class NodeClassification(Task):
    """Two-block SBM graphs; the block is the class. Half the nodes' classes are given, one other node is
    asked about."""

    name = "node_classification"
    position = 12
    needs = "sbm2"

    def make(self, graph, names, rng):
        classes = rng.sample(CLASSES, 2)
        chosen = rng.sample(range(graph.n), graph.n // 2 + 1)
        known, query = sorted(chosen[:-1]), chosen[-1]
        extra = "".join(f"Node {names[v]} likes {classes[graph.blocks[v]]}.\n" for v in known)
        label = classes[graph.blocks[query]]
        return TaskItem(f"Does node {names[query]} like {classes[0]} or {classes[1]}?", label, label, [query],
                        extra, known_labels={v: graph.blocks[v] for v in known}, classes=classes)

    def parse(self, answer, names):
        word = answer.strip().rstrip(".").lower()
        return word if word in CLASSES else None
