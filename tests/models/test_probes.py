"""Linear probes of the counts: exact where the features hold the count linearly, not where they do not."""

from __future__ import annotations

import torch

from graphllm.data.collate import GraphCollator
from graphllm.data.graphqa import GraphQAConfig, generate, to_data
from graphllm.models.build import build_model, load_recipe
from graphllm.models.llm import tiny_llm
from graphllm.probes import COUNTING_TASKS, probe, probe_counts, rows_text


def test_a_count_held_linearly_is_read_exactly_and_noise_is_not():
    generator = torch.Generator().manual_seed(0)
    counts = torch.randint(5, 20, (600,), generator=generator).float()
    mixing = torch.randn(1, 16, generator=generator)
    held = counts[:, None] @ mixing + 0.01 * torch.randn(600, 16, generator=generator)
    exact, within, _ = probe(held[:500], counts[:500], held[500:], counts[500:])
    assert exact == 1.0 and within == 1.0
    noise = torch.randn(600, 16, generator=generator)
    exact, within, _ = probe(noise[:500], counts[:500], noise[500:], counts[500:])
    assert exact < 0.3 and within < 0.5


def test_probe_counts_reads_both_representations_of_a_recipe(tokenizer):
    rows = generate(GraphQAConfig(examples=240, tasks=list(COUNTING_TASKS), seed=5), workers=1)
    data = [to_data(r) for r in rows]
    torch.manual_seed(0)
    model = build_model(load_recipe("graph-prefix-lora-counting"), tiny_llm("llama", layers=2))
    found = probe_counts(model, GraphCollator(tokenizer, "generate"), data[:180], data[180:])
    assert {(r.task, r.representation) for r in found} == {(t, w) for t in COUNTING_TASKS
                                                             for w in ("graph tokens", "bridge output")}
    assert all(0 <= r.within_one <= 1 and r.exact <= r.within_one and r.test > 0 for r in found)
    assert "node_count    graph tokens" in rows_text(found, "probes")
