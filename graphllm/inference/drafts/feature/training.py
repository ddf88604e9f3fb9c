"""Training the feature draft (`model.py`) on the target's own answers, as EAGLE does.

1. The target answers the training prompts (greedy; with the n-gram draft, which changes nothing but time),
   and the passes that decode them give its last hidden states f_t along prompt and answer, its input
   embeddings and its greedy next tokens (`target_answers.py`, which keeps the answers so that a second run
   answers only new prompts).
2. The draft learns, at every position, f_{t+1} from (f_{<=t}, e_{<=t+1}) (smooth L1, with a little noise on
   its input features) and the target's token from its predicted feature through the target's head
   (cross-entropy). Deeper in the tree it reads its own predicted features, so training unrolls the way
   decoding runs (a "training-time test", as in HASS and EAGLE-3): step d feeds the features predicted at step
   d-1, each seeing the target's features of the context and its own chain of predictions (`_unroll`).
The same unrolled pass, without noise, measures the draft on held-out answers as decoding would use it: how
many tokens in a row a chain of its guesses gets right from each position of an answer (`chain_acceptance`),
after every epoch. The loop is the project's one (`graphllm.train.train`, one sequence per step, checkpointed after
every epoch so a stopped run goes on from its last); this module gives it the loss and the measure, and registers
how `graphllm distill --draft feature` trains the draft.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F

from graphllm.errors import GraphLLMError
from graphllm.inference.attention import additive_mask
from graphllm.inference.drafts.feature.config import FeatureDistillConfig
from graphllm.inference.drafts.feature.model import FeatureDraftModel
from graphllm.inference.drafts.registry import DraftTraining, at_least_one, register_trainer
from graphllm.inference.target_answers import Sequence, target_sequences
from graphllm.train import check_resumable, checkpoint_record, checkpoint_steps, train

__all__ = ["FeatureDistillConfig", "Sequence", "chain_acceptance", "check_checkpoint", "target_sequences",
           "train_feature_draft"]


@dataclass
class FeatureDistillHistory:
    loss: list[float] = field(default_factory=list)
    accuracy: float = 0.0  # top-1 agreement with the target's next-next token on held-out answers
    answer_tokens: int = 0
    # Held out, per chain depth d: the share of answer positions from which the first d guesses are all right;
    # 1 + their sum is the expected tokens per target pass with a chain of that depth.
    chain: list[float] = field(default_factory=list)
    seconds: float = 0.0  # of training, summed over the epochs of every run that resumed
    # per epoch: {"epoch", "loss" (mean), "accuracy", "chain", "seconds"}, measured on the held-out answers
    epochs: list[dict] = field(default_factory=list)


def vocabulary_of(sequences: list[Sequence], limit: int) -> torch.Tensor:
    counts = Counter()
    for s in sequences:
        counts.update(s.predictions.tolist())
    return torch.tensor(sorted(t for t, _ in counts.most_common(limit)), dtype=torch.long)


def _unroll(draft: FeatureDraftModel, s: Sequence, depth: int, noise: float = 0.0
            ) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Per chain step d = 1..depth: (indices i, predicted features [n_d, H], logits [n_d, |S|]); each entry
    predicts the target's feature at i + 1 and its token `predictions[i + 1]`.

    Step 1 runs on the target's features: input (f_i, e_{i+1}) at position i, causal. Step d > 1 runs only from the
    answer on: its input at i is step d-1's prediction at i - 1 with e_{i+1}, and it sees what it would see in a
    tree -- the target's inputs up to i - d + 1 (the committed context) and its chain of ancestors, one per
    earlier step. Steps > 1 append to step 1's cache, so the context's keys and values are computed once."""
    from transformers import DynamicCache

    n, device = len(s.predictions) - 1, s.features.device
    features = s.features[:n] + noise * torch.randn_like(s.features[:n]) if noise else s.features[:n]
    causal = torch.ones(n, n, dtype=torch.bool, device=device).tril()
    cache = DynamicCache() if depth > 1 else None
    hidden, logits = draft(features[None], s.embeds[1:n + 1][None], additive_mask(causal, features.dtype)[None, None],
                           s.positions[:n][None], cache)
    steps = [(torch.arange(n, device=device), hidden[0], logits[0])]
    first = max(s.answer_start - 1, 0)  # the first committed index whose draft tokens are answer tokens
    widths = [n]
    for d in range(2, depth + 1):
        index = torch.arange(first + d - 1, n, device=device)
        if len(index) == 0:
            break
        previous_index, previous_hidden, _ = steps[-1]
        parent = previous_hidden[index - 1 - previous_index[0]]
        seen = torch.zeros(len(index), sum(widths) + len(index), dtype=torch.bool, device=device)
        seen[:, :n] = torch.arange(n, device=device)[None, :] <= (index - d + 1)[:, None]
        rows, offset = torch.arange(len(index), device=device), n
        for e, width in enumerate(widths[1:] + [len(index)], start=2):  # the ancestor made at step e, and itself
            seen[rows, offset + index - d + e - (first + e - 1)] = True
            offset += width
        hidden, logits = draft(parent[None], s.embeds[index + 1][None], additive_mask(seen, parent.dtype)[None, None],
                               s.positions[index][None], cache)
        steps.append((index, hidden[0], logits[0]))
        widths.append(len(index))
    return steps


