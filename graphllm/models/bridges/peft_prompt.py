"""peft's prompt-learning methods for the text-only baselines: prompt tuning, prefix tuning, P-tuning.

peft parameterises the prompts (an embedding table; P-tuning's MLP/LSTM prompt encoder; prefix tuning's
per-layer key/values) and `get_prompt` returns them. Their output does not depend on the input, so this
bridge ignores the graph; it feeds peft's prompts through the same path as our graph bridges, so decoding
runs through our engine (`PeftModel.generate` cannot start from input embeddings with these adapters).
"""

from __future__ import annotations

import torch
from torch import nn

from graphllm.models.bridges.base import BridgeOutput

METHODS = ("prompt-tuning", "prefix-tuning", "p-tuning")


def peft_prompt_config(method: str, virtual_tokens: int, encoder: str = "MLP", hidden: int = 128):
    from peft import PrefixTuningConfig, PromptEncoderConfig, PromptTuningConfig

    if method == "prompt-tuning":
        return PromptTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=virtual_tokens)
    if method == "prefix-tuning":
        return PrefixTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=virtual_tokens)
    if method == "p-tuning":
        return PromptEncoderConfig(task_type="CAUSAL_LM", num_virtual_tokens=virtual_tokens,
                                   encoder_reparameterization_type=encoder, encoder_hidden_size=hidden)
    raise ValueError(f"unknown prompt-learning method {method!r}; choose from {', '.join(METHODS)}")


class PeftPromptBridge(nn.Module):
    def __init__(self, peft_model, method: str) -> None:
        super().__init__()
        self.method = method
        self.prompt_encoder = peft_model.prompt_encoder  # the trainable part, registered once, here
        object.__setattr__(self, "_peft", peft_model)  # not a submodule: it also holds the whole LLM

    def forward(self, graph=None, batch_size: int = 1) -> BridgeOutput:
        prompt = self._peft.get_prompt(batch_size=batch_size)
        device = next(self.prompt_encoder.parameters()).device
        if self.method == "prefix-tuning":
            layers = [(layer.keys, layer.values) for layer in prompt.layers]
            mask = torch.ones(batch_size, layers[0][0].shape[2], dtype=torch.bool, device=device)
            return BridgeOutput(prefix=layers, prefix_mask=mask)
        mask = torch.ones(prompt.shape[:2], dtype=torch.bool, device=device)
        return BridgeOutput(embeds=prompt, embeds_mask=mask)
