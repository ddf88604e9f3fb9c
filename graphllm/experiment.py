"""One experiment: a recipe, some GraphQA tasks and an LLM, trained and evaluated, with results as JSON.

A run directory holds the recipe, the trainable weights (see train.py) and `results.json`; results are
also copied to `results/<run>.json`, which the site's leaderboard reads.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from dataclasses import asdict
from pathlib import Path

from graphllm.data.collate import GraphCollator
from graphllm.data.graphqa.splits import ExperimentData
from graphllm.devices import resolve_device
from graphllm.errors import GraphLLMError
from graphllm.evaluate import evaluate, majority_baseline
from graphllm.fileio import atomic_write_text
from graphllm.models.build import Recipe, build_model, load_recipe
from graphllm.results.experiment import ExperimentResult, ResultError, TrainingSummary, read_result, write_result
from graphllm.train import History, load_trainable, seed_everything, train


def collators(recipe: Recipe, tokenizer, train_examples: list = ()) -> tuple[GraphCollator, GraphCollator]:
    """(training, generation) collators for a recipe; few-shot recipes take their shots from the training split."""
    shots: dict[str, list] = {}
    for data in train_examples:
        if len(shots.setdefault(data.task, [])) < recipe.few_shot:
            shots[data.task].append(data)
    return tuple(GraphCollator(tokenizer, mode, include_graph_text=recipe.include_graph_text,
                               system_prompt=recipe.system_prompt, shots=shots) for mode in ("train", "generate"))


def accelerator_from_env():
    """An accelerate `Accelerator` when started by a multi-process launcher (torchrun sets WORLD_SIZE)."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return None
    import torch
    from accelerate import Accelerator
    from accelerate.utils import DistributedDataParallelKwargs

    return Accelerator(cpu=not torch.cuda.is_available(),
                       kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=True)])


def _llm(name: str, llm=None, tokenizer=None, device="auto"):
    if llm is not None:
        return llm, tokenizer
    from graphllm.models.llm import load_llm

    return load_llm(name, device=resolve_device(device))

def run(recipe: str | Recipe, tasks: list[str], data: ExperimentData, run_dir: str | Path,
        llm_name: str = "smollm2-135m", llm=None, tokenizer=None, train_overrides: dict | None = None,
        resume: bool = True, progress: bool = True, eval_batch_size: int = 16, max_new_tokens: int | None = None,
        results_dir: str | Path | None = "results", device: str = "auto") -> ExperimentResult | None:
    """Build the recipe's model on the LLM (seeded first), train it in `run_dir` (resuming a checkpoint there) and
    evaluate it on `data.test`; the result is written to `run_dir/results.json` and `results_dir/<run>.json`. None
    in the secondary processes of a multi-process run, where the main process evaluates."""
    recipe = (recipe if isinstance(recipe, Recipe) else load_recipe(recipe)).for_tasks(tasks)
    run_dir = Path(run_dir)
    accelerator = accelerator_from_env()
    llm, tokenizer = _llm(llm_name, llm, tokenizer, accelerator.device if accelerator is not None else device)
    config = recipe.train_config(**(train_overrides or {})) if recipe.trains else None
    seed = config.seed if config is not None else (train_overrides or {}).get("seed") or 0
    seed_everything(seed)  # before the model is built: its new parts' initial weights follow from the seed
    model = build_model(recipe, llm, tokenizer=tokenizer)
    train_collator, eval_collator = collators(recipe, tokenizer, data.train)
    history = History()
    if config is not None:
        history = train(model, data.train, data.validation, train_collator, config, run_dir, resume=resume,
                        progress=progress, accelerator=accelerator)
    if accelerator is not None and not accelerator.is_main_process:
        return None
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(run_dir / "recipe.json", recipe.model_dump_json(indent=2) + "\n")
    scores = evaluate(model, data.test, eval_collator, tokenizer, eval_batch_size, max_new_tokens, progress)
    train_summary = None if config is None else TrainingSummary(
        config=asdict(config), steps=history.step, examples=history.examples, seconds=history.seconds,
        trainable_parameters=sum(p.numel() for p in model.trainable_parameters().values()),
        train_loss=history.train_loss, val_loss=history.val_loss)
    result = ExperimentResult(run=run_dir.name, recipe=recipe.name, llm=llm_name, tasks=tasks, seed=seed,
                              **_scored(scores, data), train=train_summary, data=data.fingerprint(), created=_now())
    write_run_result(result, run_dir, results_dir)
    return result


