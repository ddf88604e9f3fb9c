"""Requests with long answers about GraphQA graphs (given as text): what generation time is spent on, so what
`graphllm bench decode` measures and what the feature draft is trained on.

`BENCH_REQUESTS` are the benchmark's three kinds (copying node lists, step-by-step explanations, SelFee-style
feedback); `TRAINING_REQUESTS` adds five more of the same kinds, and the training graphs come from another seed.
"""

from __future__ import annotations

from graphllm.data.graphqa.dataset import GraphQAConfig, generate, to_data

BENCH_REQUESTS = (
    "For every node of G, write one line 'node X: ' followed by all the nodes connected to it.",
    "Explain step by step how to check whether G contains a cycle, naming the edges you follow.",
    "A student answered that G has no cycle. Give detailed feedback on this answer, quoting the edges of G that "
    "matter, and end with 'Revision is needed' or 'Revision is not needed'.",
)
TRAINING_REQUESTS = BENCH_REQUESTS + (
    "List every edge of G as a pair 'u - v', one per line.",
    "Describe the structure of G in detail: its nodes, their degrees and how they are connected.",
    "For each node of G, say how many neighbours it has and name them.",
    "Explain step by step how to find the number of connected components of G.",
    "A student claimed that node 0 and node 3 are connected by an edge. Give detailed feedback on this claim, "
    "then say 'Revision is needed' or 'Revision is not needed'.",
)


def long_answer_prompts(count: int, seed: int = 0, requests: tuple[str, ...] = BENCH_REQUESTS,
                        tasks: tuple[str, ...] = ("cycle_check",), encoders: tuple[str, ...] = ("adjacency",)) -> list:
    """`count` GraphQA graphs (PyG `Data` with the graph text), each with one of the requests in turn."""
    rows = generate(GraphQAConfig(examples=count, tasks=list(tasks), encoders=list(encoders), seed=seed), workers=1)
    data = [to_data(r) for r in rows][:count]
    for i, d in enumerate(data):
        d.question = requests[i % len(requests)]
    return data
