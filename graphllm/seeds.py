"""One experiment over several seeds: the same recipe, data and training config, run once per seed (in
`<run directory>/seed-<N>`), combined into one result whose accuracy per task is the mean over the seeds, with
each seed's figure kept (`ExperimentResult.seed_accuracy`) so the leaderboard can show the spread. A claim then
rests on several draws, not one."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from graphllm.errors import GraphLLMError
from graphllm.results.experiment import ExperimentResult, TrainingSummary


def run_seeds(recipe, tasks: list[str], data, run_dir: str | Path, seeds: list[int], per_task: bool = False,
              train_overrides: dict | None = None, results_dir: str | Path | None = "results", **options
              ) -> ExperimentResult | None:
    """`experiment.run` (or `run_per_task`) once per seed, then the combined result, written to
    `run_dir/results.json` and `results_dir/<run>.json`. A seed whose run finished with the same recipe, config
    and data is not run again."""
    from graphllm.experiment import finished_run, run, run_per_task, write_run_result
    from graphllm.models.build import Recipe, load_recipe

    if len(seeds) < 2 or len(set(seeds)) != len(seeds):
        raise GraphLLMError(f"--seeds needs two or more different seeds, not {seeds}")
    recipe = recipe if isinstance(recipe, Recipe) else load_recipe(recipe)
    run_dir = Path(run_dir)
    parts = []
    for seed in seeds:
        overrides = {**(train_overrides or {}), "seed": seed}
        seed_dir = run_dir / f"seed-{seed}"
        part = None if per_task or not options.get("resume", True) else \
            finished_run(seed_dir, recipe, overrides, data)
        if part is None:
            method = run_per_task if per_task else run
            part = method(recipe, tasks, data, seed_dir, train_overrides=overrides, results_dir=None, **options)
        if part is None:  # a secondary process of a multi-process run
            return None
        parts.append(part)
    result = combine_seeds(run_dir.name, parts)
    write_run_result(result, run_dir, results_dir)
    return result


def combine_seeds(name: str, parts: list[ExperimentResult]) -> ExperimentResult:
    """One result of runs that differ only in their seed: mean accuracy per task, each seed's kept."""
    first = parts[0]
    for part in parts[1:]:
        if part.tasks != first.tasks or part.n != first.n or part.data != first.data or part.recipe != first.recipe:
            raise GraphLLMError(f"the runs of {name} were not on the same recipe, tasks and data; they cannot be "
                                "combined")
    seed_accuracy = {task: [p.accuracy[task] for p in parts] for task in first.tasks}
    trains = [p.train for p in parts if p.train]
    train = None if not trains else TrainingSummary(
        config={k: v for k, v in trains[0].config.items() if k != "seed"}, steps=max(t.steps for t in trains),
        examples=sum(t.examples for t in trains), seconds=sum(t.seconds for t in trains),
        trainable_parameters=trains[0].trainable_parameters, models=trains[0].models)
    return dataclasses.replace(
        first, run=name, accuracy={t: sum(v) / len(v) for t, v in seed_accuracy.items()}, train=train, seed=None,
        seeds=[p.seed for p in parts], seed_accuracy=seed_accuracy,
        eval_examples_per_second=sum(p.eval_examples_per_second for p in parts) / len(parts),
        created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), file="")
