"""The "Decoding speed" page: every `graphllm bench decode --json` run in `results/decode/`, newest first, each as
a plot of speed-ups over our plain greedy decoding and a table per batch size (tokens/s, tokens per target pass,
ratios to our plain decoding and to transformers' `generate`, and whether the output is plain greedy's)."""

from __future__ import annotations

from pathlib import Path

from graphllm.results.decode import PLAIN, DecodeBenchReport, Row, costs_text, per_pass_text, ratio_text, ratios

_OUTPUT = {True: "= plain", False: "**differs**", None: "reference"}


def load_results(results_dir: Path) -> tuple[list[tuple[str, DecodeBenchReport]], list[str]]:
    """([(file name without .json, the run)] of `results_dir`/*.json, newest first; one line per file that is not
    one)."""
    runs, problems = [], []
    for path in sorted(results_dir.glob("*.json")) if results_dir.is_dir() else []:
        try:
            runs.append((path.stem, DecodeBenchReport.read(path)))
        except Exception as exc:  # GraphLLMError and anything a damaged file raises: name the file, build the rest
            problems.append(str(exc) if str(path) in str(exc) else f"{path}: {exc}")
    return sorted(runs, key=lambda run: run[1].date, reverse=True), problems


def _ratio(value: float | None, bold_from: float | None = None) -> str:
    text = ratio_text(value, missing="—")
    return f"**{text}**" if value is not None and bold_from is not None and value >= bold_from else text


def _batch_table(run: DecodeBenchReport, batch: int) -> list[str]:
    rows = [r for r in run.rows if r.batch == batch]
    lines = [f"### Batch {batch}", "",
             "| Method | tokens/s | tokens per pass | vs our plain | its limit | after the prompt | vs HF generate "
             "| output |",
             "|---|--:|--:|--:|--:|--:|--:|---|"]
    for row in rows:
        if row.error:
            lines.append(f"| {row.method} | — | — | — | — | — | — | fails: `{row.error}` |")
            continue
        ratio = ratios(row, run.rows)
        is_ours = row.method.startswith("ours") and row.method != PLAIN
        lines.append(f"| {row.method} | {row.tokens_per_second:.1f} | {per_pass_text(row)} "
                     f"| {_ratio(ratio.end_to_end, 1.5 if is_ours else None)} "
                     f"| {ratio_text(ratio.limit)} | {_ratio(ratio.after_prompt)} "
                     f"| {_ratio(ratio.vs_peer)} | {_OUTPUT[row.same]} |")
    return lines + [""]


def _soft_table(rows: list[Row]) -> list[str]:
    lines = ["### From soft tokens", "",
             "A graph-token model's soft prompt (one prompt, batch 1), where transformers' assisted generation must "
             "start from `inputs_embeds`; every output is compared with our plain greedy decoding from the same "
             "soft tokens.", "", "| Method | tokens/s | tokens per pass | output |", "|---|--:|--:|---|"]
    for row in rows:
        if row.error:
            lines.append(f"| {row.method} | — | — | fails: `{row.error}` |")
        else:
            lines.append(f"| {row.method} | {row.tokens_per_second:.1f} | "
                         f"{per_pass_text(row)} | {_OUTPUT[row.same]} |")
    return lines + [""]


def _costs(run: DecodeBenchReport) -> list[str]:
    lines = []
    if run.pass_costs:
        lines.append("- batch 1: " + costs_text(run.pass_costs))
    for size, costs in run.pass_costs_batched.items():
        lines.append(f"- batch {size}: " + costs_text(costs))
    if not lines:
        return []
    return ["What a target pass over k tokens a row costs, in one-token steps at the same batch size (what a "
            "draft tree must pay for):", "", *lines, ""]


def _header(name: str, run: DecodeBenchReport) -> list[str]:
    title = f"## {run.device}, {run.dtype}" + (f" ({run.date})" if run.date else "")
    settings = [f"{run.prompts} prompts, up to {run.max_new_tokens} new tokens, median of {run.repeats} "
                f"round{'s' if run.repeats > 1 else ''}" + (", ours on a static cache" if run.static_cache else "")]
    if run.drafts:
        settings.append("drafts " + ", ".join(f"`{d}`" for d in run.drafts))
    if run.versions:
        settings.append(", ".join(f"{k} {v}" for k, v in run.versions.items()))
    return [title, "", "; ".join(settings) + f". File: `results/decode/{name}.json`.", ""]


