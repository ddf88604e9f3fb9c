"""The KV cache of a batch being decoded, and the forward passes that extend it.

Rows are left-padded and grow at different rates under speculative decoding, so the cache is allowed to
have holes: `mask[b, j]` says whether slot j of row b holds a real token. Every forward pass gets an explicit
attention mask and explicit position ids, so holes cost memory, never correctness. A block of tokens that
is not a plain continuation (a token tree) gets a 4-D mask: the committed slots of its row plus the block
slots it may see (`block_attend`).
"""

from __future__ import annotations

import torch
from transformers import Cache, DynamicCache

from graphllm.inference.attention import additive_mask
from graphllm.inference.cache import (
    GrowableLayer,
    drop_leading_slots,
    filled_layers,
    growable_cache,
    grows_in_place,
    scatter_row,
    select_rows,
)
from graphllm.models.graph_llm import GraphLLM


class DecodeState:
    def __init__(self, model: GraphLLM, cache: Cache, mask: torch.Tensor, next_position: torch.Tensor,
                 rows: list[int]) -> None:
        self.model = model
        self.cache = cache
        self.mask = mask.bool()  # [B, C]
        self.next_position = next_position  # [B]: position id of each row's next token
        self.rows = rows  # original batch index of each live row
        # With `keep_hidden`, the target's last hidden states of its latest pass ([B, n, H], after `compact` only the
        # kept slots, valid where `hidden_valid`), and the prompt's (features, input embeddings, mask, positions):
        # what a feature draft reads.
        self.keep_hidden = False
        self.hidden: torch.Tensor | None = None
        self.hidden_valid: torch.Tensor | None = None
        self.prompt: tuple[torch.Tensor, ...] | None = None

    @staticmethod
    def prefill(model: GraphLLM, batch, keep_hidden: bool = False, rows_apart: bool | None = None
                ) -> tuple[DecodeState, torch.Tensor]:
        """Run the prompt (soft tokens and/or prefix included) once; (state, [B, V] logits of the next token).
        `rows_apart`: run each row's prompt on its own (default: where that pays, see `_rows_apart_pays`)."""
        x = model.prepare(batch)
        extra = {**_keep_last(model), **({"output_hidden_states": True} if keep_hidden else {})}
        if _rows_apart_pays(x) if rows_apart is None else rows_apart:
            cache, logits, hidden = _prefill_rows_apart(model, x, extra)
        else:
            cache = growable_cache(x.cache)
            out = model.run_llm(x.inputs_embeds, None, x.attention_mask, x.position_ids, cache, **extra)
            logits, hidden = out.logits[:, -1], out.hidden_states[-1] if keep_hidden else None
        rows = list(range(x.inputs_embeds.shape[0]))
        state = DecodeState(model, cache, x.attention_mask, x.position_ids[:, -1] + 1, rows)
        if keep_hidden:
            state.keep_hidden = True
            text = x.inputs_embeds.shape[1]
            state.prompt = (hidden, x.inputs_embeds, x.attention_mask[:, -text:].bool(), x.position_ids)
        return state, logits

    @property
    def length(self) -> int:
        return self.mask.shape[1]

    @property
    def batch_size(self) -> int:
        return self.mask.shape[0]

    def step(self, tokens: torch.Tensor) -> torch.Tensor:
        """Append one token per row ([B]); [B, V] logits of the next. A plain 2-D mask, as `generate` uses."""
        ones = torch.ones(self.batch_size, 1, dtype=torch.bool, device=self.mask.device)
        self.mask = torch.cat([self.mask, ones], dim=1)
        out = self.model.run_llm(None, tokens[:, None], self.mask.long(), self.next_position[:, None], self.cache)
        self.next_position = self.next_position + 1
        return out.logits[:, -1]

    def block(self, tokens: torch.Tensor, positions: torch.Tensor, block_attend: torch.Tensor,
              committed: int | None = None, need_logits: bool = True) -> torch.Tensor:
        """Run a block of tokens [B, n] at `positions` [B, n]; `block_attend` [B, n, K] says which of the K slots
        after the first `committed` (default: all committed slots) each token sees, the last n being the block
        itself. Returns [B, n, V] logits (only the last position's without `need_logits`: a block fed just to
        fill the cache skips most of the vocabulary projection). The block stays in the cache; `compact` or
        `truncate` it afterwards."""
        committed = self.length if committed is None else committed
        n = tokens.shape[1]
        seen = torch.cat([self.mask[:, None, :committed].expand(-1, n, -1), block_attend], dim=-1)
        return self._pass(tokens, positions, seen, need_logits)

    def _pass(self, tokens: torch.Tensor, positions: torch.Tensor, seen: torch.Tensor, need_logits: bool
              ) -> torch.Tensor:
        """One target pass over `tokens` [B, n], which see the slots `seen` [B, n, K] (the block its last n)."""
        mask = additive_mask(seen, self.model.llm.get_input_embeddings().weight.dtype)
        extra = {} if need_logits else _keep_last(self.model)
        if self.keep_hidden:
            extra["output_hidden_states"] = True
        out = self.model.run_llm(None, tokens, mask[:, None], positions, self.cache, **extra)
        if self.keep_hidden:
            self.hidden = out.hidden_states[-1]
        return out.logits

    def _map_layers(self, fn, layers: int | None = None) -> None:
        """Apply `fn` to the keys and values of the first `layers` filled cache layers (default all)."""
        for layer in filled_layers(self.cache, layers):
            layer.keys, layer.values = fn(layer.keys), fn(layer.values)

    def compact(self, start: int, keep: torch.Tensor, valid: torch.Tensor) -> None:
        """Keep, of the block that begins at slot `start`, the slots `keep` [B, m] (relative to `start`) in that
        order; slots where `valid` [B, m] is False become holes. Everything after the block is dropped."""
        if bool((keep == torch.arange(keep.shape[1], device=keep.device)).all()):  # a chain's first nodes: cut
            self._map_layers(lambda t: t[:, :, : start + keep.shape[1]])
        else:
            def gather(t):  # in place, so a growable cache keeps its buffer
                index = keep[:, None, :, None].expand(-1, t.shape[1], -1, t.shape[-1])
                t[:, :, start: start + keep.shape[1]] = t[:, :, start:].gather(2, index)
                return t[:, :, : start + keep.shape[1]]

            self._map_layers(gather)
        self.mask = torch.cat([self.mask[:, :start], valid], dim=1)
        if self.hidden is not None:
            self.hidden = self.hidden.gather(1, keep[..., None].expand(-1, -1, self.hidden.shape[-1]))
            self.hidden_valid = valid

    def truncate(self, length: int, layers: int | None = None) -> None:
        """Drop every slot from `length` on, in the first `layers` layers (default all); the mask is not touched
        when only some layers are cut (a self-draft that wrote to the first layers)."""
        self._map_layers(lambda t: t[:, :, :length], layers)
        if layers is None:
            self.mask = self.mask[:, :length]

    def append(self, other: DecodeState) -> None:
        """Add the rows of `other` (a state of the same model) after this state's rows: how a request joins a
        running batch. The shorter of the two caches is padded on the left with holes, so every slot keeps its
        row's order and position, and the explicit masks skip the holes."""
        length = max(self.length, other.length)
        ours, theirs = filled_layers(self.cache), filled_layers(other.cache)
        if len(ours) != len(theirs) or self.keep_hidden or other.keep_hidden:
            raise ValueError("only states of one model, without kept hidden states, can be joined")
        for mine, added in zip(ours, theirs, strict=True):
            mine.keys = torch.cat([_left_pad(mine.keys, length), _left_pad(added.keys, length)])
            mine.values = torch.cat([_left_pad(mine.values, length), _left_pad(added.values, length)])
        self.mask = torch.cat([_left_pad(self.mask, length), _left_pad(other.mask, length)])
        self.next_position = torch.cat([self.next_position, other.next_position])
        first = max(self.rows, default=-1) + 1
        self.rows = self.rows + [first + row for row in other.rows]

    def select_rows(self, order: list[int]) -> None:
        """Keep only some rows (the others finished), row i becoming what row order[i] was (`row_order` gives
        the order that moves least), and drop the leading slots no remaining row uses."""
        if order == list(range(self.batch_size)):
            return
        select_rows(self.cache, order)
        index = torch.tensor(order, device=self.mask.device)
        self.mask = self.mask[index]
        self.next_position = self.next_position[index]
        self.rows = [self.rows[i] for i in order]
        unused = int(self.mask.any(0).long().cumsum(0).eq(0).sum())  # slots before the first one any row uses
        if unused:
            drop_leading_slots(self.cache, unused)
            self.mask = self.mask[:, unused:]


