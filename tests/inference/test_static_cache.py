"""Decoding on a static cache (the shapes a GPU captures as CUDA graphs) gives plain decoding's tokens, on the CPU
where it runs eagerly: padded blocks, padding rows behind finished ones, holes, a draft that writes to the first
layers only, growing past the room foreseen, and buffers reused by the next decoding."""

from __future__ import annotations

import dataclasses
import gc
import weakref

import pytest
import torch
from test_inference import _batch, _model

from graphllm.inference import static
from graphllm.inference.config import GenerationConfig, TreeShape
from graphllm.inference.drafts import make_draft
from graphllm.inference.generate import generate
from graphllm.inference.speculative import SpeculationStats, speculative_generate
from graphllm.inference.state import DecodeState
from graphllm.inference.static import StaticDecodeState, block_width


def _static(config: GenerationConfig) -> GenerationConfig:
    return dataclasses.replace(config, static_cache=True)


@pytest.mark.parametrize("arch", ["llama", "qwen2"])
@pytest.mark.parametrize("recipe", ["zero-shot", "graph-token", "graph-prefix"])
def test_static_decoding_is_plain_decoding(arch, recipe, tokenizer, questions):
    model = _model(arch, recipe)
    batch = _batch(tokenizer, recipe, questions[:6])  # rows stop at different steps: padding rows behind them
    free = generate(model, batch, GenerationConfig(max_new_tokens=30))
    config = GenerationConfig(max_new_tokens=30, stop_ids=[free[1][5], free[4][12]])  # tokens that end some rows
    plain = generate(model, batch, config)
    assert len({len(tokens) for tokens in plain}) > 1
    assert generate(model, batch, _static(config)) == plain
    stats = SpeculationStats()
    for draft, shape in (("ngram", "1,1,3,1,1"), ("early-exit:1", "2,2,1:whole"), ("ngram+early-exit:1", "1,2,1")):
        fast = speculative_generate(model, batch, make_draft(draft), _static(config), TreeShape.parse(shape),
                                    stats=stats)
        assert fast == plain, (draft, shape)
    assert 11 in stats.verified  # 2,2,1 whole: 11 nodes, padded to a block of 16


def test_sampling_on_a_static_cache_is_sampling_on_a_growing_one(tokenizer, questions):
    model = _model("llama", "graph-prefix")
    batch = _batch(tokenizer, "graph-prefix", questions[:4])
    sampled = GenerationConfig(max_new_tokens=20, temperature=0.8, top_p=0.9, seed=3)
    assert generate(model, batch, _static(sampled)) == generate(model, batch, sampled)
    draft = make_draft("early-exit:1")
    assert (speculative_generate(model, batch, draft, _static(sampled), TreeShape.parse("2,1"))
            == speculative_generate(model, batch, draft, sampled, TreeShape.parse("2,1")))


def test_blocks_are_padded_to_few_widths_and_the_cache_grows_when_it_must(tokenizer, questions):
    assert [block_width(n) for n in (1, 2, 3, 5, 8, 9, 33, 70)] == [1, 2, 4, 8, 8, 16, 64, 70]
    model = _model("llama", "graph-prefix")
    batch = _batch(tokenizer, "graph-prefix", questions[:3])
    with torch.no_grad():
        growing, logits = DecodeState.prefill(model, batch)
        state, _ = StaticDecodeState.prefill(model, batch, room=1)
        capacity = state.capacity
        for _ in range(capacity - state.length + 2):  # past the end of the buffers
            tokens = logits.argmax(-1)
            logits, ours = growing.step(tokens), state.step(tokens)
    assert state.capacity > capacity and state.written == state.length == growing.length
    assert torch.allclose(ours, logits, atol=1e-5) and torch.equal(ours.argmax(-1), logits.argmax(-1))


def test_the_next_decoding_reuses_the_buffers(tokenizer, questions):
    model = _model("llama", "zero-shot")
    batch = _batch(tokenizer, "zero-shot", questions[:2])
    config = _static(GenerationConfig(max_new_tokens=8))
    generate(model, batch, config)
    kept = list(static._POOL[model].values())
    assert len(kept) == 1 and not kept[0].in_use  # released when decoding ended
    generate(model, batch, config)
    assert list(static._POOL[model].values()) == kept
    gone = weakref.ref(model)
    del model
    gc.collect()
    assert gone() is None  # the kept buffers do not keep their model alive
