"""`graphllm bench decode`: our decoding engine against transformers' `generate` and assisted generation.

Long-answer prompts on GraphQA graphs (graph as text, the embedded SmolLM2-135M-Instruct): per-node neighbour
lists (copying), step-by-step explanations, and SelFee-style feedback on a given answer. Every method decodes
the same prompts greedily, at batch 1 and at a larger batch, each method in turn on every batch (so a shared
CPU whose speed drifts slows all of them alike); measured end to end (prompt included) and after
the prompt (one prefill of the same prompts, timed apart, taken off every method's time; transformers' own,
as one padded batch, off its rows): new tokens per
second, tokens per target pass, whether the output equals our plain greedy output, and the ratio to our plain
decoding and to transformers' `generate`. A second part starts from soft tokens (a graph-token model), where
transformers' assisted generation must take `inputs_embeds`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import platform
import re
import time
from collections.abc import Callable
from pathlib import Path

import torch
import transformers

from graphllm.data.collate import GraphCollator
from graphllm.data.graphqa.long_answers import long_answer_prompts
from graphllm.devices import resolve_device, resolve_dtype, synchronize
from graphllm.inference.attention import grouped_sdpa
from graphllm.inference.config import GenerationConfig, TreeShape, end_of_turn_ids
from graphllm.inference.drafts import make_draft
from graphllm.inference.generate import generate
from graphllm.inference.packed import packed_linears
from graphllm.inference.speculative import SpeculationStats, speculative_generate
from graphllm.inference.state import DecodeState
from graphllm.results.decode import DecodeBenchReport, Row
from graphllm.results.files import utc_now

CPU = torch.device("cpu")


def describe_device(device: torch.device) -> str:
    """The machine, as a reader comparing runs needs it: the GPU, or the CPU's model, widest vector unit (what
    sets fp32 speed: an AVX-512 EPYC decoded twice as fast as an AVX2 one) and threads."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    model, flags = platform.processor() or "CPU", set()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                model = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
                break
    vector = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else None
    return ", ".join(filter(None, [model, vector, f"{torch.get_num_threads()} threads"]))


def _chunks(items: list, size: int) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def _time(fn: Callable[[], list[list[int]]], device: torch.device) -> tuple[list[list[int]], float]:
    synchronize(device)
    start = time.perf_counter()
    out = fn()
    synchronize(device)
    return out, time.perf_counter() - start


def _strip(row: list[int], prompt_width: int, stops: list[int], pad: int) -> list[int]:
    new = row[prompt_width:]
    for i, token in enumerate(new):
        if token in stops:
            return new[:i]
    return [t for t in new if t != pad]


def transformers_generate(model, batch, config: GenerationConfig, pad: int, **assist) -> list[list[int]]:
    """transformers' greedy `generate` on a batch's text prompt (the peer), cut at the first stop token."""
    result = model.llm.generate(input_ids=batch.input_ids, attention_mask=batch.attention_mask, do_sample=False,
                                max_new_tokens=config.max_new_tokens, eos_token_id=config.stop_ids,
                                pad_token_id=pad, **assist)
    return [_strip(r, batch.input_ids.shape[1], config.stop_ids, pad) for r in result.tolist()]


def _error(exc: Exception) -> str:
    return f"{type(exc).__name__}: {str(exc).splitlines()[0][:90]}"


