"""The composed model: GNN encoder -> bridge -> causal LM.

Soft tokens go before the text embeddings; a prefix goes in as the KV cache the text attends to, with the
attention mask extended by the prefix length and the text's position ids shifted past it (DESIGN.md:
peft's prefixes cannot depend on the input, so the cache is built here). Without an encoder and bridge
this is the plain LLM, which is how the text-only baselines run.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import torch
from torch import nn
from transformers import DynamicCache

from graphllm.data.collate import IGNORE, GraphBatch
from graphllm.models.bridges import BridgeOutput
from graphllm.models.gnn import GNNEncoder
from graphllm.models.llm import cache_argument


@dataclass
class LLMInputs:
    inputs_embeds: torch.Tensor
    attention_mask: torch.Tensor
    position_ids: torch.Tensor
    cache: DynamicCache | None
    labels: torch.Tensor | None


class GraphLLM(nn.Module):
    def __init__(self, llm, encoder: GNNEncoder | None = None, bridge: nn.Module | None = None,
                 freeze_llm: bool = True) -> None:
        super().__init__()
        self.llm, self.encoder, self.bridge = llm, encoder, bridge
        if freeze_llm:
            for p in self.llm.parameters():
                p.requires_grad_(False)
        base = llm.get_base_model() if hasattr(llm, "get_base_model") else llm  # under a peft wrapper
        self._cache_arg = cache_argument(base)
        params = inspect.signature(base.forward).parameters
        self._takes_positions = "position_ids" in params
        self.takes_logits_to_keep = "logits_to_keep" in params

    def trainable_parameters(self) -> dict[str, torch.Tensor]:
        return {name: p for name, p in self.named_parameters() if p.requires_grad}

    def train(self, mode: bool = True):
        super().train(mode)
        self.llm.train(mode and any(p.requires_grad for p in self.llm.parameters()))
        return self

    def bridge_output(self, batch: GraphBatch) -> BridgeOutput:
        if self.bridge is None:
            return BridgeOutput()
        if self.encoder is None:  # a prompt that does not depend on the graph (peft's prompt learning)
            return self.bridge(batch_size=batch.input_ids.shape[0])
        return self.bridge(self.encoder(batch.graph, batch.node_index))

    def prepare(self, batch: GraphBatch) -> LLMInputs:
        embeds = self.llm.get_input_embeddings()(batch.input_ids)
        mask = batch.attention_mask.bool()
        labels = batch.labels
        out = self.bridge_output(batch)
        if out.embeds is not None:
            embeds = torch.cat([out.embeds.to(embeds.dtype), embeds], dim=1)
            mask = torch.cat([out.embeds_mask, mask], dim=1)
            if labels is not None:
                pad = torch.full(out.embeds_mask.shape, IGNORE, dtype=labels.dtype, device=labels.device)
                labels = torch.cat([pad, labels], dim=1)
        position_ids = (mask.long().cumsum(-1) - 1).clamp(min=0)
        cache = None
        if out.prefix is not None:
            cache = DynamicCache()
            for layer, (key, value) in enumerate(out.prefix):
                cache.update(key.to(embeds.dtype), value.to(embeds.dtype), layer)
            prefix_len = out.prefix_mask.shape[1]
            mask = torch.cat([out.prefix_mask, mask], dim=1)
            position_ids = position_ids + prefix_len
        return LLMInputs(embeds, mask.long(), position_ids, cache, labels)

    def _call(self, inputs_embeds=None, input_ids=None, attention_mask=None, position_ids=None, cache=None,
              labels=None, **extra):
        kwargs = {"attention_mask": attention_mask, "labels": labels, "use_cache": cache is not None or labels is None,
                  **extra}
        if inputs_embeds is not None:
            kwargs["inputs_embeds"] = inputs_embeds
        else:
            kwargs["input_ids"] = input_ids
        if self._takes_positions:
            kwargs["position_ids"] = position_ids
        if cache is not None:
            kwargs[self._cache_arg] = cache
        return self.llm(**kwargs)

    def forward(self, batch: GraphBatch):
        x = self.prepare(batch)
        return self._call(x.inputs_embeds, None, x.attention_mask, x.position_ids, x.cache, x.labels)
