"""GraphQA ("Talk like a Graph", Fatemi et al. 2023) regenerated in our own code.

    from graphllm.data.graphqa import GraphQAConfig, generate, to_data
    examples = generate(GraphQAConfig(examples=1200, tasks=["cycle_check", "edge_count"]))
    data = to_data(examples[0])   # a torch_geometric.data.Data
"""

from graphllm.data.graphqa.dataset import (
    Example,
    GraphQAConfig,
    format_statistics,
    generate,
    load,
    save,
    statistics,
    to_data,
)
from graphllm.data.graphqa.encoders import ENCODERS, encode_graph
from graphllm.data.graphqa.graphs import GENERATORS, Graph
from graphllm.data.graphqa.tasks import TASKS

__all__ = ["ENCODERS", "GENERATORS", "TASKS", "Example", "Graph", "GraphQAConfig", "encode_graph",
           "format_statistics", "generate", "load", "save", "statistics", "to_data"]