def _interleaved(methods: list[tuple[Row, Callable, SpeculationStats | None]], batches: list, repeats: int = 1,
                 device: torch.device = CPU) -> None:
    """Run every method on each batch in turn, so that a machine whose speed drifts (a shared CPU) slows all of
    them alike, `repeats` times over; a method's time is its median round. A method that fails is reported with
    why and not run again. The first method is the reference whose output the others must equal. A method with
    stats gets its target passes (one round's) and, if it speculates, its tokens per pass."""
    outputs: list[list[list[int]]] = [[] for _ in methods]
    rounds: list[list[float]] = [[] for _ in methods]
    for _, _, stats in methods:
        if stats is not None:
            stats.clear()
    for round_ in range(repeats):
        for times in rounds:
            times.append(0.0)
        for batch in batches:
            for (row, fn, _), out, times in zip(methods, outputs, rounds, strict=True):
                if row.error:
                    continue
                try:
                    tokens, seconds = _time(lambda f=fn, b=batch: f(b), device)
                except Exception as exc:  # a peer that cannot run this case: report why instead of a number
                    row.error = _error(exc)
                    continue
                times[-1] += seconds
                if round_ == 0:
                    out += tokens
        if round_ == 0:  # (greedy: every round makes the same passes)
            for row, _, stats in methods:
                row.passes = stats.steps if stats is not None and not row.error else None
    for (row, _, stats), out, times in zip(methods, outputs, rounds, strict=True):
        if not row.error:
            row.seconds = sorted(times)[len(times) // 2]
            row.tokens = sum(len(o) for o in out)
            row.same = out == outputs[0]
            row.per_pass = stats.mean_accepted if stats is not None and stats.accepted else None
    methods[0][0].same = None


def _speculative(model, draft, config: GenerationConfig, shape: TreeShape, stats: SpeculationStats):
    return lambda batch: speculative_generate(model, batch, draft, config, shape, stats=stats)


def _measure(method: str, size: int, fn, reference: list[list[int]] | None, stats: SpeculationStats | None = None,
             device: torch.device = CPU) -> tuple[Row, list[list[int]]]:
    row = Row(method, size)
    try:
        out, row.seconds = _time(fn, device)
    except Exception as exc:  # a peer that cannot run this case: report why instead of a number
        row.error = _error(exc)
        return row, []
    row.tokens = sum(len(o) for o in out)
    row.same = True if reference is None else out == reference
    if stats is not None:
        row.per_pass = stats.mean_accepted
    return row, out


def bench_decode(prompts: int = 8, max_new_tokens: int = 96, batch_sizes: tuple[int, ...] = (1, 8),
                 drafts: tuple[str, ...] = ("ngram", "early-exit:6", "ngram+early-exit:6"),
                 shapes: tuple[str, ...] = ("1,1,1,1", "1,1,3,1,1"), peers: bool = True, repeats: int = 1,
                 log: Callable[[str], None] = print, device: str = "cpu", dtype: str | None = None,
                 static_cache: bool = False) -> DecodeBenchReport:
    """`static_cache`: every method of ours decodes on a static cache (CUDA graphs on a GPU), and one more row is
    plain greedy on the growing cache, so that the run shows what the graphs bring."""
    from graphllm.models.build import build_model, load_recipe
    from graphllm.models.llm import load_llm

    torch.manual_seed(0)
    device = resolve_device(device)
    dtype = resolve_dtype(dtype, device)
    llm, tokenizer = load_llm(dtype=dtype, device=device)
    model = build_model(load_recipe("zero-shot"), llm).eval()
    config = GenerationConfig(max_new_tokens=max_new_tokens, stop_ids=end_of_turn_ids(tokenizer),
                              static_cache=static_cache)
    pad = tokenizer.pad_token_id
    data = long_answer_prompts(prompts)
    collator = GraphCollator(tokenizer, "generate", include_graph_text=True)
    unpacked = dataclasses.replace(config, packed_weights=False)
    growing = dataclasses.replace(config, static_cache=False)
    warm_up = dataclasses.replace(config, max_new_tokens=2)
    drafts_by_spec = {spec: make_draft(spec, target=model, recipe=load_recipe("zero-shot")) for spec in drafts}
    rows: list[Row] = []
    batched_costs: dict[int, dict[int, float]] = {}
    for size in batch_sizes:
        batches = [collator(chunk).to(device) for chunk in _chunks(data, size)]
        counted = SpeculationStats()
        methods = [(Row("ours: plain greedy", size), lambda b, s=counted: generate(model, b, config, stats=s), counted),
                   (Row("ours: plain greedy, unpacked weights", size), lambda b: generate(model, b, unpacked), None)]
        if static_cache:
            methods.append((Row("ours: plain greedy, growing cache", size), lambda b: generate(model, b, growing),
                            None))
        for spec in drafts:
            for shape in shapes:
                name = re.sub(r"(distilled|feature):[^+]*", r"\1", spec)  # a draft's folder is not its name
                stats = SpeculationStats()
                run = _speculative(model, drafts_by_spec[spec], config, TreeShape.parse(shape), stats)
                methods.append((Row(f"ours: {name} tree {shape}", size), run, stats))
        if peers:
            for method, assist in (("generate", {}), ("prompt lookup (n-gram)", {"prompt_lookup_num_tokens": 4}),
                                   ("early exit (6 layers)", {"assistant_early_exit": 6})):
                methods.append((Row(f"transformers: {method}", size),
                                lambda b, a=assist: transformers_generate(model, b, config, pad, **a), None))
        log(f"batch {size}: {len(methods)} methods, each in turn on {len(batches)} batches, {repeats} times")
        # A first prompt of a batch size pays for memory the process has not had yet: on a 2-core Xeon VM the
        # first batch-8 prefill took 12.6 s and every later one 4.4-4.5 s, which made the first method timed look
        # 1.3x slower than the second. Each batch's prompt runs once before any clock starts.
        for batch in batches:
            generate(model, batch, warm_up)
        if static_cache:  # each method once on the longest prompts: its graphs captured, on buffers all batches fit
            longest = max(batches, key=lambda b: b.input_ids.shape[1])
            for _, fn, _ in methods:
                with contextlib.suppress(Exception):  # (a peer that fails is reported by the timed run)
                    fn(longest)
        _interleaved(methods, batches, repeats, device)
        # Ours prefills unequal prompts row by row on a CPU, transformers as one padded batch: each its own.
        ours, padded = prefill_seconds(model, batches), prefill_seconds(model, batches, rows_apart=False)
        for row, _, _ in methods:
            row.prompt_seconds = padded if row.method.startswith("transformers") else ours
            rows.append(row)
        if size > 1:  # what a tree costs where rows share a pass (the first batch: the bench's prompts)
            batched_costs[size] = pass_costs(model, batches[0])
    return DecodeBenchReport(
        rows, _soft_prompt_check(tokenizer, llm, data[:1], config, pad) if peers else [], prompts, max_new_tokens,
        describe_device(device), pass_costs=pass_costs(model, collator(data[:1]).to(device)),
        pass_costs_unpacked=pass_costs(model, collator(data[:1]).to(device), packed=False),
        pass_costs_batched=batched_costs, repeats=repeats, dtype=str(dtype).removeprefix("torch."),
        static_cache=static_cache, drafts=list(drafts), trees=list(shapes), date=utc_now(),
        versions={"torch": torch.__version__, "transformers": transformers.__version__})


@torch.no_grad()
def prefill_seconds(model, batches: list, repeats: int = 3, rows_apart: bool | None = None) -> float:
    """The time of running every batch's prompt once (the fastest of `repeats`); `rows_apart` as in
    `DecodeState.prefill` (False: as one padded batch, the way transformers' `generate` runs it)."""
    times = []
    with grouped_sdpa(model.llm), packed_linears(model):
        for _ in range(repeats):
            synchronize(model.device)
            start = time.perf_counter()
            for batch in batches:
                DecodeState.prefill(model, batch, rows_apart=rows_apart)
            synchronize(model.device)
            times.append(time.perf_counter() - start)
    return min(times)


@torch.no_grad()
def pass_costs(model, batch, sizes: tuple[int, ...] = (2, 3, 4, 6, 8), repeats: int = 9, packed: bool = True
               ) -> dict[int, float]:
    """What speculation pays for: the time of one target pass over a causal block of k tokens after the prompt,
    over the time of a one-token step, for every row of `batch`, as the engine runs them (`packed`: on packed
    weights). Each k-token pass is timed right after a step and divided by it, and the median of `repeats` such
    ratios is kept: timing all steps first and each k after (as before) let a shared CPU's drift into the ratios,
    which came out as low as 0.74 for k=4 at batch 1."""
    def once(state: DecodeState, k: int) -> float:
        length, position, device = state.length, state.next_position, state.mask.device
        tokens = torch.full((state.batch_size, k), 100, device=device)
        synchronize(device)
        start = time.perf_counter()
        if k == 1:
            state.step(tokens[:, 0])
        else:
            causal = torch.ones(k, k, dtype=torch.bool, device=device).tril().expand(state.batch_size, -1, -1)
            state.block(tokens, position[:, None] + torch.arange(k, device=device), causal)
        synchronize(device)
        seconds = time.perf_counter() - start
        state.truncate(length)
        state.next_position = position
        return seconds

    with grouped_sdpa(model.llm), packed_linears(model, enabled=packed):
        state, _ = DecodeState.prefill(model, batch)
        for k in (1, *sizes):  # each shape once untimed: packed kernels choose and buffers grow on first use
            once(state, k)
        ratios: dict[int, list[float]] = {k: [] for k in sizes}
        for _ in range(repeats):
            for k in sizes:
                step = once(state, 1)
                ratios[k].append(once(state, k) / step)
        return {k: sorted(r)[len(r) // 2] for k, r in ratios.items()}


def _soft_prompt_check(tokenizer, llm, data, config: GenerationConfig, pad: int) -> list[Row]:
    """From soft tokens (a seeded graph-token model): our speculative decoding vs assisted generation given
    `inputs_embeds`, both compared with our plain greedy decoding from the same soft tokens."""
    from graphllm.models.build import build_model, load_recipe

    torch.manual_seed(0)
    model = build_model(load_recipe("graph-token"), llm).eval()
    batch = GraphCollator(tokenizer, "generate")(data).to(llm.device)
    reference = generate(model, batch, config)
    x = model.prepare(batch)
    rows = []
    stats = SpeculationStats()
    rows.append(_measure("ours: ngram tree 1,1,3,1,1 (soft tokens)", 1, lambda: speculative_generate(
        model, batch, make_draft("ngram"), config, TreeShape.parse("1,1,3,1,1"), stats=stats), reference, stats,
        llm.device)[0])

    def hf(**assist):
        out = llm.generate(inputs_embeds=x.inputs_embeds, attention_mask=x.attention_mask, do_sample=False,
                           max_new_tokens=config.max_new_tokens, eos_token_id=config.stop_ids, pad_token_id=pad,
                           **assist)
        return [_strip(r, 0, config.stop_ids, pad) for r in out.tolist()]

    for method, assist in (("generate", {}), ("prompt lookup", {"prompt_lookup_num_tokens": 4}),
                           ("early exit", {"assistant_early_exit": 6})):
        rows.append(_measure(f"transformers: {method} (soft tokens)", 1, lambda a=assist: hf(**a), reference,
                             device=llm.device)[0])
    return rows
