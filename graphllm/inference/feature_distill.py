"""Training the feature draft (drafts/feature.py) on the target's own answers, as EAGLE does.

1. The target answers the training prompts (greedy; with the n-gram draft, which changes nothing but time).
2. One teacher-forced pass per prompt + answer gives the target's last hidden states f_t, its input embeddings
   and its greedy next tokens.
3. The draft learns, at every position, f_{t+1} from (f_{<=t}, e_{<=t+1}) (smooth L1, with a little noise on
   its input features, as it will read its own imperfect predictions deeper in the tree) and the target's token
   from its predicted feature through the target's head (cross-entropy, weight 0.1).
Short enough to read in one sitting, like train.py.
"""

from __future__ import annotations

import dataclasses
import random
import time
from collections import Counter
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from graphllm.inference.config import GenerationConfig, TreeShape
from graphllm.inference.drafts.feature import FeatureDraftModel
from graphllm.inference.drafts.ngram import NGramDraft
from graphllm.inference.speculative import speculative_generate


@dataclass
class FeatureDistillConfig:
    epochs: int = 10
    lr: float = 5e-4
    noise: float = 0.05  # std of the noise on input features
    max_vocabulary: int = 16_384  # the draft proposes the most frequent tokens of the training text only
    held_out: float = 0.125  # share of the sequences kept out of training to measure the draft
    seed: int = 0


@dataclass
class Sequence:
    features: torch.Tensor  # [T, H] target's last hidden states
    embeds: torch.Tensor  # [T, H] its input embeddings (soft tokens included)
    positions: torch.Tensor  # [T]
    predictions: torch.Tensor  # [T] target's greedy next token at each position
    answer_start: int  # first position whose prediction is a generated token's successor


@dataclass
class FeatureDistillHistory:
    loss: list[float] = field(default_factory=list)
    accuracy: float = 0.0  # top-1 agreement with the target's next-next token on held-out answers
    answer_tokens: int = 0
    seconds: float = 0.0


@torch.no_grad()
def target_sequences(model, prompts: list, collator, max_new_tokens: int, stop_ids: list[int], batch_size: int = 8,
                     progress: bool = False) -> list[Sequence]:
    """The target's answers to `prompts` and its features along prompt + answer."""
    config = GenerationConfig(max_new_tokens=max_new_tokens, stop_ids=stop_ids)
    chunks = [prompts[i:i + batch_size] for i in range(0, len(prompts), batch_size)]
    if progress:
        from tqdm import tqdm

        chunks = tqdm(chunks, unit="batch", desc="target answers")
    sequences = []
    for chunk in chunks:
        answers = speculative_generate(model, collator(chunk), NGramDraft(), config, TreeShape.parse("1,1,3,1,1"))
        for example, answer in zip(chunk, answers, strict=True):
            one = collator([example])
            tokens = torch.tensor([answer], dtype=torch.long)
            one = dataclasses.replace(one, input_ids=torch.cat([one.input_ids, tokens], dim=1),
                                      attention_mask=torch.cat([one.attention_mask, torch.ones_like(tokens)], dim=1),
                                      labels=None)
            x = model.prepare(one)
            out = model._call(x.inputs_embeds, None, x.attention_mask, x.position_ids, x.cache, use_cache=False,
                              output_hidden_states=True)
            length = x.inputs_embeds.shape[1]
            sequences.append(Sequence(out.hidden_states[-1][0], x.inputs_embeds[0], x.position_ids[0],
                                      out.logits[0].argmax(-1), length - len(answer)))
    return sequences


def vocabulary_of(sequences: list[Sequence], limit: int) -> torch.Tensor:
    counts = Counter()
    for s in sequences:
        counts.update(s.predictions.tolist())
    return torch.tensor(sorted(t for t, _ in counts.most_common(limit)), dtype=torch.long)


def _pass(draft: FeatureDraftModel, s: Sequence, noise: float) -> tuple[torch.Tensor, torch.Tensor]:
    inputs = s.features[:-1]
    if noise:
        inputs = inputs + noise * torch.randn_like(inputs)
    return draft(inputs[None], s.embeds[1:][None], None, s.positions[:-1][None])


def train_feature_draft(model, sequences: list[Sequence], config: FeatureDistillConfig, progress: bool = False
                        ) -> tuple[FeatureDraftModel, FeatureDistillHistory]:
    torch.manual_seed(config.seed)
    rng = random.Random(config.seed)
    order = list(range(len(sequences)))
    rng.shuffle(order)
    held = max(1, round(len(order) * config.held_out)) if len(order) > 1 else 0
    test, train = [sequences[i] for i in order[:held]], [sequences[i] for i in order[held:]]
    draft = FeatureDraftModel(model.llm, vocabulary_of(train, config.max_vocabulary)).train()
    lookup = torch.full((draft.vocab_size,), -1, dtype=torch.long)
    lookup[draft.vocabulary] = torch.arange(len(draft.vocabulary))
    params = list(draft.trainable_parameters().values())
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=0.0)
    history = FeatureDistillHistory()
    steps = [s for _ in range(config.epochs) for s in rng.sample(train, len(train))]
    if progress:
        from tqdm import tqdm

        steps = tqdm(steps, unit="sequence", desc="training the feature draft")
    start = time.perf_counter()
    for s in steps:
        predicted, logits = _pass(draft, s, config.noise)
        labels = lookup[s.predictions[1:]]  # the target's token after the predicted feature's position
        known = labels >= 0
        loss = F.smooth_l1_loss(predicted[0], s.features[1:]) + 0.1 * F.cross_entropy(logits[0][known], labels[known])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        history.loss.append(loss.item())
        if progress:
            steps.set_postfix(loss=f"{loss.item():.3f}")
    history.seconds = time.perf_counter() - start
    draft.eval()
    hits = total = 0
    with torch.no_grad():
        for s in test:
            _, logits = _pass(draft, s, 0.0)
            proposed = draft.vocabulary[logits[0].argmax(-1)]
            # position t proposes the token at t + 2; answers' draft tokens start one after the first answer token
            window = slice(max(s.answer_start - 1, 0), None)
            hits += int((proposed[window] == s.predictions[1:][window]).sum())
            total += proposed[window].numel()
    history.accuracy, history.answer_tokens = (hits / total if total else 0.0), total
    return draft, history