def _loss(draft: FeatureDraftModel, s: Sequence, lookup: torch.Tensor, config: FeatureDistillConfig) -> torch.Tensor:
    total = 0.0
    for index, predicted, logits in _unroll(draft, s, config.unroll, config.noise):
        labels = lookup[s.predictions[index + 1]]  # the target's token after the predicted feature's position
        known = labels >= 0
        total = total + F.smooth_l1_loss(predicted, s.features[index + 1])
        if bool(known.any()):
            total = total + config.token_weight * F.cross_entropy(logits[known], labels[known])
    return total


@torch.no_grad()
def chain_positions(draft: FeatureDraftModel, s: Sequence, depth: int) -> tuple[int, torch.Tensor]:
    """(first committed answer position, right [depth, n]): right[d - 1, c] says whether the d-th guess of a greedy
    chain grown from committed position c (the root being the token at c + 1) is the target's token."""
    start, n = max(s.answer_start - 1, 0), len(s.predictions) - 1
    right = torch.zeros(depth, max(n, 0), dtype=torch.bool, device=s.features.device)
    if n > start:
        for d, (index, _, logits) in enumerate(_unroll(draft, s, depth), start=1):
            keep = index >= start + d - 1
            guesses = draft.vocabulary[logits[keep].argmax(-1)]
            right[d - 1, index[keep] - d + 1] = guesses == s.predictions[index[keep] + 1]
    return start, right


def chain_acceptance(draft: FeatureDraftModel, sequences: list[Sequence], depth: int = 4
                     ) -> tuple[list[float], float, int]:
    """On the answers of `sequences`: (per depth d, the share of committed positions from which a greedy chain
    of d draft tokens is all right; top-1 agreement of the first guess; answer positions counted)."""
    all_right = [0] * depth
    positions = 0
    for s in sequences:
        start, right = chain_positions(draft, s, depth)
        n = right.shape[1]
        if n <= start:
            continue
        chain = right[:, start:n].cumprod(0)
        positions += n - start
        for d in range(depth):
            all_right[d] += int(chain[d].sum())
    share = [r / positions for r in all_right] if positions else [0.0] * depth
    return share, share[0], positions


