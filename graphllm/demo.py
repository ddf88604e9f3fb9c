"""`graphllm demo` / `make demo`: the main job on the embedded default, on a 2-core CPU in about 10 minutes.

1. validate the catalog and render the awesome list;
2. generate GraphQA for two tasks;
3. evaluate the frozen SmolLM2-135M zero-shot (graph as text), then train and evaluate graph-token and
   graph-prefix (graph through a GNN, LLM frozen);
4. build the site, whose leaderboard now shows these results;
5. print a summary table beside the majority baseline.
"""

from __future__ import annotations

import time

from graphllm import paths
from graphllm.catalog.render import render_list
from graphllm.catalog.validate import validate_catalog
from graphllm.errors import CatalogError
from graphllm.fileio import write_if_changed
from graphllm.results.experiment import ExperimentResult

TASKS = ["cycle_check", "edge_existence"]
METHODS = [("zero-shot", None), ("graph-token", 120), ("graph-prefix", 120)]


def run_demo(steps: int | None = None) -> int:
    import torch

    from graphllm.data.graphqa import GraphQAConfig, generate, save
    from graphllm.data.graphqa.splits import load_examples
    from graphllm.experiment import run
    from graphllm.models.llm import load_llm
    from graphllm.site.build import build_site

    start = time.perf_counter()
    report = validate_catalog(paths.catalog_dir())
    if not report.ok:
        for problem in report.problems:
            print(problem)
        raise CatalogError(f"{len(report.problems)} problem(s) in the catalog; fix them and run `make demo` again")
    entries = report.catalog.entries()
    print(f"[1/5] catalog valid: {len(entries)} unique entries in {len(report.catalog.taxonomy.sections)} sections")
    changed = write_if_changed(paths.list_file(), render_list(report.catalog))
    print(f"      awesome list {'written' if changed else 'up to date'}: {paths.list_file()}")

    data_dir = paths.REPO_ROOT / "data" / "graphqa-demo"
    config = GraphQAConfig(examples=2 * 1500, tasks=TASKS, seed=0)
    save(generate(config), data_dir, config)
    data = load_examples(data_dir, TASKS, train_n=1000, val_n=24, test_n=50)
    print(f"[2/5] GraphQA {', '.join(TASKS)}: {len(data.train)} train / {len(data.test)} test examples in {data_dir}")

    torch.set_num_threads(max(1, torch.get_num_threads()))
    llm, tokenizer = load_llm()
    results = []
    for index, (recipe, default_steps) in enumerate(METHODS, start=1):
        overrides = {"steps": steps or default_steps, "batch_size": 8, "eval_every": 60, "checkpoint_every": 40}
        label = "evaluating" if default_steps is None else f"training {overrides['steps']} steps and evaluating"
        print(f"[3/5] {recipe} ({index}/{len(METHODS)}): {label} ...", flush=True)
        result = run(recipe, TASKS, data, paths.REPO_ROOT / "runs" / f"demo-{recipe}", llm=llm, tokenizer=tokenizer,
                     train_overrides=overrides, progress=True, results_dir=paths.local_results_dir())
        results.append(result)

    site = build_site(strict=True)
    print(f"[4/5] site built: {site / 'index.html'} (leaderboard: {site / 'leaderboard' / 'index.html'})")
    print(f"[5/5] accuracy on {len(data.test) // len(TASKS)} test questions per task "
          f"(SmolLM2-135M, {time.perf_counter() - start:.0f} s in all):")
    print(summary_table(results))
    print(f"      browse: python -m http.server -d {site} 8000  ->  http://127.0.0.1:8000/leaderboard/")
    return 0


def summary_table(results: list[ExperimentResult]) -> str:
    tasks = sorted({t for r in results for t in r.accuracy})
    width = max(len(t) for t in tasks) + 2
    lines = [f"      {'method':<16}" + "".join(f"{t:>{width}}" for t in tasks)]
    for r in results:
        lines.append(f"      {r.recipe:<16}" + "".join(f"{r.accuracy.get(t, float('nan')):>{width}.3f}"
                                                    for t in tasks))
    majority = results[0].majority
    lines.append(f"      {'majority':<16}" + "".join(f"{majority.get(t, float('nan')):>{width}.3f}" for t in tasks))
    return "\n".join(lines)