def _left_pad(t: torch.Tensor, length: int) -> torch.Tensor:
    """`t` ([B, S] masks, or [B, heads, S, D] keys and values) with empty slots before its own, to `length`."""
    dim = 1 if t.dim() == 2 else 2
    missing = length - t.shape[dim]
    if not missing:
        return t
    shape = list(t.shape)
    shape[dim] = missing
    return torch.cat([t.new_zeros(shape), t], dim=dim)


def _rows_apart_pays(x) -> bool:
    """On a CPU, where every padded slot of a prompt costs as much as a real one, run the rows of a batch whose
    prompts differ much in length one by one (the bench's eight long-answer prompts: 165 to 917 tokens, 49% of a
    padded batch is padding). On a GPU the padded batch runs in parallel and wins."""
    text = x.inputs_embeds.shape[1]
    return grows_in_place(x.cache) and mostly_padding(x.attention_mask[:, -text:].bool())


def mostly_padding(real: torch.Tensor) -> bool:
    """Whether a CPU batch whose real slots are `real` [B, n] runs faster row by row: more than a quarter of it is
    padding (and no row is empty)."""
    rows, width = real.shape
    if rows == 1 or real.device.type != "cpu":
        return False
    counts = real.sum(1)
    return bool((counts > 0).all()) and int(counts.sum()) <= 0.75 * rows * width


