"""Distilling the small draft from the target: at every text position of GraphQA prompts and answers, the draft
learns the target's next-token distribution (KL(target || draft)), which is what speculative decoding asks of
it. The loop is the project's one (`graphllm.train.train`); this module gives it the loss, and registers how
`graphllm distill --draft distilled` trains the draft."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F

from graphllm.inference.drafts.distilled.config import DistillConfig
from graphllm.inference.drafts.registry import DraftTraining, at_least_one, register_trainer
from graphllm.models.graph_llm import GraphLLM
from graphllm.train import seed_everything, train


@dataclass
class DistillHistory:
    kl: list[float] = field(default_factory=list)  # per step, on that step's batch
    seconds: float = 0.0


def text_kl(target_logits: torch.Tensor, draft_logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    r"""Mean :math:`\mathrm{KL}(p_{target} \| p_{draft})` over the text positions.

    Args:
        target_logits, draft_logits: ``[B, S + T, V]``, where the first S positions are soft tokens (skipped: the
            two models may have different numbers of them) and the last T are text.
        mask: ``[B, T]``, 1 at real text positions, 0 at padding.
    """
    length = mask.shape[1]
    t = F.log_softmax(target_logits[:, -length:].float(), -1)
    d = F.log_softmax(draft_logits[:, -length:].float(), -1)
    kl = (t.exp() * (t - d)).sum(-1)
    return (kl * mask).sum() / mask.sum()


def distill(target: GraphLLM, draft: GraphLLM, examples: list, collator, config: DistillConfig,
            progress: bool = False, checkpoint: Path | None = None) -> DistillHistory:
    """Train `draft` to match `target` on `examples` (made batches by `collator`); with `checkpoint` (a directory)
    the training state is saved there as it goes, and a stopped run goes on from it."""
    target.eval()

    def loss(model, batch):
        batch = dataclasses.replace(batch, labels=None)  # logits at every text position, not just the answer's
        with torch.no_grad():
            teacher = target(batch).logits
        return text_kl(teacher, model(batch).logits, batch.attention_mask.float())

    history = train(draft, examples, [], collator, config.train_config(), checkpoint, progress=progress, loss=loss,
                    settings={"layers": config.layers}, description="distilling")
    draft.eval()
    return DistillHistory(kl=[value for _, value in history.train_loss], seconds=history.seconds)


def distill_to(target: GraphLLM, recipe, tokenizer, examples: list, config: DistillConfig, out: Path,
               tasks: list[str], progress: bool = False, restart: bool = False) -> DistillHistory:
    """`graphllm distill`: build the draft for `recipe`, distil it on `examples` (checkpointed in `out/training`,
    so an interrupted run goes on; `restart` starts afresh) and save it in `out`."""
    import shutil

    from graphllm.data.collate import GraphCollator
    from graphllm.inference.drafts.distilled.model import build_draft_model, save_draft

    checkpoint = Path(out) / "training"
    if restart:
        shutil.rmtree(checkpoint, ignore_errors=True)
    seed_everything(config.seed)  # the draft's fresh GNN and bridge start from the seed
    draft = build_draft_model(target, recipe, config.layers)
    collator = GraphCollator(tokenizer, "train", include_graph_text=recipe.include_graph_text,
                             system_prompt=recipe.system_prompt)
    history = distill(target, draft, examples, collator, config, progress=progress, checkpoint=checkpoint)
    save_draft(draft, out, {"layers": config.layers, "steps": config.steps, "kl_first": history.kl[0],
                            "kl_last": history.kl[-1], "seconds": history.seconds, "tasks": tasks})
    return history


def _declare(group) -> None:
    group.add_argument("--layers", type=int, default=4,
                       help="decoder layers of the target the draft copies (default %(default)s)")
    group.add_argument("--steps", type=int, default=100, help="optimizer steps (default %(default)s)")
    group.add_argument("--batch-size", type=int, default=4, help="batch size (default %(default)s)")


def _check(options) -> None:
    at_least_one(options, "layers", "steps", "batch_size")


@register_trainer("distilled", needs_run=True, folder="draft", declare=_declare, check=_check,
                  summary="the first K layers of the run's LLM with their own GNN and bridge, trained to match the "
                          "run's next-token distributions on GraphQA prompts and answers (needs --run)")
def train_distilled_draft(job: DraftTraining) -> str:
    """`graphllm distill --draft distilled`: `distill_to` on the first `train_examples` GraphQA training examples
    of each task."""
    from graphllm.data.graphqa.splits import load_examples

    options = job.options
    data = load_examples(options.data, options.tasks, options.train_examples, 0, 0)
    config = DistillConfig(layers=options.layers, steps=options.steps, batch_size=options.batch_size,
                           lr=options.lr if options.lr is not None else DistillConfig.lr,
                           seed=options.seed if options.seed is not None else DistillConfig.seed)
    history = distill_to(job.target, job.recipe, job.tokenizer, data.train, config, job.out, options.tasks,
                         progress=job.progress, restart=options.restart)
    return (f"KL(target || draft) {history.kl[0]:.3f} -> {history.kl[-1]:.3f} in {history.seconds:.0f} s; "
            f"draft saved to {job.out} (use it with --draft distilled)")
