"""The composed model: GNN encoder -> bridge -> causal LM.

Graph soft tokens go where the question's turn starts (peft's graph-independent prompts first); a prefix
goes in as the KV cache the text attends to, with the attention mask extended by the prefix length and the
text's position ids shifted past it (peft's prefixes cannot depend on the input, so the cache is built here;
see "From a graph to an answer" in docs/architecture.md). Without an encoder and bridge this is the plain LLM,
which is how the text-only baselines run.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F
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
        self.tokenizer = None  # the LLM's, where the model was built with it (`build_model`)
        if freeze_llm:
            for p in self.llm.parameters():
                p.requires_grad_(False)
        base = llm.get_base_model() if hasattr(llm, "get_base_model") else llm  # under a peft wrapper
        self._cache_arg = cache_argument(base)
        params = inspect.signature(base.forward).parameters
        self._takes_positions = "position_ids" in params
        self.takes_logits_to_keep = "logits_to_keep" in params

    @property
    def device(self) -> torch.device:
        return self.llm.get_input_embeddings().weight.device

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
            # Graph tokens go where the question's turn starts; a graph-independent prompt (peft's prompt
            # learning) goes first, as peft puts it.
            at = batch.graph_position if self.encoder is not None else torch.zeros_like(batch.graph_position)
            embeds, mask, labels = _insert(embeds, mask, labels, out.embeds.to(embeds.dtype), out.embeds_mask, at)
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

    def run_llm(self, inputs_embeds=None, input_ids=None, attention_mask=None, position_ids=None, cache=None,
                use_cache: bool = True, **extra):
        """One pass of the LLM on embeddings or token ids, whatever the model family calls its arguments.

        Arguments: `inputs_embeds` ``[B, T, H]`` or `input_ids` ``[B, T]``; `attention_mask` ``[B, P + T]`` (or a
        4-D mask for token trees); `position_ids` ``[B, T]``, already shifted past a prefix; `cache` the KV cache
        (a graph prefix or the decoding cache). Families that take no position ids (GPT-2, OPT, Bloom) or name
        their cache otherwise get what they expect; `extra` goes through unchanged. Returns the model's output.
        """
        kwargs = {"attention_mask": attention_mask, "use_cache": use_cache or cache is not None, **extra}
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
        """The LM's output; with labels (training batches), `.loss` is the mean cross-entropy of the answer tokens.

        Only the positions that predict an answer token go through the vocabulary projection: with a 49k
        vocabulary, projecting every prompt position costs about a fifth of a training step for nothing.
        """
        x = self.prepare(batch)
        if x.labels is None:
            return self.run_llm(x.inputs_embeds, None, x.attention_mask, x.position_ids, x.cache, use_cache=False)
        targets = x.labels[:, 1:]
        positions = (targets != IGNORE).any(0).nonzero().squeeze(1)
        keep = {"logits_to_keep": positions} if self.takes_logits_to_keep else {}
        out = self.run_llm(x.inputs_embeds, None, x.attention_mask, x.position_ids, x.cache, use_cache=False, **keep)
        logits = out.logits if keep else out.logits[:, positions]
        out.loss = F.cross_entropy(logits.float().flatten(0, 1), targets[:, positions].flatten(), ignore_index=IGNORE)
        return out


def _insert(embeds: torch.Tensor, mask: torch.Tensor, labels: torch.Tensor | None, soft: torch.Tensor,
            soft_mask: torch.Tensor, at: torch.Tensor):
    """Text `[B, T, H]` with `soft` `[B, G, H]` inserted before text position `at[b]` of each row; the mask and
    labels (IGNORE on soft tokens) follow. Gathers, so gradients reach the soft tokens."""
    text_len, count = embeds.shape[1], soft.shape[1]
    j = torch.arange(text_len + count, device=embeds.device)[None]
    start = at[:, None]
    is_soft = (j >= start) & (j < start + count)
    text_index = torch.where(j < start, j, j - count).clamp(0, text_len - 1)
    soft_index = (j - start).clamp(0, count - 1)
    pick = lambda t, i: t.gather(1, i[..., None].expand(-1, -1, t.shape[2])) if t.dim() == 3 else t.gather(1, i)  # noqa: E731
    embeds = torch.where(is_soft[..., None], pick(soft, soft_index), pick(embeds, text_index))
    mask = torch.where(is_soft, pick(soft_mask, soft_index), pick(mask, text_index))
    if labels is not None:
        labels = torch.where(is_soft, torch.full_like(labels[:, :1], IGNORE), pick(labels, text_index))
    return embeds, mask, labels
