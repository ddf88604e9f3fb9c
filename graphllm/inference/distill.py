"""Distilling the small draft from the target: at every text position of GraphQA prompts and answers, the draft
learns the target's next-token distribution (KL(target || draft)), which is what speculative decoding asks of
it. Short enough to read in one sitting, like train.py."""

from __future__ import annotations

import dataclasses
import random
import time
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from graphllm.models.graph_llm import GraphLLM


@dataclass
class DistillConfig:
    layers: int = 4
    steps: int = 100
    batch_size: int = 4
    lr: float = 3e-4
    seed: int = 0


@dataclass
class DistillHistory:
    kl: list[float] = field(default_factory=list)
    seconds: float = 0.0


def text_kl(target_logits: torch.Tensor, draft_logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean KL(target || draft) over the text positions (soft tokens, if any, come first and are skipped)."""
    length = mask.shape[1]
    t = F.log_softmax(target_logits[:, -length:].float(), -1)
    d = F.log_softmax(draft_logits[:, -length:].float(), -1)
    kl = (t.exp() * (t - d)).sum(-1)
    return (kl * mask).sum() / mask.sum()


def distill(target: GraphLLM, draft: GraphLLM, examples: list, collator, config: DistillConfig,
            progress: bool = False) -> DistillHistory:
    torch.manual_seed(config.seed)
    rng = random.Random(config.seed)
    target.eval()
    draft.train()
    params = list(draft.trainable_parameters().values())
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=0.0)
    history = DistillHistory()
    steps = range(config.steps)
    if progress:
        from tqdm import tqdm

        steps = tqdm(steps, unit="step", desc="distilling")
    start = time.perf_counter()
    device = next(draft.parameters()).device
    for _ in steps:
        batch = collator(rng.sample(examples, min(config.batch_size, len(examples)))).to(device)
        batch = dataclasses.replace(batch, labels=None)  # logits at every text position, not just the answer's
        with torch.no_grad():
            teacher = target(batch).logits
        loss = text_kl(teacher, draft(batch).logits, batch.attention_mask.float())
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        history.kl.append(loss.item())
        if progress:
            steps.set_postfix(kl=f"{loss.item():.3f}")
    history.seconds = time.perf_counter() - start
    draft.eval()
    return history


def distill_to(target: GraphLLM, recipe, tokenizer, examples: list, config: DistillConfig, out, tasks: list[str],
               progress: bool = False) -> DistillHistory:
    """`graphllm distill`: build the draft for `recipe`, distil it on `examples` and save it in `out`."""
    from graphllm.data.collate import GraphCollator
    from graphllm.inference.drafts.distilled import build_draft_model, save_draft

    draft = build_draft_model(target, recipe, config.layers)
    collator = GraphCollator(tokenizer, "train", include_graph_text=recipe.include_graph_text,
                             system_prompt=recipe.system_prompt)
    history = distill(target, draft, examples, collator, config, progress=progress)
    save_draft(draft, out, {"layers": config.layers, "steps": config.steps, "kl_first": history.kl[0],
                            "kl_last": history.kl[-1], "seconds": history.seconds, "tasks": tasks})
    return history
