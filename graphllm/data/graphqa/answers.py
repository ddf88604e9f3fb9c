"""An answer as a value: what the model wrote parsed back by its task, and the reference it is compared to.

Comparing values, not strings, is what makes accuracy exact: "3 nodes." and "3" are the same answer.
"""

from __future__ import annotations

import json

from graphllm.data.graphqa.encoders import node_names
from graphllm.data.graphqa.tasks import TASKS


def parse_value(data, text: str):
    task = TASKS.get(data.task)
    if task is None:  # not a GraphQA task (e.g. Karate club): compare the stripped text
        return text.strip().rstrip(".").lower()
    return task.parse(text, node_names(data.encoder, data.num_nodes))


def reference_value(data):
    if data.task in TASKS:
        return json.loads(data.value)
    return data.answer.strip().rstrip(".").lower()
