"""The decoding engine's in-place KV cache and its grouped-head SDPA give the same numbers as transformers' own."""

from __future__ import annotations

import torch
from transformers import DynamicCache
from transformers.cache_utils import DynamicLayer
from transformers.integrations.sdpa_attention import sdpa_attention_forward

from graphllm.inference.attention import NAME, grouped_sdpa, sdpa_grouped
from graphllm.inference.cache import GrowableLayer, growable_cache
from graphllm.inference.drafts.feature import FeatureDraftModel
from graphllm.models.llm import tiny_llm


def _kv(length: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(2, 3, length, 4, generator=g), torch.randn(2, 3, length, 4, generator=g)


def test_growable_layer_matches_dynamic_layer_and_writes_in_place():
    ours, theirs = GrowableLayer(), DynamicLayer()
    for step, length in enumerate([5, 1, 3, 1]):
        k, v = _kv(length, step)
        got, want = ours.update(k, v), theirs.update(k, v)
        assert torch.equal(got[0], want[0]) and torch.equal(got[1], want[1])
    buffer = ours.keys.data_ptr()
    ours.keys, ours.values = ours.keys[:, :, :7], ours.values[:, :, :7]  # a rejected tree cut off
    theirs.keys, theirs.values = theirs.keys[:, :, :7], theirs.values[:, :, :7]
    k, v = _kv(2, 9)
    got, want = ours.update(k, v), theirs.update(k, v)
    assert torch.equal(got[0], want[0]) and torch.equal(got[1], want[1])
    assert ours.keys.data_ptr() == buffer  # the cut slots were overwritten, nothing was copied


def test_growable_layer_regrows_and_rebuffers_replaced_tensors():
    layer = GrowableLayer()
    k, v = _kv(4, 0)
    layer.update(k, v)
    capacity = layer._key_buffer.shape[-2]
    big_k, big_v = _kv(capacity, 1)  # more than the buffer has room for
    keys, values = layer.update(big_k, big_v)
    assert torch.equal(keys, torch.cat([k, big_k], dim=2)) and torch.equal(values, torch.cat([v, big_v], dim=2))
    layer.keys, layer.values = layer.keys[[1, 0]], layer.values[[1, 0]]  # rows reordered: a new tensor
    small_k, small_v = _kv(1, 2)
    keys, values = layer.update(small_k, small_v)
    expected = torch.cat([torch.cat([k, big_k], dim=2)[[1, 0]], small_k], dim=2)
    assert torch.equal(keys, expected)
    assert keys.data_ptr() == layer._key_buffer.data_ptr()


def test_growable_cache_keeps_a_graph_prefix():
    prefix = DynamicCache()
    layers = [_kv(3, i) for i in range(2)]
    for i, (k, v) in enumerate(layers):
        prefix.update(k, v, i)
    cache = growable_cache(prefix)
    assert all(isinstance(layer, GrowableLayer) for layer in cache.layers)
    for i, (k, v) in enumerate(layers):
        assert torch.equal(cache.layers[i].keys, k) and torch.equal(cache.layers[i].values, v)
    assert cache.get_seq_length() == 3


class _Grouped(torch.nn.Module):
    num_key_value_groups = 3
    is_causal = True


def test_sdpa_grouped_equals_transformers_sdpa_on_masked_blocks():
    g = torch.Generator().manual_seed(0)
    query = torch.randn(2, 6, 4, 8, generator=g)
    key, value = torch.randn(2, 2, 10, 8, generator=g), torch.randn(2, 2, 10, 8, generator=g)
    allowed = torch.rand(2, 1, 4, 10, generator=g) > 0.3
    allowed[..., 0] = True
    mask = torch.zeros(allowed.shape).masked_fill(~allowed, torch.finfo(torch.float32).min)
    with torch.no_grad():
        ours, _ = sdpa_grouped(_Grouped(), query, key, value, mask, scaling=0.3)
        theirs, _ = sdpa_attention_forward(_Grouped(), query, key, value, mask, scaling=0.3)
    assert ours.shape == theirs.shape == (2, 4, 6, 8)
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-6)


def test_grouped_sdpa_switches_the_model_only_inside_the_block():
    llm = tiny_llm("llama", vocab_size=64, layers=2)
    ids = torch.randint(0, 64, (2, 7))
    mask = torch.ones(2, 7, dtype=torch.long)
    mask[0, :2] = 0  # left padding: a masked multi-token pass, where the grouped path runs
    with torch.no_grad():
        before = llm(input_ids=ids, attention_mask=mask).logits
        with grouped_sdpa(llm):
            assert llm.config._attn_implementation == NAME
            inside = llm(input_ids=ids, attention_mask=mask).logits
    assert llm.config._attn_implementation == "sdpa"
    torch.testing.assert_close(inside, before, rtol=1e-5, atol=1e-5)


def test_grouped_sdpa_reaches_the_transformers_model_inside_a_draft_and_leaves_others_alone():
    target = tiny_llm("llama", vocab_size=64, layers=2)
    draft = FeatureDraftModel(target, torch.arange(10))
    eager = tiny_llm("llama", vocab_size=64, layers=1)
    eager.set_attn_implementation("eager")
    with grouped_sdpa(target, draft, None, eager):
        assert draft.body.config._attn_implementation == NAME == target.config._attn_implementation
        assert eager.config._attn_implementation == "eager"
        with grouped_sdpa(draft):  # an inner block over a switched model changes nothing, nor gives it back
            pass
        assert draft.body.config._attn_implementation == NAME
    assert draft.body.config._attn_implementation == "sdpa" == target.config._attn_implementation


def test_a_zero_filled_layer_is_written_in_place_and_grows_like_any_other():
    like = torch.ones(1, 3, 5, 4)
    layer = GrowableLayer.of_zeros(like, like, rows=2, slots=6)
    assert layer.keys.shape == (2, 3, 6, 4) and not layer.keys.any()
    layer.keys[1, :, 2] = 7.0  # a view of the buffer: the write lands there
    buffer = layer.keys.data_ptr()
    keys, _ = layer.update(torch.full((2, 3, 1, 4), 2.0), torch.full((2, 3, 1, 4), 2.0))
    assert keys.shape == (2, 3, 7, 4) and keys.data_ptr() == buffer  # appended into the room left, not copied
    assert bool((keys[1, :, 2] == 7).all()) and bool((keys[:, :, 6] == 2).all())


def test_sdpa_grouped_reads_each_key_value_head_once_with_per_head_and_broadcast_masks():
    """Stacking a group's query heads must pair each head with its own mask and its own key/value head."""
    g = torch.Generator().manual_seed(1)
    query = torch.randn(1, 6, 3, 8, generator=g).transpose(1, 2).contiguous().transpose(1, 2)  # as models give it
    key, value = torch.randn(1, 2, 5, 8, generator=g), torch.randn(1, 2, 5, 8, generator=g)
    allowed = torch.rand(2, 6, 3, 5, generator=g) > 0.4
    allowed[..., 0] = True
    for mask in (allowed, allowed[:1, :1], allowed[:, :1, :1]):  # per head; one for all; one row for all queries
        rows = max(mask.shape[0], query.shape[0])
        q, k, v = (t.expand(rows, *t.shape[1:]) for t in (query, key, value))
        with torch.no_grad():
            ours, _ = sdpa_grouped(_Grouped(), q, k, v, mask)
        expected = torch.nn.functional.scaled_dot_product_attention(
            q, k.repeat_interleave(3, 1), v.repeat_interleave(3, 1), attn_mask=mask).transpose(1, 2)
        torch.testing.assert_close(ours, expected, rtol=1e-5, atol=1e-6)