def _scored(scores: dict, data: ExperimentData) -> dict:
    """A result's evaluation fields: `evaluate`'s scores on `data.test` beside the majority baseline."""
    return {"accuracy": scores["accuracy"], "n": scores["n"], "majority": majority_baseline(data.train, data.test),
            "eval_examples_per_second": scores["examples_per_second"], "samples": scores["samples"]}


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def write_run_result(result: ExperimentResult, run_dir: Path, results_dir: str | Path | None) -> None:
    """A run's result in `run_dir/results.json` and, for the leaderboard, `results_dir/<run>.json`."""
    run_dir.mkdir(parents=True, exist_ok=True)
    write_result(result, run_dir / "results.json")
    if results_dir is not None:
        write_result(result, Path(results_dir) / f"{run_dir.name}.json")


def run_per_task(recipe: str | Recipe, tasks: list[str], data: ExperimentData, run_dir: str | Path,
                 llm_name: str = "smollm2-135m", new_llm=None, tokenizer=None, train_overrides: dict | None = None,
                 resume: bool = True, results_dir: str | Path | None = "results", **options) -> ExperimentResult:
    """GraphToken's protocol: one model per task (its own encoder, bridge and adapters, on a freshly loaded LLM),
    trained and evaluated on that task alone in `run_dir/<task>`, the results combined into one result.

    A task whose part finished with the same recipe, training config and data is not run again, so a killed
    run resumes at the task it was on (and inside it at its last checkpoint). `new_llm` makes the LLM for each
    part (tests pass tiny models); by default `llm_name` is loaded anew, as peft's adapters stay in the model
    they were added to."""
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        raise GraphLLMError("--per-task trains its models one after another in one process; start it without "
                            "torch.distributed.run (or train each task on its own there)")
    recipe = recipe if isinstance(recipe, Recipe) else load_recipe(recipe)
    run_dir = Path(run_dir)
    parts = []
    for task in tasks:
        part_data = data.of_task(task)
        part = finished_run(run_dir / task, recipe.for_tasks([task]), train_overrides, part_data) if resume else None
        if part is None:
            part = run(recipe, [task], part_data, run_dir / task, llm_name=llm_name,
                       llm=new_llm() if new_llm else None, tokenizer=tokenizer, train_overrides=train_overrides,
                       resume=resume, results_dir=None, **options)
        parts.append(part)
    result = combine_parts(run_dir.name, parts)
    write_run_result(result, run_dir, results_dir)
    return result