def page(runs: list[tuple[str, DecodeBenchReport]], figures: dict[str, str]) -> str:
    lines = ["# Decoding speed", "",
             "Our inference engine (`graphllm/inference/`) against its own plain greedy decoding and Hugging Face "
             "transformers' (HF) `generate` and assisted generation, each run measured in one `graphllm bench "
             "decode` on the machine it names: long-answer GraphQA prompts (neighbour lists, step-by-step "
             "explanations, SelFee-style feedback) with the embedded SmolLM2-135M-Instruct, greedy. Compare ratios "
             "within a run; tokens/s depend on the machine. *After the prompt* takes one prefill of the same "
             "prompts, timed apart, off every method's time. Ratios of ours at 1.5x and above are in bold (the goal "
             "on a CPU). *Its limit* is what a speculative method's target passes allow end to end: its ratio if "
             "each pass cost what a step of plain greedy decoding costs and drafting were free (a marker on its "
             "bar); where verifying a tree costs more than a step, as on a CPU whose passes are compute-bound, the "
             "ratio falls short of it. *Output* says whether a method's tokens equal our plain greedy decoding's, "
             "the reference. "
             "A `feature:DIR` draft is one trained by `graphllm distill --recipe zero-shot --draft feature`.", "",
             "A run appears here when its JSON is written to `results/decode/` "
             "(`graphllm bench decode --json results/decode/NAME.json`) and the site is rebuilt.", ""]
    if not runs:
        return "\n".join(lines + ["No runs yet.", ""])
    for name, run in runs:
        lines += _header(name, run)
        if name in figures:
            lines += [f"![Speed-up over our plain greedy decoding, {run.device}]({figures[name]})", ""]
        for batch in sorted({r.batch for r in run.rows}):
            lines += _batch_table(run, batch)
        if run.soft_prompts:
            lines += _soft_table(run.soft_prompts)
        lines += _costs(run)
    return "\n".join(lines) + "\n"


def figure(run: DecodeBenchReport) -> bytes:
    """Horizontal bars: each method's speed-up over our plain greedy decoding end to end, one bar per batch size;
    a method that fails at a batch size says so where its bar would be."""
    from graphllm.site.plots import _pyplot, _svg

    plt = _pyplot()
    batches = sorted({r.batch for r in run.rows})
    methods = list(dict.fromkeys(r.method for r in run.rows))
    by_key = {(r.method, r.batch): r for r in run.rows}
    colors = ["#3f51b5", "#ff9800", "#009688", "#9c27b0"]
    fig, ax = plt.subplots(figsize=(7.5, 0.42 * len(methods) * len(batches) + 1.2))
    height = 0.8 / len(batches)
    marked = False
    for j, batch in enumerate(batches):
        for i, method in enumerate(methods):
            y = i + j * height
            row = by_key.get((method, batch))
            if row is None:
                continue
            found = ratios(row, run.rows)
            ratio, limit = found.end_to_end, found.limit
            if ratio is None:
                ax.text(0.02, y, "fails" if row.error else "no rate", va="center", fontsize=7, color="#b71c1c")
                continue
            ax.barh(y, ratio, height, color=colors[j % len(colors)], label=f"batch {batch}" if i == 0 else None,
                    alpha=1.0 if method.startswith("ours") else 0.45)
            if limit is not None:
                ax.plot([limit, limit], [y - height / 2, y + height / 2], color="#212121", linewidth=1.6,
                        label=None if marked else "limit of its passes (a pass at a step's cost)")
                marked = True
            near = limit is not None and 0 <= limit - ratio < 0.2  # (the label would cross the marker)
            ax.text((limit if near else ratio) + 0.02, y, f"{ratio:.2f}x", va="center", fontsize=7)
    ax.axvline(1.0, color="#424242", linewidth=0.8, linestyle="--")
    ax.axvline(1.5, color="#2e7d32", linewidth=0.8, linestyle=":", label="goal on a CPU, 1.5x")
    ax.set_yticks([i + 0.4 - height / 2 for i in range(len(methods))], methods)
    ax.invert_yaxis()
    ax.set_xlabel("speed-up over our plain greedy decoding, end to end (transformers' in lighter bars)")
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return _svg(fig)
