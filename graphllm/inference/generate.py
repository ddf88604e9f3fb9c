"""Plain batched decoding from soft tokens and/or a per-layer prefix, with a KV cache.

The reference every faster path must agree with: greedy output here equals transformers' `generate` on the
same prompt, and speculative greedy output equals this.
"""

from __future__ import annotations

import torch

from graphllm.inference.attention import grouped_sdpa
from graphllm.inference.cache import row_order
from graphllm.inference.config import GenerationConfig
from graphllm.inference.packed import packed_linears
from graphllm.inference.sampling import next_tokens
from graphllm.inference.speculative import SpeculationStats
from graphllm.inference.static import decode_state
from graphllm.inference.stopping import Outputs


@torch.no_grad()
def generate(model, batch, config: GenerationConfig, tokenizer=None, stats: SpeculationStats | None = None
             ) -> list[list[int]]:
    """New tokens per row of a left-padded generation `GraphBatch`; finished rows leave the batch. `stats` counts
    the target passes after the prompt and the tokens they commit, as speculative decoding's do."""
    model.eval()
    with grouped_sdpa(model.llm), packed_linears(model, enabled=config.packed_weights):
        generator = torch.Generator(device=batch.input_ids.device).manual_seed(config.seed)
        state, logits = decode_state(model, batch, config, room=config.max_new_tokens)
        outputs = Outputs(state.batch_size, config, tokenizer)
        while True:
            tokens = next_tokens(logits, config, generator)
            live = [i for i, (row, token) in enumerate(zip(state.rows, tokens.tolist(), strict=True))
                    if not outputs.add(row, [token])]
            if not live:
                return outputs.tokens
            if len(live) != tokens.shape[0]:
                order = row_order(live)
                state.select_rows(order)
                tokens = tokens[order]
            logits = state.step(tokens)
            if stats is not None:
                stats.steps += 1
                stats.tokens += len(live)
