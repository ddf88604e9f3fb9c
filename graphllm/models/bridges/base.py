"""What every bridge returns: tokens for the LLM's input layer and/or a key/value prefix for every layer."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class BridgeOutput:
    embeds: torch.Tensor | None = None  # [B, G, hidden]: soft tokens, spliced into the text (GraphLLM.prepare)
    embeds_mask: torch.Tensor | None = None  # [B, G] bool
    prefix: list[tuple[torch.Tensor, torch.Tensor]] | None = None  # per layer (key, value), [B, kv_heads, P, head_dim]
    prefix_mask: torch.Tensor | None = None  # [B, P] bool
