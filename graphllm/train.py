"""The training loop, short enough to read in one sitting.

AdamW on the trainable parameters only, linear warmup then cosine decay, gradient accumulation and
clipping, bf16 autocast on CUDA, periodic validation loss with early stopping, and checkpoints that make
a killed run resumable: a run resumed from its checkpoint ends with the same weights as one that was
never interrupted (same seed, same data order, same RNG state).

A checkpoint directory holds `trainable.safetensors` (only what is trained), `state.pt` (optimizer,
step, RNG states, history; read back with `weights_only=True`) and `train.json` (the config).
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
    seconds: float = 0.0
    examples: int = 0


def learning_rate(step: int, config: TrainConfig) -> float:
    if step < config.warmup:
        return config.lr * (step + 1) / config.warmup
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


def _save_checkpoint(model, optimizer, history: History, config: TrainConfig, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_save_tensors(out_dir / "trainable.safetensors", model.trainable_parameters())
    state = {"optimizer": optimizer.state_dict(), "history": asdict(history), "torch_rng": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():  # dropout on a GPU draws from its own generator
        state["cuda_rng"] = torch.cuda.get_rng_state_all()
    atomic_torch_save(out_dir / "state.pt", state)
    atomic_write_text(out_dir / "train.json", json.dumps(asdict(config), indent=2) + "\n")


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


def _resume(model, optimizer, out_dir: Path) -> History:
    load_trainable(model, out_dir / "trainable.safetensors")
    try:
        state = torch.load(out_dir / "state.pt", weights_only=True, map_location="cpu")
    except Exception as exc:  # noqa: BLE001 - any unreadable state means the same thing to the user
        raise CheckpointError(f"{out_dir / 'state.pt'} cannot be read ({exc}); delete the run directory to start "
                              "over") from None
    optimizer.load_state_dict(state["optimizer"])
    torch.set_rng_state(state["torch_rng"])
    if "cuda_rng" in state and torch.cuda.is_available() and len(state["cuda_rng"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(state["cuda_rng"])
    history = History(**state["history"])
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


def train(model, train_examples: list, val_examples: list, collator, config: TrainConfig, out_dir: str | Path,
          resume: bool = True, progress: bool = True, stop_after: int | None = None, accelerator=None) -> History:
    """Train until `config.steps` (or early stopping). `stop_after` ends the call after that many steps, as a
    kill would, which is how resuming is tested.

    With an `accelerate.Accelerator` of N processes, each process takes every N-th micro-batch of what one
    process with N times the accumulation would take, and gradients are averaged: the same training, split.
    """
    out_dir = Path(out_dir)
    torch.manual_seed(config.seed)
    device = next(model.parameters()).device
    params = list(model.trainable_parameters().values())
    if not params:
        raise GraphLLMError("this model has no trainable parameters: choose a recipe that trains something")
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    history = History()
    if resume and (out_dir / "state.pt").exists():
        history = _resume(model, optimizer, out_dir)
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

        bar = tqdm(total=config.steps, initial=history.step, unit="step", desc="training", leave=False)
    started, steps_this_call = time.perf_counter(), 0
    while history.step < config.steps:
        set_learning_rate(optimizer, history.step, config)
        loss_sum = 0.0
        for micro in range(config.accumulation):
            index = batch_indices(len(train_examples), config.batch_size, history.step, micro * world + rank,
                                  config.accumulation * world, config.seed)
            batch = collator([train_examples[i] for i in index]).to(device)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=autocast):
                loss = forward(batch).loss / config.accumulation
            loss.backward() if accelerator is None else accelerator.backward(loss)
            loss_sum += loss.item()
            history.examples += len(index) * world
        if config.grad_clip:
            torch.nn.utils.clip_grad_norm_(params, config.grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        history.step += 1
        steps_this_call += 1
        history.train_loss.append((history.step, loss_sum))
        if bar:
            bar.update(1)
            bar.set_postfix(loss=f"{loss_sum:.3f}")
        stop = False
        if val_examples and (history.step % config.eval_every == 0 or history.step == config.steps):
            val = validation_loss(model, val_examples, collator, config.batch_size)
            history.val_loss.append((history.step, val))
            if val < history.best_val - 1e-4:
                history.best_val, history.bad_evals = val, 0
            else:
                history.bad_evals += 1
                stop = config.patience is not None and history.bad_evals >= config.patience
        if main and (history.step % config.checkpoint_every == 0 or history.step == config.steps or stop):
            history.seconds += time.perf_counter() - started
            started = time.perf_counter()
            _save_checkpoint(model, optimizer, history, config, out_dir)
        if stop or (stop_after is not None and steps_this_call >= stop_after):
            break
    if bar:
        bar.close()
    return history
