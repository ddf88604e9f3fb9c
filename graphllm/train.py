"""The training loop, short enough to read in one sitting, and the only one: experiments train with it, and so do
the drafts (`graphllm distill`), each with its own loss, data and evaluation.

AdamW on the trainable parameters only, linear warmup then cosine decay (or a constant rate), gradient
accumulation and clipping, bf16 autocast on CUDA, periodic evaluation (validation loss with early stopping, or
the caller's own measure), and checkpoints that make a killed run resumable: a run resumed from its checkpoint
ends with the same weights as one that was never interrupted (same seed, same data order, same RNG state).

A checkpoint directory holds `trainable.safetensors` (only what is trained), `state.pt` (optimizer, step, RNG
states, history; read back with `weights_only=True`) and `train.json` (the config and the caller's settings, which
a resumed run must share), all written atomically.
"""

from __future__ import annotations

import json
import math
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from graphllm.config import TrainConfig
from graphllm.errors import GraphLLMError
from graphllm.fileio import atomic_write_text
from graphllm.tensorio import atomic_save_tensors, atomic_torch_save


class CheckpointError(GraphLLMError):
    pass


@dataclass
class History:
    step: int = 0
    train_loss: list[tuple[int, float]] = field(default_factory=list)
    val_loss: list[tuple[int, float]] = field(default_factory=list)
    best_val: float = math.inf
    bad_evals: int = 0
    seconds: float = 0.0  # of training steps, evaluations not included, summed over every resumed call
    examples: int = 0
    evaluations: list[dict] = field(default_factory=list)  # what `evaluate` returned, with its step


# What may change between a checkpoint and the call resuming it: how long to go on, and how often to look.
RESUMABLE = ("steps", "eval_every", "checkpoint_every", "patience", "bf16")


def learning_rate(step: int, config: TrainConfig) -> float:
    if step < config.warmup:
        return config.lr * (step + 1) / config.warmup
    if config.schedule == "constant":
        return config.lr
    progress = (step - config.warmup) / max(1, config.steps - config.warmup)
    return config.lr * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def set_learning_rate(optimizer, step: int, config: TrainConfig) -> None:
    for group in optimizer.param_groups:
        group["lr"] = learning_rate(step, config)


def batch_indices(n: int, batch_size: int, step: int, micro: int, accumulation: int, seed: int) -> list[int]:
    """The examples of one micro-batch: epochs are fixed permutations of the data, drawn from the seed, so
    the data order is a pure function of (seed, step) and a resumed run sees the same batches."""
    start = (step * accumulation + micro) * batch_size
    out = []
    for position in range(start, start + batch_size):
        epoch, offset = divmod(position, n)
        order = list(range(n))
        random.Random(f"{seed}:{epoch}").shuffle(order)
        out.append(order[offset])
    return out


