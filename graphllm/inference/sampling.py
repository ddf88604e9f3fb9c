"""From logits to the distribution decoding samples from (temperature, nucleus) and to tokens."""

from __future__ import annotations

import torch

from graphllm.inference.config import GenerationConfig


def probabilities(logits: torch.Tensor, config: GenerationConfig) -> torch.Tensor:
    """[..., V] logits -> [..., V] float32 probabilities after temperature and top-p (the most likely token always
    stays in the nucleus). Greedy decoding has no distribution; callers use argmax instead."""
    probs = torch.softmax(logits.float() / config.temperature, dim=-1)
    if config.top_p < 1:
        sorted_probs, order = probs.sort(dim=-1, descending=True)
        before = sorted_probs.cumsum(-1) - sorted_probs  # mass of the tokens ranked above each one
        sorted_probs = sorted_probs.masked_fill(before >= config.top_p, 0.0)
        probs = torch.zeros_like(probs).scatter(-1, order, sorted_probs)
        probs = probs / probs.sum(-1, keepdim=True)
    return probs


def next_tokens(logits: torch.Tensor, config: GenerationConfig, generator: torch.Generator | None) -> torch.Tensor:
    """[B, V] -> [B]: argmax when greedy, else a sample of `probabilities`."""
    if config.greedy:
        return logits.argmax(-1)
    return torch.multinomial(probabilities(logits, config), 1, generator=generator).squeeze(-1)
