"""SDPA attention for decoding blocks of tokens without copying the grouped key/value heads.

With grouped-query attention (SmolLM2: 9 query heads, 3 key/value heads) and an explicit mask, transformers'
SDPA path repeats every cached key and value once per group before calling the kernel (`repeat_kv`) -- a full
copy of the cache per layer and pass. A token tree always comes with a mask, so with a long prompt that copy
is a large part of what a verification pass costs beyond a one-token step.
Instead, the g query heads that share a key/value head are stacked along the query axis, each with its copy of
the mask: query [B, H, q, D] -> [B, H_kv, g*q, D], one SDPA per key/value head (transformers does this for
one-token steps, `pack_gqa`), so that each key/value head meets all its queries in one kernel call; this also
beat torch's own broadcast (`enable_gqa=True`) where it was timed (the benchmark notes of the docs). Each query
row's arithmetic is unchanged (the outputs match bit for bit). This function stacks whenever there is
something to save and is transformers' own SDPA function everywhere else (training included: with gradients it
always defers, so nothing changes for the backward pass).
"""

from __future__ import annotations

from contextlib import ExitStack, contextmanager

import torch
import torch.nn.functional as F
from transformers import AttentionInterface
from transformers.integrations.sdpa_attention import sdpa_attention_forward
from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

NAME = "graphllm_sdpa"


def sdpa_grouped(module: torch.nn.Module, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                 attention_mask: torch.Tensor | None, dropout: float = 0.0, scaling: float | None = None,
                 is_causal: bool | None = None, **kwargs) -> tuple[torch.Tensor, None]:
    """query [B, H, q, D], key/value [B, H_kv, k, D] (H a multiple of H_kv), attention_mask [B, 1 or H, q, k] or
    None -> ([B, q, H, D], None), the signature of every transformers attention function."""
    plain = (torch.is_grad_enabled() or attention_mask is None or query.shape[2] == 1
             or query.shape[1] == key.shape[1] or kwargs.get("position_bias") is not None
             or kwargs.get("softcap") is not None)
    if plain:
        return sdpa_attention_forward(module, query, key, value, attention_mask, dropout=dropout, scaling=scaling,
                                      is_causal=is_causal, **kwargs)
    batch, heads, length, dim = query.shape
    kv_heads, keys = key.shape[1], key.shape[2]
    groups = heads // kv_heads
    stacked = query.reshape(batch, kv_heads, groups * length, dim)
    mask = attention_mask.expand(attention_mask.shape[0], attention_mask.shape[1], length, keys)
    if mask.shape[1] == 1:  # one mask for every head: a copy per stacked group
        mask = mask[:, :, None].expand(-1, -1, groups, -1, -1)
    else:  # one mask per query head: a group's heads are consecutive, as in `repeat_kv`
        mask = mask.reshape(mask.shape[0], kv_heads, groups, length, keys)
    mask = mask.reshape(mask.shape[0], mask.shape[1], groups * length, keys)
    out = F.scaled_dot_product_attention(stacked, key, value, attn_mask=mask, dropout_p=dropout, scale=scaling)
    return out.view(batch, heads, length, dim).transpose(1, 2).contiguous(), None


def additive_mask(seen: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """A boolean "may attend" mask -> the additive mask transformers takes (0 where seen, the dtype's minimum
    elsewhere), same shape and device."""
    return torch.zeros(seen.shape, dtype=dtype, device=seen.device).masked_fill(~seen, torch.finfo(dtype).min)


AttentionInterface.register(NAME, sdpa_grouped)
AttentionMaskInterface.register(NAME, sdpa_mask)


def _transformers_models(module: torch.nn.Module) -> list[torch.nn.Module]:
    """The outermost transformers models in `module` (itself, a peft model's base, or those among its children): a
    draft is a plain module around one (the feature draft's decoder layer, a small model with its own bridge)."""
    if hasattr(module, "get_base_model"):
        return [module.get_base_model()]
    if hasattr(module, "set_attn_implementation"):
        return [module]
    return [found for child in module.children() for found in _transformers_models(child)]


@contextmanager
def _switched(model):
    before = getattr(getattr(model, "config", None), "_attn_implementation", None)
    if before != "sdpa" or not getattr(model, "_can_set_attn_implementation", lambda: False)():
        yield
        return
    model.set_attn_implementation(NAME)
    try:
        yield
    finally:
        model.set_attn_implementation(before)


@contextmanager
def grouped_sdpa(*modules: torch.nn.Module | None):
    """Run the transformers models in `modules` that use SDPA with `sdpa_grouped` inside the block, and give each
    its own implementation back afterwards (models on other implementations, that cannot switch, or that an
    outer block switched are left alone). Drafts too: the feature draft's tree steps gain as the target's
    passes do."""
    with ExitStack() as stack:
        for module in modules:
            if module is not None:
                for model in _transformers_models(module):
                    stack.enter_context(_switched(model))
        yield