def _save_checkpoint(model, optimizer, history: History, config: TrainConfig, settings: dict, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_save_tensors(out_dir / "trainable.safetensors", model.trainable_parameters())
    state = {"optimizer": optimizer.state_dict(), "history": asdict(history), "torch_rng": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():  # dropout on a GPU draws from its own generator
        state["cuda_rng"] = torch.cuda.get_rng_state_all()
    atomic_torch_save(out_dir / "state.pt", state)
    record = {"config": asdict(config), "settings": settings}
    atomic_write_text(out_dir / "train.json", json.dumps(record, indent=2) + "\n")


def checkpoint_record(out_dir: Path) -> dict | None:
    """The checkpoint's `train.json` ({"config", "settings"}), or None where there is no checkpoint."""
    path = Path(out_dir) / "train.json"
    if not (Path(out_dir) / "state.pt").exists():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"{path} cannot be read ({exc}); pass --restart to train afresh") from None
    return record if "config" in record else {"config": record, "settings": {}}  # written before settings existed


def check_resumable(out_dir: Path, config: TrainConfig, settings: dict | None = None) -> None:
    """Raise if the checkpoint in `out_dir` (if any) was trained with another config or other settings than
    these: going on from it would train something that no single run trains. A setting holding a digest (64 hex
    digits) is named as "other <name>"."""
    record = checkpoint_record(out_dir)
    if record is None:
        return
    config_now = {k: v for k, v in asdict(config).items() if k not in RESUMABLE and k in record["config"]}
    settings_now = settings or {}
    changed = [k for k in config_now if record["config"][k] != config_now[k]]
    changed += [k for k in sorted(set(settings_now) | set(record["settings"]))
                if record["settings"].get(k) != settings_now.get(k)]
    wanted, had = {**config_now, **settings_now}, {**record["config"], **record["settings"]}
    if changed:
        def describe(key: str) -> str:
            value = wanted.get(key)
            if isinstance(value, str) and len(value) == 64:
                return f"other {key}"
            return f"{key} {had.get(key)} -> {value}"
        raise CheckpointError(f"{out_dir} was trained with other settings ({', '.join(map(describe, changed))}); "
                              "pass --restart to train afresh, or the same settings to go on from it")


def load_trainable(model, path: Path) -> None:
    """Load trained parameters into a model built the same way; a clear error if they do not fit."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        weights = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path} is not a readable safetensors checkpoint ({exc}); "
                              "retrain or delete it") from None
    params = model.trainable_parameters()
    missing = sorted(set(params) - set(weights))
    unexpected = sorted(set(weights) - set(params))
    if missing or unexpected:
        raise CheckpointError(f"{path} does not fit this model: missing {missing[:3]}, unexpected {unexpected[:3]}; "
                              "was it trained with another recipe?")
    for name, tensor in weights.items():
        if params[name].shape != tensor.shape:
            raise CheckpointError(f"{path}: {name} has shape {tuple(tensor.shape)}, the model expects "
                                  f"{tuple(params[name].shape)}")
        with torch.no_grad():
            params[name].copy_(tensor)


def _read_state(out_dir: Path) -> dict:
    try:
        return torch.load(Path(out_dir) / "state.pt", weights_only=True, map_location="cpu")
    except Exception as exc:  # noqa: BLE001 - any unreadable state means the same thing to the user
        raise CheckpointError(f"{Path(out_dir) / 'state.pt'} cannot be read ({exc}); pass --restart to train "
                              "afresh") from None


def checkpoint_steps(out_dir: Path) -> int:
    """The optimizer steps the checkpoint in `out_dir` has trained."""
    return int(_read_state(out_dir)["history"]["step"])


def _resume(model, optimizer, out_dir: Path, config: TrainConfig) -> History:
    load_trainable(model, out_dir / "trainable.safetensors")
    state = _read_state(out_dir)
    optimizer.load_state_dict(state["optimizer"])
    torch.set_rng_state(state["torch_rng"])
    if "cuda_rng" in state and torch.cuda.is_available() and len(state["cuda_rng"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(state["cuda_rng"])
    history = History(**state["history"])
    if history.step > config.steps:
        raise CheckpointError(f"{out_dir} has already trained {history.step} steps, more than the {config.steps} "
                              f"asked for; ask for {history.step} or more, or pass --restart")
    history.train_loss = [tuple(x) for x in history.train_loss]
    history.val_loss = [tuple(x) for x in history.val_loss]
    return history


@torch.no_grad()
def validation_loss(model, examples, collator, batch_size: int) -> float:
    model.eval()
    device = next(model.parameters()).device
    total, count = 0.0, 0
    for start in range(0, len(examples), batch_size):
        chunk = examples[start:start + batch_size]
        total += model(collator(chunk).to(device)).loss.item() * len(chunk)
        count += len(chunk)
    model.train()
    return total / max(count, 1)


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's generators (every device): call it before a model is built, so that
    its initial weights, and not only the data order, follow from the seed."""
    import numpy as np

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _on(batch, device):
    return batch.to(device) if hasattr(batch, "to") else batch


def _model_loss(model, batch) -> torch.Tensor:
    return model(batch).loss


def train(model, train_examples: list, val_examples: list, collator, config: TrainConfig, out_dir: str | Path | None,
          resume: bool = True, progress: bool = True, stop_after: int | None = None, accelerator=None,
          loss=_model_loss, evaluate=None, settings: dict | None = None, description: str = "training") -> History:
    """Train until `config.steps` (or early stopping). `stop_after` ends the call after that many steps, as a
    kill would, which is how resuming is tested.

    Args:
        model: a module with `trainable_parameters()` (name -> parameter), the only ones the optimizer sees.
        train_examples: drawn in fixed per-epoch permutations of the seed (`batch_indices`).
        val_examples: where non-empty, the mean loss on them every `eval_every` steps (`History.val_loss`), which
            early stopping (`patience`) reads.
        collator: makes a batch of a list of examples (None: the list itself is the batch).
        out_dir: checkpoint directory (None: no checkpoints); with `resume`, a checkpoint there is resumed, after
            `check_resumable` with `settings`.
        loss: `loss(model, batch)`, a scalar tensor; the model's own `.loss` by default.
        evaluate: `evaluate(model, history)`, a dict recorded every `eval_every` steps in `History.evaluations`.
        settings: what besides the config a resumed run must share with its checkpoint (e.g. a digest of the data).
        accelerator: an `accelerate.Accelerator` of N processes: each takes every N-th micro-batch of what one
            process with N times the accumulation would take, and gradients are averaged: the same training, split.
    """
    out_dir = Path(out_dir) if out_dir is not None else None
    torch.manual_seed(config.seed)
    device = next(model.parameters()).device
    params = list(model.trainable_parameters().values())
    if not params:
        raise GraphLLMError("this model has no trainable parameters: choose a recipe that trains something")
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    history = History()
    if out_dir is not None and resume and (out_dir / "state.pt").exists():
        check_resumable(out_dir, config, settings)
        history = _resume(model, optimizer, out_dir, config)
    world, rank, main = 1, 0, True
    forward = model
    if accelerator is not None:
        world, rank, main = accelerator.num_processes, accelerator.process_index, accelerator.is_main_process
        device = accelerator.device
        forward, optimizer = accelerator.prepare(model, optimizer)
    autocast = device.type == "cuda" and config.bf16
    model.train()
    bar = None
    if progress and main:
        from tqdm import tqdm

        bar = tqdm(total=config.steps, initial=history.step, unit="step", desc=description, leave=False)
    steps_this_call = 0
    while history.step < config.steps:
        started = time.perf_counter()
        set_learning_rate(optimizer, history.step, config)
        loss_sum = 0.0
        for micro in range(config.accumulation):
            index = batch_indices(len(train_examples), config.batch_size, history.step, micro * world + rank,
                                  config.accumulation * world, config.seed)
            examples = [train_examples[i] for i in index]
            batch = _on(collator(examples) if collator is not None else examples, device)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=autocast):
                step_loss = loss(forward, batch) / config.accumulation
            step_loss.backward() if accelerator is None else accelerator.backward(step_loss)
            loss_sum += step_loss.item()
            history.examples += len(index) * world
        if config.grad_clip:
            torch.nn.utils.clip_grad_norm_(params, config.grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        history.step += 1
        steps_this_call += 1
        history.train_loss.append((history.step, loss_sum))
        history.seconds += time.perf_counter() - started
        if bar:
            bar.update(1)
            bar.set_postfix(loss=f"{loss_sum:.3f}")
        stop = False
        if history.step % config.eval_every == 0 or history.step == config.steps:
            if evaluate is not None:
                history.evaluations.append({"step": history.step, **evaluate(model, history)})
                model.train()
            if val_examples:
                val = validation_loss(model, val_examples, collator, config.batch_size)
                history.val_loss.append((history.step, val))
                if val < history.best_val - 1e-4:
                    history.best_val, history.bad_evals = val, 0
                else:
                    history.bad_evals += 1
                    stop = config.patience is not None and history.bad_evals >= config.patience
        if main and out_dir is not None and (history.step % config.checkpoint_every == 0
                                             or history.step == config.steps or stop):
            _save_checkpoint(model, optimizer, history, config, settings or {}, out_dir)
        if stop or (stop_after is not None and steps_this_call >= stop_after):
            break
    if bar:
        bar.close()
    return history