def _prefill_rows_apart(model: GraphLLM, x, extra: dict):
    """The prompt of each row on its own, written into the slots the padded batch would have used: the same
    cache layout, mask and positions, so the state after it is the padded batch's, and so is every output.
    `extra`: the keyword arguments of the padded batch's call (hidden states asked for or not)."""
    rows, text = x.inputs_embeds.shape[:2]
    prefix = x.attention_mask.shape[1] - text
    real = x.attention_mask[:, prefix:].bool()
    layers: list[GrowableLayer] | None = None
    logits, hidden = [], None
    keep_hidden = extra.get("output_hidden_states", False)
    for row in range(rows):
        slots = real[row].nonzero().squeeze(1)
        cache = DynamicCache()
        if x.cache is not None:
            for index, layer in enumerate(x.cache.layers):
                cache.update(layer.keys[row: row + 1], layer.values[row: row + 1], index)
        mask = torch.cat([x.attention_mask[row: row + 1, :prefix],
                          torch.ones(1, len(slots), dtype=x.attention_mask.dtype, device=slots.device)], dim=1)
        out = model.run_llm(x.inputs_embeds[row: row + 1, slots], None, mask, x.position_ids[row: row + 1, slots],
                          cache, **extra)
        logits.append(out.logits[:, -1])
        # the batch's cache, written in place row by row: no second copy of it at the end
        where = torch.cat([torch.arange(prefix, device=slots.device), prefix + slots])
        layers = scatter_row(layers, cache, row, where, rows, prefix + text)
        if keep_hidden:
            last = out.hidden_states[-1]
            if hidden is None:
                hidden = last.new_zeros(rows, text, last.shape[-1])
            hidden[row, slots] = last[0]
    return Cache(layers=layers), torch.cat(logits), hidden


def _keep_last(model: GraphLLM) -> dict:
    """Only the last position's logits are needed after a prompt: skip the vocabulary projection elsewhere."""
    return {"logits_to_keep": 1} if model.takes_logits_to_keep else {}