def train_feature_draft(model, sequences: list[Sequence], config: FeatureDistillConfig, progress: bool = False,
                        checkpoint: Path | None = None, log=None) -> tuple[FeatureDraftModel, FeatureDistillHistory]:
    """Train for `config.epochs` epochs on the project's one loop, measuring the held-out answers after each. With
    `checkpoint` (a directory), the training state is saved there after every epoch, and a run finding one goes on
    from it: it ends with the same draft as a run never stopped, and asking for more epochs continues training."""
    test, train_set = _split(sequences, config)
    torch.manual_seed(config.seed)  # the layer's initialisation
    draft = FeatureDraftModel(model.llm, vocabulary_of(train_set, config.max_vocabulary)).train()
    lookup = torch.full((draft.vocab_size,), -1, dtype=torch.long, device=draft.vocabulary.device)
    lookup[draft.vocabulary] = torch.arange(len(draft.vocabulary), device=draft.vocabulary.device)
    if checkpoint is not None:
        done = check_checkpoint(checkpoint, config, sequences)
        if done is not None and log:
            log(f"resuming from {checkpoint} after epoch {done} of {config.epochs}")

    def loss(draft, batch):  # a batch is one sequence
        return _loss(draft, batch[0], lookup, config)

    def evaluate(draft, history):
        draft.eval()
        chain, accuracy, answer_tokens = chain_acceptance(draft, test)
        losses = [value for _, value in history.train_loss[-len(train_set):]]
        record = {"epoch": history.step // len(train_set), "loss": sum(losses) / max(len(losses), 1),
                  "accuracy": accuracy, "chain": chain, "seconds": history.seconds, "answer_tokens": answer_tokens}
        if log:
            log(f"epoch {record['epoch']}/{config.epochs}: loss {record['loss']:.3f}; held out, first guess right "
                f"{accuracy:.1%}, {1 + sum(chain[:3]):.2f} tokens per pass for a chain of 3")
        return record

    history = train(draft, train_set, [], None, config.train_config(len(train_set)), checkpoint, progress=progress,
                    loss=loss, evaluate=evaluate, settings=_settings(config, sequences),
                    description="training the feature draft")
    draft.eval()
    result = FeatureDistillHistory(loss=[value for _, value in history.train_loss], seconds=history.seconds,
                                   epochs=[{k: v for k, v in e.items() if k not in ("step", "answer_tokens")}
                                           for e in history.evaluations])
    if history.evaluations:
        last = history.evaluations[-1]
        result.chain, result.accuracy, result.answer_tokens = last["chain"], last["accuracy"], last["answer_tokens"]
    else:  # no epochs asked for: the untrained draft's figures
        result.chain, result.accuracy, result.answer_tokens = chain_acceptance(draft, test)
    return draft, result


def _held_out(count: int, config: FeatureDistillConfig) -> int:
    return max(1, round(count * config.held_out)) if count > 1 else 0


def _split(sequences: list, config: FeatureDistillConfig) -> tuple[list, list]:
    """(held out, trained on): a share `config.held_out` of the sequences, drawn from the seed."""
    order = list(range(len(sequences)))
    random.Random(config.seed).shuffle(order)
    held = _held_out(len(order), config)
    return [sequences[i] for i in order[:held]], [sequences[i] for i in order[held:]]


def _settings(config: FeatureDistillConfig, sequences: list[Sequence]) -> dict:
    """What a checkpoint and the run resuming it must share beside the loop's config. The answers' digest covers
    the target too: another target, or other prompts, give other answers."""
    digest = hashlib.sha256()
    for s in sequences:
        digest.update(f"{s.answer_start}:{s.predictions.tolist()};".encode())
    return {**config.settings(), "sequences": len(sequences), "answers of the target": digest.hexdigest()}


def check_checkpoint(path: Path, config: FeatureDistillConfig, sequences: list[Sequence] | None = None) -> int | None:
    """The epochs done by the checkpoint in directory `path` (None: there is none), after raising what resuming
    from it would raise: other settings, or more epochs done than asked for. Without `sequences` it checks what
    it can before the answers are rebuilt for it (at full size that takes minutes)."""
    record = checkpoint_record(path)
    if record is None:
        return None
    known = record["settings"]
    settings = _settings(config, sequences) if sequences is not None else {
        **config.settings(), **{k: known[k] for k in ("sequences", "answers of the target") if k in known}}
    check_resumable(path, config.train_config(1), settings)
    count = known.get("sequences", 0)
    done = checkpoint_steps(path) // max(count - _held_out(count, config), 1)
    if done > config.epochs:
        raise GraphLLMError(f"{path} has already trained {done} epochs, more than the {config.epochs} asked for; "
                            f"ask for {done} or more, or pass --restart")
    return done


