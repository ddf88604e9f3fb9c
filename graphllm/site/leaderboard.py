"""The leaderboard page: every result in `results/*.json` as methods x tasks, beside the majority baseline
and GraphToken's published PaLM 2-S accuracies (Perozzi et al. 2024, frozen LLM) for reference; plots of
accuracy per task and of training curves."""

from __future__ import annotations

import json
from pathlib import Path

# GraphToken with a frozen PaLM 2-S, as published (DESIGN.md). Not comparable run for run: another LLM,
# another GraphQA sample; shown as the reference point the field quotes.
GRAPHTOKEN_PALM2 = {"node_count": 0.996, "edge_count": 0.426, "cycle_check": 0.956, "triangle_counting": 0.348,
                    "node_degree": 0.962, "connected_nodes": 0.264, "reachability": 0.932, "edge_existence": 0.738,
                    "shortest_path": 0.638}


def load_results(results_dir: Path) -> list[dict]:
    out = []
    for path in sorted(results_dir.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            continue  # a half-written or foreign file is not a result
        if isinstance(data, dict) and "accuracy" in data and "recipe" in data:
            data["_file"] = path.name
            out.append(data)
    return out


def page(results: list[dict], figures: dict[str, str]) -> str:
    lines = ["# Leaderboard", ""]
    if not results:
        return "\n".join(lines + ["No results yet. Run `make demo`, or `graphllm train --recipe graph-prefix`, "
                                  "and rebuild the site.", ""])
    tasks = sorted({t for r in results for t in r["accuracy"]})
    lines += ["Accuracy on the GraphQA test split (exact match after parsing the answer). The majority row always "
              "gives the training split's most common answer. GraphToken's published PaLM 2-S numbers are a "
              "reference from another model and another sample of GraphQA, not a run of ours.", ""]
    lines.append("| Method | LLM | Trained steps | " + " | ".join(tasks) + " |")
    lines.append("|---|---|--:|" + "--:|" * len(tasks))
    for r in sorted(results, key=lambda r: -sum(r["accuracy"].values()) / max(len(r["accuracy"]), 1)):
        steps = r["train"]["steps"] if r.get("train") else 0
        cells = [f"{r['accuracy'][t]:.3f}" if t in r["accuracy"] else "—" for t in tasks]
        lines.append(f"| {r['recipe']} | {r.get('llm', '?')} | {steps} | " + " | ".join(cells) + " |")
    majority = majority_of(results)
    lines.append("| *majority baseline* | — | — | " + " | ".join(
        f"{majority[t]:.3f}" if t in majority else "—" for t in tasks) + " |")
    lines.append("| *GraphToken, PaLM 2-S (published)* | PaLM 2-S | — | " + " | ".join(
        f"{GRAPHTOKEN_PALM2[t]:.3f}" if t in GRAPHTOKEN_PALM2 else "—" for t in tasks) + " |")
    lines.append("")
    titles = {"accuracy": "Accuracy per task", "curves": "Training loss"}
    for key, path in figures.items():
        lines += [f"## {titles[key]}", "", f"![{titles[key]}]({path})", ""]
    lines += ["## Runs", "", "| Result file | Method | Test questions | Trainable parameters | Training time |",
              "|---|---|--:|--:|--:|"]
    for r in results:
        train = r.get("train") or {}
        params = f"{train['trainable_parameters']:,}" if train.get("trainable_parameters") else "0"
        seconds = f"{train['seconds']:.0f} s" if train.get("seconds") else "—"
        lines.append(f"| `{r['_file']}` | {r['recipe']} | {sum(r['n'].values())} | {params} | {seconds} |")
    return "\n".join(lines) + "\n"


def majority_of(results: list[dict]) -> dict[str, float]:
    """The majority baseline per task, from whichever results carry it."""
    majority: dict[str, float] = {}
    for r in results:
        majority.update(r.get("majority", {}))
    return majority


def figures(results: list[dict]) -> dict[str, bytes]:
    if not results:
        return {}
    from graphllm.site.plots import _pyplot, _svg

    plt = _pyplot()
    tasks = sorted({t for r in results for t in r["accuracy"]})
    fig, ax = plt.subplots(figsize=(7, 3.5))
    width = 0.8 / (len(results) + 1)
    for i, r in enumerate(results):
        ax.bar([x + i * width for x in range(len(tasks))], [r["accuracy"].get(t, 0) for t in tasks], width,
               label=r["recipe"])
    majority = majority_of(results)
    ax.bar([x + len(results) * width for x in range(len(tasks))], [majority.get(t, 0) for t in tasks], width,
           label="majority", color="#cfd8dc")
    ax.set_xticks([x + 0.4 - width / 2 for x in range(len(tasks))], tasks)
    ax.set_ylim(0, 1)
    ax.set_ylabel("accuracy")
    ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.spines[["top", "right"]].set_visible(False)
    out = {"accuracy": _svg(fig)}
    trained = [r for r in results if r.get("train") and r["train"].get("train_loss")]
    if trained:
        fig, ax = plt.subplots(figsize=(7, 3.2))
        for r in trained:
            steps, losses = zip(*r["train"]["train_loss"], strict=True)
            ax.plot(steps, losses, label=f"{r['recipe']} (train)", linewidth=1)
            if r["train"].get("val_loss"):
                vs, vl = zip(*r["train"]["val_loss"], strict=True)
                ax.plot(vs, vl, "o--", label=f"{r['recipe']} (validation)", markersize=3)
        ax.set_xlabel("step")
        ax.set_ylabel("loss")
        ax.legend(frameon=False, fontsize=8)
        ax.spines[["top", "right"]].set_visible(False)
        out["curves"] = _svg(fig)
    return out
