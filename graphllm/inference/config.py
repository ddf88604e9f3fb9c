"""Typed settings for decoding: what to generate and how to speculate."""

from __future__ import annotations

from dataclasses import dataclass, field


def end_of_turn_ids(tokenizer) -> list[int]:
    """The tokens that end an answer: end of sequence and, for chat models, end of turn (`<|im_end|>`)."""
    ids = {tokenizer.eos_token_id, tokenizer.convert_tokens_to_ids("<|im_end|>")}
    return sorted(ids - {None, -1, tokenizer.unk_token_id})


@dataclass
class GenerationConfig:
    """What every decoding path (plain, speculative, SelFee) generates.

    `temperature == 0` is greedy decoding; otherwise tokens are sampled from the softmax of logits / temperature
    restricted to the smallest set of tokens whose probability reaches `top_p` (nucleus sampling). A row stops
    at any of `stop_ids` (the stop token is not returned) or once its text contains one of `stop_strings` (the
    text up to and including the string is returned), or after `max_new_tokens`. `packed_weights` runs the
    linear layers on packed oneDNN weights on the CPU (`graphllm/inference/packed.py`); off, they run as in
    training. `static_cache` decodes into a cache of fixed size, every pass padded to a few fixed shapes, which
    on a GPU are captured as CUDA graphs and replayed (`graphllm/inference/static.py`); on a CPU it only costs.
    """

    max_new_tokens: int = 64
    temperature: float = 0.0
    top_p: float = 1.0
    stop_ids: list[int] = field(default_factory=list)
    stop_strings: list[str] = field(default_factory=list)
    seed: int = 0
    packed_weights: bool = True
    static_cache: bool = False

    def __post_init__(self) -> None:
        if self.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be at least 1, not {self.max_new_tokens}")
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0 (0 is greedy), not {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], not {self.top_p}")

    @property
    def greedy(self) -> bool:
        return self.temperature == 0


@dataclass
class TreeShape:
    """How many children each node of the draft tree gets, per depth: (1, 1, 3, 1, 1) is a chain of two tokens that
    branches into three, each continued by a chain of two (SpecInfer's expansion configuration). With `trim`,
    greedy decoding verifies only the part of the tree expected to pay for its cost (`inference/budget.py`),
    for drafts that know their path probabilities; the shape is then the largest tree."""

    widths: tuple[int, ...] = (1, 1, 3, 1, 1)
    trim: bool = True

    def __post_init__(self) -> None:
        self.widths = tuple(int(w) for w in self.widths)
        if not self.widths or any(w < 1 for w in self.widths):
            raise ValueError(f"tree widths must be positive integers, not {self.widths}")

    @staticmethod
    def parse(text: str) -> TreeShape:
        """"1,1,3,1,1" (trimmed by the budget), or "1,1,3,1,1:whole" (always verified whole)."""
        widths, _, mode = text.partition(":")
        try:
            if mode not in ("", "whole"):
                raise ValueError(mode)
            return TreeShape(tuple(int(w) for w in widths.split(",")), trim=mode != "whole")
        except ValueError:
            raise ValueError(f"tree shape {text!r} is not a comma-separated list of positive widths, e.g. 1,1,3,1,1 "
                             "(or 1,1,3,1,1:whole to verify every node)") from None

    @property
    def depth(self) -> int:
        return len(self.widths)

    @property
    def nodes(self) -> int:
        total, level = 0, 1
        for w in self.widths:
            level *= w
            total += level
        return total

    def __str__(self) -> str:
        return ",".join(map(str, self.widths)) + ("" if self.trim else ":whole")
