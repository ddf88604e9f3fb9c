r"""Counts handed to the LLM as its own digit tokens: for each count of the encoder (`count_readout.py`), a learned
marker and then the input embeddings of the count's decimal digits, leading zeros masked out:

.. math::
    c \mapsto [\,m_{kind};\ E[\text{"}d_1\text{"}];\ \dots;\ E[\text{"}d_P\text{"}]\,], \qquad
    d_1 \dots d_P = c \text{ in base 10}

so the question's turn starts like "nodes 1 4 edges 9 1 degree 5" and a count is answered by copying, which a small
LLM does well, where writing a number from a continuous prefix is what it did badly: the linear probes on the
Experiments page found the node count in the prefix of nearly every test graph that the model then miscounted.
The markers start as the embeddings of the words "nodes", "edges" and "degree" and are trained; the digit rows are
the frozen LLM's own.

Input: `Counts` of ``[B, C]``; output ``[B, C (1 + P), H]`` embeddings and their ``[B, C (1 + P)]`` mask.
"""

from __future__ import annotations

import torch
from torch import nn

from graphllm.models.count_readout import Counts

KINDS = ("nodes", "edges", "degree")  # the markers of the node count, the edge count and a named node's degree


def _token_embeddings(llm, tokenizer, text: str) -> torch.Tensor:
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    return llm.get_input_embeddings().weight.detach()[ids].float()


class CountDigits(nn.Module):
    def __init__(self, llm, tokenizer, places: int = 3) -> None:
        super().__init__()
        if tokenizer is None:
            raise ValueError("count digits need the LLM's tokenizer (to find its digit tokens)")
        digits = []
        for d in range(10):
            ids = tokenizer(str(d), add_special_tokens=False)["input_ids"]
            if len(ids) != 1:
                raise ValueError(f"count digits need a tokenizer that writes each digit as one token; {d!r} is "
                                 f"{len(ids)} tokens")
            digits.append(ids[0])
        self.places = places
        self.register_buffer("digit_embeds", llm.get_input_embeddings().weight.detach()[digits].float().clone(),
                             persistent=False)  # the frozen LLM's own rows, rebuilt from it on loading
        self.markers = nn.Parameter(torch.stack([_token_embeddings(llm, tokenizer, f" {kind}").mean(0)
                                                 for kind in KINDS]))

    def forward(self, counts: Counts) -> tuple[torch.Tensor, torch.Tensor]:
        """(embeddings ``[B, C (1 + P)]`` x ``H``, their mask)."""
        values = counts.values.clamp(0, 10**self.places - 1)  # [B, C]
        powers = 10 ** torch.arange(self.places - 1, -1, -1, device=values.device)  # [P], most significant first
        digits = values[..., None] // powers % 10  # [B, C, P]
        significant = (values[..., None] >= powers) | (powers == 1)  # no leading zeros; 0 is written "0"
        b, c = values.shape
        kind = torch.tensor([0, 1] + [2] * (c - 2), device=values.device)
        embeds = torch.cat([self.markers[kind][None, :, None].expand(b, -1, -1, -1),
                            self.digit_embeds[digits]], dim=2)  # [B, C, 1 + P, H]
        mask = torch.cat([counts.mask[..., None], counts.mask[..., None] & significant], dim=2)
        return embeds.flatten(1, 2), mask.flatten(1, 2)
