"""Evaluation: greedy answers, parsed back to values and compared exactly, per task, beside the majority
baseline (always giving the answer most common in the training split)."""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict

import torch

from graphllm.data.graphqa.answers import parse_value, reference_value
from graphllm.inference.config import GenerationConfig, end_of_turn_ids
from graphllm.inference.generate import generate


def majority_baseline(train_examples, test_examples) -> dict[str, float]:
    """Accuracy on the test examples of always answering the training split's most common answer per task."""
    common = {}
    by_task = defaultdict(list)
    for data in train_examples:
        by_task[data.task].append(json.dumps(reference_value(data)))
    for task, answers in by_task.items():
        common[task] = Counter(answers).most_common(1)[0][0]
    scores = defaultdict(list)
    for data in test_examples:
        scores[data.task].append(json.dumps(reference_value(data)) == common.get(data.task))
    return {task: sum(s) / len(s) for task, s in scores.items()}


@torch.no_grad()
def evaluate(model, examples: list, collator, tokenizer, batch_size: int = 16, max_new_tokens: int | None = None,
             progress: bool = False, self_revise: int = 0) -> dict:
    """{"accuracy": {task: acc}, "n": {task: count}, "examples_per_second": ..., "samples": [...]}.

    With `self_revise` > 0 every answer goes through at most that many SelFee feedback-and-revision rounds
    (graphllm.inference.selfee): "accuracy" is then after revision and "self_revision" holds per-task statistics.
    """
    if self_revise < 0:
        raise ValueError(f"self_revise is a number of revision rounds (0: none), not {self_revise}")
    model.eval()
    stop_ids = end_of_turn_ids(tokenizer)
    device = next(model.parameters()).device
    correct, total, samples = defaultdict(int), defaultdict(int), []
    start = time.perf_counter()
    # Batches of similar prompt length waste little on padding; the scores do not depend on the order.
    lengths = [len(collator.texts(d)[0]) for d in examples]
    examples = [examples[i] for i in sorted(range(len(examples)), key=lambda i: lengths[i])]
    if max_new_tokens is None:  # room for the longest reference answer, and a little more
        max_new_tokens = max(len(tokenizer(d.answer)["input_ids"]) for d in examples) + 4
    if self_revise:
        from graphllm.inference.selfee import evaluate_with_revision

        return evaluate_with_revision(model, examples, collator, tokenizer, self_revise, max_new_tokens, stop_ids,
                                      batch_size, progress)
    chunks = range(0, len(examples), batch_size)
    if progress:
        from tqdm import tqdm

        chunks = tqdm(chunks, unit="batch", desc="evaluating", leave=False)
    for index in chunks:
        chunk = examples[index:index + batch_size]
        tokens = generate(model, collator(chunk).to(device), GenerationConfig(max_new_tokens, stop_ids=stop_ids))
        for data, row in zip(chunk, tokens, strict=True):
            text = tokenizer.decode(row, skip_special_tokens=True).strip()
            ok = parse_value(data, text) == reference_value(data)
            correct[data.task] += ok
            total[data.task] += 1
            if len(samples) < 20:
                samples.append({"task": data.task, "question": data.question, "answer": data.answer, "output": text,
                                "correct": bool(ok)})
    seconds = time.perf_counter() - start
    return {"accuracy": {t: correct[t] / total[t] for t in sorted(total)}, "n": dict(sorted(total.items())),
            "examples_per_second": len(examples) / seconds if seconds else 0.0, "samples": samples}
