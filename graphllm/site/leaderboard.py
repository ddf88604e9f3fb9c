"""The leaderboard page: every result in `results/*.json` as methods x tasks, beside the majority baseline
and GraphToken's published PaLM 2-S accuracies (Perozzi et al. 2024, frozen LLM) for reference; plots of
accuracy per task and of training curves."""

from __future__ import annotations

import math
from pathlib import Path

from graphllm.results.experiment import ExperimentResult, read_results

# GraphToken with a frozen PaLM 2-S, as published (Perozzi et al. 2024, "Let Your Graph Do the Talking: Encoding
# Structured Data for LLMs", arXiv 2402.05862). Not comparable run for run: another LLM,
# another GraphQA sample; shown as the reference point the field quotes.
GRAPHTOKEN_PALM2 = {"node_count": 0.996, "edge_count": 0.426, "cycle_check": 0.956, "triangle_counting": 0.348,
                    "node_degree": 0.962, "connected_nodes": 0.264, "reachability": 0.932, "edge_existence": 0.738,
                    "shortest_path": 0.638}


def load_results(results_dir: Path) -> tuple[list[ExperimentResult], list[str]]:
    """(the results in `results_dir`, one line per file that claims to be a result and is not one)."""
    return read_results(results_dir)


def samples(results: list[ExperimentResult]) -> list[list[ExperimentResult]]:
    """Results grouped by the test sample they were evaluated on (same tasks, question counts and majority
    answers), largest task set first: only runs on one sample can share a table and a majority row."""
    groups: dict[tuple, list[ExperimentResult]] = {}
    for r in results:
        key = (tuple(sorted(r.n.items())), tuple(sorted((t, round(v, 9)) for t, v in r.majority.items())))
        groups.setdefault(key, []).append(r)
    return sorted(groups.values(), key=lambda g: (-len(g[0].n), -sum(g[0].n.values())))


