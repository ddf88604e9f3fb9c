"""Decoding on a KV cache of fixed size, so that every target pass has fixed shapes: on a GPU each pass shape is
captured once as a CUDA graph and replayed (`graphs.py`).

Eager decoding of a small model on a GPU is bound by launching kernels (SmolLM2-135M: about 1,200 operator calls a
pass), not by arithmetic; a CUDA graph replays a whole pass as one launch. A graph fixes every shape and every
address, so:

- the cache is one buffer per layer of `[B, kv_heads, C, head_dim]` (transformers' `StaticLayer`), with room for
  the prompt and everything decoding can add (`room`); new keys and values go to the slot each layer's length
  tensor points at, which the graph reads when it replays, not when it was captured;
- every pass attends to all C slots through a 4-D mask (unused slots masked), built outside the graph and copied
  in, so a block of n tokens has the same shapes at every length;
- the batch keeps its B rows: a finished row leaves as in `DecodeState` (the live rows move to the front of the
  buffers), and the rows behind them are fed a padding token that sees only itself.

Everything else (holes, explicit positions, compaction after verification) is `DecodeState`'s, so every decoding
path and draft runs on it unchanged; on a CPU it runs eagerly, which is how the tests check it against plain
decoding.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from dataclasses import dataclass

import torch
from transformers import Cache
from transformers.cache_utils import StaticLayer

from graphllm.inference.attention import additive_mask
from graphllm.inference.cache import filled_layers
from graphllm.inference.config import GenerationConfig
from graphllm.inference.state import DecodeState

# Blocks are padded to these widths, so that a speculative tree of any size reuses one of a few captured graphs.
_WIDTHS = (1, 2, 4, 8, 16, 32, 64)
# Capacities are rounded up to a multiple of this, so that prompts of similar length share buffers and graphs.
_CAPACITY_STEP = 256
_KEPT = 8  # static caches kept per model for the next decoding (batch sizes x rooms, in a bench)


def block_width(n: int) -> int:
    """The padded width of a block of n tokens."""
    for width in _WIDTHS:
        if n <= width:
            return width
    return n


@dataclass
class _Buffers:
    """A static cache (one `StaticLayer` per layer, each layer's length a view of `lengths`) and the graphs captured
    on it; one decoding at a time uses it."""

    cache: Cache
    lengths: torch.Tensor
    capacity: int
    rows: int
    graphs: object | None
    in_use: bool = False

    def release(self) -> None:
        self.in_use = False


_POOL: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _buffers(model, layers: list, rows: int, slots: int) -> _Buffers:
    """Buffers for `rows` rows of at least `slots` slots shaped like `layers`: the smallest free one kept from an
    earlier decoding of `model` (its graphs already captured), else new ones (and the least recently used of those
    kept dropped)."""
    first = layers[0]
    shape = (rows, first.keys.dtype, first.keys.device, len(layers),
             tuple((lay.keys.shape[1], lay.keys.shape[-1], lay.values.shape[-1]) for lay in layers))
    kept = _POOL.setdefault(model, OrderedDict())
    fits = [key for key, buffers in kept.items() if key[0] == shape and key[1] >= slots and not buffers.in_use]
    if fits:
        key = min(fits, key=lambda k: k[1])
        kept.move_to_end(key)
        kept[key].in_use = True
        return kept[key]
    capacity = -(-slots // _CAPACITY_STEP) * _CAPACITY_STEP
    lengths = torch.zeros(len(layers), dtype=torch.long, device=first.keys.device)
    static = []
    for index, old in enumerate(layers):
        layer = StaticLayer(max_cache_len=capacity)
        layer.lazy_initialization(old.keys, old.values)
        layer.cumulative_length = lengths[index]  # a view: resetting every layer's length is one write
        static.append(layer)
    graphs = None
    if first.keys.device.type == "cuda":
        from graphllm.inference.graphs import PassGraphs

        graphs = PassGraphs(model)
    buffers = _Buffers(Cache(layers=static), lengths, capacity, rows, graphs, in_use=True)
    if (shape, capacity) not in kept:  # (one kept but in use by another decoding stays)
        kept[(shape, capacity)] = buffers
        while len(kept) > _KEPT:
            kept.popitem(last=False)
    return buffers


class StaticDecodeState(DecodeState):
    """A `DecodeState` whose cache holds `capacity` slots for `rows` rows; see the module docstring."""

    @staticmethod
    def prefill(model, batch, keep_hidden: bool = False, rows_apart: bool | None = None, room: int = 64
                ) -> tuple[StaticDecodeState, torch.Tensor]:
        """The prompt as in `DecodeState.prefill` (eagerly: prompts differ in length), then moved into a static
        cache with `room` free slots per row after it."""
        state, logits = DecodeState.prefill(model, batch, keep_hidden, rows_apart)
        return StaticDecodeState._of(state, room), logits

    @staticmethod
    def _of(state: DecodeState, room: int) -> StaticDecodeState:
        layers = filled_layers(state.cache)
        if len(layers) != len(state.cache.layers) or any(getattr(lay, "is_sliding", False) for lay in layers):
            raise ValueError("a static cache needs full attention in every layer (no sliding windows)")
        new = StaticDecodeState.__new__(StaticDecodeState)
        vars(new).update(vars(state))  # everything the prefill left (mask, positions, hidden states, prompt)
        new.rows_allocated = state.batch_size
        new._move_to(_buffers(state.model, layers, state.batch_size, state.length + room), layers, state.length)
        return new

    def _move_to(self, buffers: _Buffers, layers: list, length: int) -> None:
        """Decode on `buffers` from now on, its first `length` slots copied from `layers`."""
        for layer, old in zip(buffers.cache.layers, layers, strict=True):
            layer.keys[:, :, :length] = old.keys[:, :, :length]
            layer.values[:, :, :length] = old.values[:, :, :length]
        buffers.lengths.fill_(length)
        self.cache, self.lengths, self.capacity, self.graphs = (buffers.cache, buffers.lengths, buffers.capacity,
                                                                buffers.graphs)
        self.written = length  # slots written, mirrored here so that reading it never waits for the GPU
        if getattr(self, "_release", None) is not None:
            self._release()
        self._release = weakref.finalize(self, buffers.release)

    def step(self, tokens: torch.Tensor) -> torch.Tensor:
        ones = torch.ones(self.batch_size, 1, dtype=torch.bool, device=self.mask.device)
        self.mask = torch.cat([self.mask, ones], dim=1)
        logits = self._pass(tokens[:, None], self.next_position[:, None], self.mask[:, None, :], True)
        self.next_position = self.next_position + 1
        return logits[:, -1]

    def _pass(self, tokens: torch.Tensor, positions: torch.Tensor, seen: torch.Tensor, need_logits: bool
              ) -> torch.Tensor:
        """`DecodeState._pass`, padded to the allocated rows, a block width and the capacity (K in `seen` [b, n, K]:
        the slots written so far plus the block); every logit is computed, the shapes being fixed."""
        live, n = tokens.shape
        written = seen.shape[-1] - n
        width = block_width(n)
        if written + width > self.capacity:  # more than `room` foresaw (a merged draft's wide tree): move
            layers = list(self.cache.layers)
            self._move_to(_buffers(self.model, layers, self.rows_allocated, written + width), layers, written)
        rows, device = self.rows_allocated, tokens.device
        full = torch.zeros(rows, width, self.capacity, dtype=torch.bool, device=device)
        # Padding (rows past the live ones, tokens past the block) sees only itself: a query that sees nothing
        # would turn softmax into NaN. Its keys land in slots no live token sees, which compaction drops.
        full[:, torch.arange(width, device=device), torch.arange(written, written + width, device=device)] = True
        full[:live, :n, : seen.shape[-1]] = seen
        padded_tokens = torch.zeros(rows, width, dtype=tokens.dtype, device=device)
        padded_tokens[:live, :n] = tokens
        padded_positions = positions.new_zeros(rows, width)
        padded_positions[:live, :n] = positions
        mask = additive_mask(full[:, None], self.model.llm.get_input_embeddings().weight.dtype)
        self.lengths.fill_(written)  # (the early-exit draft writes to its first layers only: all start here)
        self.written = written + width
        if self.graphs is not None and self.graphs.can_replay():
            logits, hidden = self.graphs.run(self.model, padded_tokens, padded_positions, mask, self.cache,
                                             self.lengths, self.keep_hidden)
        else:
            extra = {"output_hidden_states": True} if self.keep_hidden else {}
            out = self.model.run_llm(None, padded_tokens, mask, padded_positions, self.cache, **extra)
            logits, hidden = out.logits, out.hidden_states[-1] if self.keep_hidden else None
        if self.keep_hidden:
            self.hidden = hidden[:live, :n]
        return logits[:live, :n] if need_logits else logits[:live, n - 1: n]

    def _map_layers(self, fn, layers: int | None = None) -> None:
        """`fn` on each layer's live rows and written slots; what it returns is written back at the same place
        (fewer slots: the layer's length shrinks to them)."""
        live, kept = self.batch_size, self.written
        for layer in self.cache.layers[:layers]:
            for buffer in (layer.keys, layer.values):
                result = fn(buffer[:live, :, : self.written])
                if result.data_ptr() != buffer.data_ptr():
                    buffer[:live, :, : result.shape[2]] = result
                kept = result.shape[2]
        self.lengths[:layers].fill_(kept)
        self.written = kept

    def truncate(self, length: int, layers: int | None = None) -> None:
        self.lengths[:layers].fill_(length)
        if layers is None:
            self.mask = self.mask[:, :length]
            self.written = length

    def select_rows(self, order: list[int]) -> None:
        """As `DecodeState.select_rows`, in place: the rows behind the live ones stay allocated (the graphs'
        shapes), and no leading slot is dropped (it stays masked)."""
        if order == list(range(self.batch_size)):
            return
        index = torch.tensor(order, device=self.mask.device)
        for layer in self.cache.layers:
            for buffer in (layer.keys, layer.values):
                buffer[: len(order)] = buffer[index]
        self.mask = self.mask[index]
        self.next_position = self.next_position[index]
        self.rows = [self.rows[i] for i in order]


def decode_state(model, batch, config: GenerationConfig, room: int, keep_hidden: bool = False
                 ) -> tuple[DecodeState, torch.Tensor]:
    """The prefilled state decoding runs on: static (`config.static_cache`, with `room` slots after the prompt) or
    growing."""
    if config.static_cache:
        return StaticDecodeState.prefill(model, batch, keep_hidden, room=room)
    return DecodeState.prefill(model, batch, keep_hidden)