def finished_run(part_dir: Path, recipe: Recipe, train_overrides: dict | None, data: ExperimentData
                 ) -> ExperimentResult | None:
    """The result stored in `part_dir` if that run finished with this recipe, training config and data (so it
    need not run again), else None."""
    try:
        part = read_result(part_dir / "results.json")
        stored = Recipe.model_validate_json((part_dir / "recipe.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, ResultError):
        return None
    config = asdict(recipe.train_config(**(train_overrides or {}))) if recipe.trains else None
    if stored != recipe or (part.train.config if part.train else None) != config or part.data != data.fingerprint():
        return None
    return part


def combine_parts(name: str, parts: list[ExperimentResult]) -> ExperimentResult:
    """One result from per-task parts: accuracy, majority and samples side by side; training summed over the
    parts (`models` of them, each with up to `steps` steps and `trainable_parameters`); loss curves stay in the
    parts' own results."""
    tasks = [t for p in parts for t in p.tasks]
    if len(set(tasks)) != len(tasks):
        raise GraphLLMError(f"per-task parts repeat a task: {', '.join(tasks)}")
    merged = _merge_scores([{"accuracy": p.accuracy, "n": p.n, "samples": p.samples,
                             "examples_per_second": p.eval_examples_per_second} for p in parts])
    trains = [p.train for p in parts if p.train]
    train_summary = None if not trains else TrainingSummary(
        config=trains[0].config, models=len(trains), steps=max(t.steps for t in trains),
        part_steps={p.tasks[0]: p.train.steps for p in parts if p.train},
        examples=sum(t.examples for t in trains), seconds=sum(t.seconds for t in trains),
        trainable_parameters=trains[0].trainable_parameters)
    return ExperimentResult(run=name, recipe=parts[0].recipe, llm=parts[0].llm, tasks=tasks, per_task=True,
                            accuracy=merged["accuracy"], n=merged["n"],
                            majority={k: v for p in parts for k, v in p.majority.items()},
                            eval_examples_per_second=merged["examples_per_second"], samples=merged["samples"],
                            train=train_summary, data={p.tasks[0]: p.data for p in parts}, seed=parts[0].seed,
                            created=_now())


def load_model(run_dir: str | Path | None, recipe_name: str | None = None, llm_name: str = "smollm2-135m", llm=None,
               tokenizer=None, device: str = "auto"):
    """(model, recipe, tokenizer) of a trained run directory (recipe + trainable weights), or of an untrained
    recipe by name."""
    if run_dir is not None:
        run_dir = Path(run_dir)
        parts = per_task_parts(run_dir)
        if parts:
            raise GraphLLMError(f"{run_dir} holds one model per task; pass one of them: "
                                + ", ".join(str(run_dir / t) for t in parts))
        try:
            recipe = Recipe.model_validate_json((run_dir / "recipe.json").read_text())
        except (OSError, ValueError) as exc:
            raise GraphLLMError(f"{run_dir} is not a run directory ({exc.__class__.__name__}); train one first with "
                                "`graphllm train`") from None
    else:
        recipe = load_recipe(recipe_name)
        if recipe.trains:
            raise GraphLLMError(f"recipe {recipe.name!r} must be trained first (`graphllm train --recipe "
                                f"{recipe.name}`); then pass --run")
    llm, tokenizer = _llm(llm_name, llm, tokenizer, device)
    model = build_model(recipe, llm, tokenizer=tokenizer)
    if run_dir is not None and recipe.trains:
        load_trainable(model, run_dir / "trainable.safetensors")
    return model.eval(), recipe, tokenizer


def evaluate_run(run_dir: str | Path, data: ExperimentData, llm_name: str = "smollm2-135m", llm=None,
                 tokenizer=None, self_revise: int = 0, progress: bool = False, device: str = "auto",
                 new_llm=None) -> dict:
    """Re-evaluate a trained run from its directory (recipe + trainable weights), optionally with at most
    `self_revise` SelFee revision rounds per answer (see `graphllm.evaluate.evaluate`). A per-task run evaluates
    each task's model on that task's questions, each on its own LLM (`new_llm()`, or `llm_name` loaded anew)."""
    parts = per_task_parts(Path(run_dir))
    if parts:
        if llm is not None:
            raise ValueError("a per-task run needs an LLM per task: pass new_llm, not llm")
        scores = [evaluate_run(Path(run_dir) / task, data.of_task(task), llm_name, new_llm() if new_llm else None,
                               tokenizer, self_revise, progress, device) for task in parts]
        merged = _merge_scores(scores)
        if self_revise:
            merged["self_revision"] = {k: v for s in scores for k, v in s["self_revision"].items()}
            merged["seconds"] = sum(s["seconds"] for s in scores)
        return merged
    model, recipe, tokenizer = load_model(run_dir, None, llm_name, llm, tokenizer, device)
    return evaluate(model, data.test, collators(recipe, tokenizer, data.train)[1], tokenizer, progress=progress,
                    self_revise=self_revise)


def stored_result(run_dir: str | Path) -> ExperimentResult:
    """The result a trained run directory stored (`results.json`): its recipe, LLM, tasks and training."""
    path = Path(run_dir) / "results.json"
    if not path.is_file():
        raise GraphLLMError(f"{run_dir}: no readable results.json, which names the run's recipe and training; "
                            "train the run with `graphllm train` first")
    return read_result(path)  # a ResultError names the file and what is wrong with it


def store_evaluation(stored: ExperimentResult, run_name: str, data: ExperimentData, scores: dict,
                     results_dir: str | Path) -> Path:
    """`evaluate_run`'s scores as a result for the leaderboard: the run's `stored` result (recipe, LLM,
    training) with these scores, majority baseline and data. On the run's own questions it refreshes
    `<run>.json`; on other questions it goes to `<run>-test<N>.json` (N test questions in all), which the
    leaderboard tables apart, with the other runs on that sample."""
    fingerprint = ({task: data.of_task(task).fingerprint() for task in stored.tasks} if stored.per_task
                   else data.fingerprint())
    name = run_name if stored.data == fingerprint else f"{run_name}-test{sum(scores['n'].values())}"
    result = dataclasses.replace(stored, **_scored(scores, data), data=fingerprint, created=_now())
    path = Path(results_dir) / f"{name}.json"
    write_result(result, path)
    return path


def _merge_scores(scores: list[dict]) -> dict:
    """The scores of disjoint task sets (`evaluate`'s accuracy, n, samples, examples_per_second) as one."""
    seconds = sum(sum(s["n"].values()) / s["examples_per_second"] for s in scores if s["examples_per_second"])
    merged = {key: {k: v for s in scores for k, v in s[key].items()} for key in ("accuracy", "n")}
    merged["samples"] = [x for s in scores for x in s["samples"]]
    merged["examples_per_second"] = sum(merged["n"].values()) / seconds if seconds else 0.0
    return merged


def per_task_parts(run_dir: Path) -> list[str]:
    """The tasks of a per-task run directory (`run_per_task`), or [] for any other directory."""
    try:
        result = read_result(Path(run_dir) / "results.json")
    except ResultError:
        return []
    return list(result.tasks) if result.per_task else []
