"""Zachary's karate club (built into PyG) as a node-level question per member: which community?"""

from __future__ import annotations

QUESTION = "Which community does member {node} of the karate club belong to? Answer with its number (0 to 3)."


def karate_examples():
    """One `Data` per member, sharing the graph: `nodes` is the member asked about, `split` is 'train' for the
    four labelled members of PyG's split and 'test' for the rest."""
    import torch
    from torch_geometric.datasets import KarateClub

    base = KarateClub()[0]
    out = []
    for node in range(base.num_nodes):
        data = base.clone()
        data.nodes = torch.tensor([node])
        data.question = QUESTION.format(node=node)
        label = int(base.y[node])
        data.answer, data.value = f"{label}.", label
        data.task, data.split = "karate_community", "train" if bool(base.train_mask[node]) else "test"
        out.append(data)
    return out
