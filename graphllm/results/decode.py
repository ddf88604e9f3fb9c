"""What `graphllm bench decode` reports, as data first (`DecodeBenchReport`): its rows, the ratios they are read by,
the text table, and the JSON file (`--json`) that the site's "Decoding speed" page is built from. Needs no torch, so
the site builds without loading a model."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from graphllm.results.files import ReportFile

PLAIN = "ours: plain greedy"  # the row every ratio is taken to
PEER = "transformers: generate"
FORMAT = 1  # version of the JSON file; a later change of its meaning bumps it


@dataclass
class Row:
    method: str
    batch: int
    tokens: int = 0
    seconds: float = 0.0
    per_pass: float | None = None  # tokens per target forward pass (speculative methods)
    passes: int | None = None  # target forward passes after the prompt over all batches, one round (ours)
    prompt_seconds: float = 0.0  # the share of `seconds` one prefill of the prompts takes (measured apart)
    same: bool | None = None  # output equals our plain greedy output
    error: str = ""

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds else 0.0

    @property
    def decode_tokens_per_second(self) -> float | None:
        """After the prompt: the same prefill time, measured apart, taken off every method's time. None when that
        leaves no time (a short run on a drifting CPU, whose prefill measured apart took longer than the whole)."""
        if not self.prompt_seconds or self.seconds <= self.prompt_seconds:
            return None
        return self.tokens / (self.seconds - self.prompt_seconds)


@dataclass
class Ratios:
    """A row's speed over our plain greedy decoding's at the same batch size (None where either has no rate)."""

    end_to_end: float | None
    after_prompt: float | None
    vs_peer: float | None  # end to end, over transformers' generate
    # End to end, if each of the row's target passes cost what one step of plain greedy decoding costs on average
    # and drafting were free: the most its passes allow on this machine (tree verification costs more than a
    # step where a pass is compute-bound, so the ratio reached falls short of it by that much).
    limit: float | None = None


def ratios(row: Row, rows: list[Row]) -> Ratios:
    """`row`'s ratios to the plain greedy and transformers rows among `rows` with its batch size."""
    def rate(method: str) -> Row | None:
        return next((r for r in rows if r.method == method and r.batch == row.batch and not r.error), None)

    plain, peer = rate(PLAIN), rate(PEER)
    if row.error:
        return Ratios(None, None, None)
    end = row.tokens_per_second / plain.tokens_per_second if plain and plain.tokens_per_second else None
    after = row.decode_tokens_per_second
    plain_after = plain.decode_tokens_per_second if plain else None
    limit = None
    if row.per_pass and row.passes and plain and plain.passes and plain.decode_tokens_per_second:
        step = (plain.seconds - plain.prompt_seconds) / plain.passes
        limit = plain.seconds / (row.prompt_seconds + row.passes * step)
    return Ratios(end, after / plain_after if after and plain_after else None,
                  row.tokens_per_second / peer.tokens_per_second if peer and peer.tokens_per_second else None, limit)


@dataclass
class DecodeBenchReport(ReportFile):
    """One `graphllm bench decode` run: its rows, the soft-token check, the pass costs and its settings."""

    COMMAND, FORMAT = "graphllm bench decode", FORMAT
    DERIVED = frozenset({"tokens_per_second", "decode_tokens_per_second"})  # written beside each row's fields

    rows: list[Row]
    soft_prompts: list[Row]  # a graph-token model's soft prompt: ours and transformers' from inputs_embeds
    prompts: int
    max_new_tokens: int
    device: str
    pass_costs: dict[int, float] = field(default_factory=dict)  # batch 1, packed weights: width k -> steps
    pass_costs_unpacked: dict[int, float] = field(default_factory=dict)
    pass_costs_batched: dict[int, dict[int, float]] = field(default_factory=dict)  # batch size -> width -> steps
    repeats: int = 1
    dtype: str = "float32"
    static_cache: bool = False
    drafts: list[str] = field(default_factory=list)
    trees: list[str] = field(default_factory=list)
    date: str = ""
    versions: dict[str, str] = field(default_factory=dict)
    format: int = FORMAT

    def text(self) -> str:
        lines = [f"{self.prompts} long-answer prompts, up to {self.max_new_tokens} new tokens, greedy, "
                 f"on {self.device} in {self.dtype}"
                 f"{', ours on a static cache' if self.static_cache else ''}, end to end (prompt included), "
                 "and after the prompt (one prefill's time, measured apart, taken off); "
                 f"median of {self.repeats} rounds; limit: end to end, if each target pass cost one plain "
                 "step and drafting were free", "",
                 f"{'method':<44}{'batch':>6}{'tok/s':>8}{'tok/pass':>9}{'vs plain':>9}{'vs HF':>7}"
                 f"{'decode tok/s':>13}{'vs plain':>9}{'limit':>7}  output"]
        for row in self.rows + self.soft_prompts:
            if row.error:
                lines.append(f"{row.method:<44}{row.batch:>6}{'':>8}{'':>9}{'':>9}{'':>7}{'':>13}{'':>9}{'':>7}  "
                             f"fails: {row.error}")
                continue
            # Soft-token rows are a check of one prompt against each other, not against the bench's plain rows.
            ratio = ratios(row, [] if row in self.soft_prompts else self.rows)
            same = {True: "= plain greedy", False: "DIFFERS from plain greedy", None: ""}[row.same]
            after = row.decode_tokens_per_second
            lines.append(f"{row.method:<44}{row.batch:>6}{row.tokens_per_second:>8.1f}{per_pass_text(row):>9}"
                         f"{ratio_text(ratio.end_to_end):>9}{ratio_text(ratio.vs_peer):>7}"
                         f"{f'{after:.1f}' if after else '':>13}{ratio_text(ratio.after_prompt):>9}"
                         f"{ratio_text(ratio.limit):>7}  {same}")
        costs = [(weights, cost) for weights, cost in (("packed", self.pass_costs),
                                                       ("unpacked", self.pass_costs_unpacked)) if cost]
        if costs:
            lines.append("")
        for weights, cost in costs:
            lines.append(f"cost of one target pass over k tokens after the first prompt, in one-token steps "
                         f"({weights} weights): " + costs_text(cost))
        for size, cost in self.pass_costs_batched.items():
            lines.append(f"the same at batch {size}, k tokens in each row (packed weights): " + costs_text(cost))
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """Every row's measurements with its rates, and the run's settings."""
        def row(r: Row) -> dict:
            return dict(dataclasses.asdict(r), tokens_per_second=r.tokens_per_second,
                        decode_tokens_per_second=r.decode_tokens_per_second)

        return {**dataclasses.asdict(self), "rows": [row(r) for r in self.rows],
                "soft_prompts": [row(r) for r in self.soft_prompts]}

def ratio_text(ratio: float | None, missing: str = "") -> str:
    return f"{ratio:.2f}x" if ratio is not None else missing


def per_pass_text(row: Row) -> str:
    """Tokens per target pass, for the speculative methods that have it."""
    return f"{row.per_pass:.2f}" if row.per_pass else ""


def costs_text(costs: dict[int, float]) -> str:
    """Pass costs by block width, as "k=2 1.10, k=4 1.41"."""
    return ", ".join(f"k={k} {c:.2f}" for k, c in costs.items())