def wilson_interval(accuracy: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval (95% by default) of an accuracy measured on n questions: what one run's figure
    can claim. Unlike accuracy +- z*se it stays inside [0, 1] and is not empty at 0 or 1."""
    if n <= 0:
        return 0.0, 1.0
    centre = (accuracy + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(accuracy * (1 - accuracy) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def _cell(accuracy: float, n: int | None, spread: float | None = None) -> str:
    """"0.940 (0.84-0.98)": the figure and its 95% Wilson interval, where the question count is known; over
    several seeds, "0.940 ±0.012 (0.84-0.98)": the mean, the standard deviation across seeds, and the interval."""
    figure = f"{accuracy:.3f}" + ("" if spread is None else f" ±{spread:.3f}")
    if not n:
        return figure
    low, high = wilson_interval(accuracy, n)
    return f"{figure} <small>({low:.2f}-{high:.2f})</small>"


def _mean(accuracy: dict[str, float]) -> float:
    return sum(accuracy.values()) / max(len(accuracy), 1)


def _table(group: list[ExperimentResult]) -> list[str]:
    tasks = sorted({t for r in group for t in r.accuracy})
    counts = sorted(set(group[0].n.values()))
    lines = [f"### {len(tasks)} task{'s' if len(tasks) > 1 else ''}, "
             f"{' or '.join(map(str, counts))} test questions each", "",
             "Each accuracy with its 95% Wilson interval on that many questions. A run of one seed is one draw; a "
             "run over several seeds shows their mean ± the standard deviation across them; ≥ PaLM 2-S counts the "
             "tasks whose figure is at or above GraphToken's published one.", "",
             "| Method | Run | LLM | Trained steps | " + " | ".join(tasks) + " | mean | ≥ PaLM 2-S |",
             "|---|---|---|--:|" + "--:|" * (len(tasks) + 2)]
    palm = {t: GRAPHTOKEN_PALM2[t] for t in tasks if t in GRAPHTOKEN_PALM2}
    for r in sorted(group, key=lambda r: -r.mean_accuracy):
        steps = _per_model(r, r.train.steps) if r.train else 0
        cells = [_cell(r.accuracy[t], r.n.get(t), r.spread(t)) if t in r.accuracy else "—" for t in tasks]
        run = f"{r.run} ({len(r.seeds)} seeds)" if r.seeds else r.run
        above = sum(r.accuracy[t] >= palm[t] for t in palm if t in r.accuracy)
        lines.append(f"| {r.recipe} | {run} | {r.llm} | {steps} | " + " | ".join(cells)
                     + f" | {r.mean_accuracy:.3f} | {f'{above}/{len(palm)}' if palm else '—'} |")
    majority = {t: v for t, v in majority_of(group).items() if t in tasks}
    lines.append("| *majority baseline* | — | — | — | " + " | ".join(
        f"{majority[t]:.3f}" if t in majority else "—" for t in tasks) + f" | {_mean(majority):.3f} | — |")
    lines.append("| *GraphToken, PaLM 2-S (published)* | — | PaLM 2-S | — | " + " | ".join(
        f"{palm[t]:.3f}" if t in palm else "—" for t in tasks)
        + (f" | {_mean(palm):.3f} | — |" if len(palm) == len(tasks) else " | — | — |"))
    return lines + [""]


def page(results: list[ExperimentResult], figures: dict[str, str]) -> str:
    lines = ["# Leaderboard", ""]
    if not results:
        return "\n".join(lines + ["No results yet. Run `make demo`, or `graphllm train --recipe graph-prefix`, "
                                  "and rebuild the site.", ""])
    lines += ["Accuracy on the GraphQA test split (exact match after parsing the answer), one table per test "
              "sample: runs evaluated on other questions are not compared row by row. The majority row always "
              "gives the training split's most common answer. GraphToken's published PaLM 2-S numbers are a "
              "reference from another model and another sample of GraphQA, not a run of ours.", ""]
    for group in samples(results):
        lines += _table(group)
    titles = {"accuracy": "Accuracy per task (the first table's runs)", "curves": "Training loss"}
    for key, path in figures.items():
        lines += [f"## {titles[key]}", "", f"![{titles[key]}]({path})", ""]
    lines += ["## Runs", "", "| Result file | Method | Test questions | Trainable parameters | Training time |",
              "|---|---|--:|--:|--:|"]
    for r in results:
        params = _per_model(r, f"{r.train.trainable_parameters:,}") if r.train else "0"
        seconds = f"{r.train.seconds:.0f} s" if r.train and r.train.seconds else "—"
        lines.append(f"| `{r.file}` | {r.recipe} | {sum(r.n.values())} | {params} | {seconds} |")
    return "\n".join(lines) + "\n"


def _per_model(result: ExperimentResult, figure) -> str:
    """A run of one model per task (`graphllm train --per-task`) trains its figure once for each task."""
    return f"{figure} per task ({result.models} models)" if result.models > 1 else str(figure)


def majority_of(results: list[ExperimentResult]) -> dict[str, float]:
    """The majority baseline per task, from whichever results carry it (one sample's results agree)."""
    majority: dict[str, float] = {}
    for r in results:
        majority.update(r.majority)
    return majority


def figures(results: list[ExperimentResult]) -> dict[str, bytes]:
    if not results:
        return {}
    from graphllm.site.plots import _pyplot, _svg

    plt = _pyplot()
    group = samples(results)[0]  # the largest test sample: bars of one figure must answer the same questions
    tasks = sorted({t for r in group for t in r.accuracy})
    majority = majority_of(group)
    bars = [(r.run, r.accuracy, None) for r in group]
    bars += [("majority", majority, "#cfd8dc")]
    if any(t in GRAPHTOKEN_PALM2 for t in tasks):
        bars += [("GraphToken, PaLM 2-S (published)", GRAPHTOKEN_PALM2, "#90a4ae")]
    fig, ax = plt.subplots(figsize=(max(7, 0.9 * len(tasks) + 3), 3.5))
    width = 0.8 / len(bars)
    for i, (label, accuracy, color) in enumerate(bars):
        ax.bar([x + i * width for x in range(len(tasks))], [accuracy.get(t, 0) for t in tasks], width, label=label,
               color=color)
    ax.set_xticks([x + 0.4 - width / 2 for x in range(len(tasks))], [t.replace("_", " ") for t in tasks],
                  rotation=30 if len(tasks) > 4 else 0, ha="right" if len(tasks) > 4 else "center")
    ax.set_ylim(0, 1)
    ax.set_ylabel("accuracy")
    ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    out = {"accuracy": _svg(fig)}
    trained = [r for r in results if r.train and r.train.train_loss]
    if trained:
        fig, ax = plt.subplots(figsize=(7, 3.2))
        for r in trained:
            steps, losses = zip(*r.train.train_loss, strict=True)
            ax.plot(steps, losses, label=f"{r.run} (train)", linewidth=1)
            if r.train.val_loss:
                vs, vl = zip(*r.train.val_loss, strict=True)
                ax.plot(vs, vl, "o--", label=f"{r.run} (validation)", markersize=3)
        ax.set_xlabel("step")
        ax.set_ylabel("loss")
        ax.legend(frameon=False, fontsize=8)
        ax.spines[["top", "right"]].set_visible(False)
        out["curves"] = _svg(fig)
    return out