def distill_features_to(model, recipe, tokenizer, out: Path, config: FeatureDistillConfig, prompts: int,
                        tasks: list[str], max_new_tokens: int, restart: bool = False, progress: bool = False,
                        log=print):
    """`graphllm distill --draft feature`: the target answers `prompts` long-answer requests (kept in
    `out/answers.json`, so an interrupted run answers only the rest), the draft trains on them (checkpointed per
    epoch in `out/training/`; `restart` starts afresh) and is saved in `out`. Returns (draft, history, answers)."""
    import shutil

    from graphllm.data.collate import GraphCollator
    from graphllm.data.graphqa.long_answers import TRAINING_REQUESTS, long_answer_prompts
    from graphllm.inference.config import end_of_turn_ids
    from graphllm.inference.drafts.feature.model import save_feature_draft

    requests = long_answer_prompts(prompts, seed=config.seed, requests=TRAINING_REQUESTS, tasks=tuple(tasks),
                                   encoders=("adjacency", "incident"))
    collator = GraphCollator(tokenizer, "generate", include_graph_text=recipe.include_graph_text,
                             system_prompt=recipe.system_prompt)
    out.mkdir(parents=True, exist_ok=True)
    checkpoint = out / "training"
    if restart:
        shutil.rmtree(checkpoint, ignore_errors=True)
    check_checkpoint(checkpoint, config)
    sequences = target_sequences(model, requests, collator, max_new_tokens, end_of_turn_ids(tokenizer),
                                 progress=progress, keep=out / "answers.json", log=log)
    draft, history = train_feature_draft(model, sequences, config, progress=progress, checkpoint=checkpoint, log=log)
    save_feature_draft(draft, out, {"prompts": prompts, "epochs": config.epochs, "tasks": tasks,
                                    "vocabulary": len(draft.vocabulary), "loss_last": history.loss[-1],
                                    "held_out_accuracy": history.accuracy, "held_out_chain": history.chain,
                                    "held_out_by_epoch": history.epochs, "unroll": config.unroll,
                                    "seconds": history.seconds})
    return draft, history, len(sequences)


def _declare(group) -> None:
    group.add_argument("--prompts", type=int, default=960,
                       help="long-answer prompts the target answers for training (default %(default)s; "
                            "more prompts, more tokens per pass: the Benchmarks page has the figures). The answers "
                            "are kept in OUT/answers.json as they come: a run that was interrupted, or that trains "
                            "again with other settings, answers only the prompts not answered yet")
    group.add_argument("--max-new-tokens", type=int, default=128, help="answer length (default %(default)s)")
    group.add_argument("--epochs", type=int, default=10,
                       help="passes over the answers (default %(default)s). The draft is measured on the "
                            "held-out answers and its training state saved to OUT/training/ after every epoch: a run "
                            "that was stopped goes on from its last epoch, and a finished one trains on when asked "
                            "for more epochs")


def _check(options) -> None:
    at_least_one(options, "prompts", "max_new_tokens", "epochs")


@register_trainer("feature", folder="feature-draft", declare=_declare, check=_check,
                  summary="one decoder layer on the target's own last hidden states (EAGLE), trained on the "
                          "target's answers to long-answer requests about generated graphs (--run or --recipe)")
def train_feature_draft_for(job: DraftTraining) -> str:
    """`graphllm distill --draft feature`: `distill_features_to` with the command line's options (the seed is that
    of the training graphs: 11 unless given, while `graphllm bench decode` measures on graphs of seed 0)."""
    options = job.options
    config = FeatureDistillConfig(epochs=options.epochs, lr=options.lr if options.lr is not None else
                                  FeatureDistillConfig.lr, seed=options.seed if options.seed is not None else 11)
    draft, history, answers = distill_features_to(
        job.target, job.recipe, job.tokenizer, job.out, config, options.prompts, options.tasks,
        options.max_new_tokens, restart=options.restart, progress=job.progress, log=job.log)
    chains = ", ".join(f"{1 + sum(history.chain[:d]):.2f} at depth {d}" for d in range(1, len(history.chain) + 1))
    return (f"{answers} target answers; on {history.answer_tokens} held-out answer positions the draft's first "
            f"guess is the target's token {history.accuracy:.1%} of the time, and a chain of guesses would give "
            f"{chains} tokens per target pass ({len(draft.vocabulary)} token vocabulary, {history.seconds:.0f} s "
            f"of training); saved to {job.out} (use it with --draft feature:{job.out})")
