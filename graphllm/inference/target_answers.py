"""What the feature draft learns from: the target's greedy answers to training prompts, with its last hidden states
("features") along prompt and answer.

Answering is most of a distillation's time (33 of 52 minutes for 960 prompts on 2 CPU cores), so the answers are
kept as they come, one batch at a time, in a small JSON file (token ids only): an interrupted run, or a second one
with other training settings, answers only the prompts not answered yet. A kept answer's features come back from
one teacher-forced pass over prompt + answer, which computes what the decoding passes did (the test suite checks
it); answers are reused only for the same target weights, prompt tokens and graph, and answer length and stops.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import torch

from graphllm.errors import GraphLLMError
from graphllm.fileio import atomic_write_text
from graphllm.inference.config import GenerationConfig, TreeShape
from graphllm.inference.drafts.ngram import NGramDraft


@dataclass
class Sequence:
    features: torch.Tensor  # [T, H] target's last hidden states
    embeds: torch.Tensor  # [T, H] its input embeddings (soft tokens included)
    positions: torch.Tensor  # [T]
    predictions: torch.Tensor  # [T] target's greedy next token at each position
    answer_start: int  # first position whose prediction is a generated token's successor


@dataclass
class Answer:
    """Enough to rebuild a Sequence with one pass: the answer tokens that were fed to the target (slot j's input)
    and the token the target chose after each (the next answer token, or the stop token)."""

    fed: list[int]
    following: list[int]


class _Recorder(NGramDraft):
    """The n-gram draft, keeping what the target computes anyway while it answers: its last hidden states over
    the prompt and over every slot it keeps, and the token it chose after each (the next committed token)."""

    needs_hidden = True

    def start(self, model, batch, state) -> None:
        features, embeds, mask, positions = state.prompt
        self.prompts = [(f[m], e[m], p[m]) for f, e, m, p in zip(features, embeds, mask, positions, strict=True)]
        self.features: list[list[torch.Tensor]] = [[] for _ in self.prompts]
        self.following: list[list[int]] = [[] for _ in self.prompts]

    def commit(self, state, accepted: list[list[int]]) -> None:
        for i, row in enumerate(state.rows):  # kept slots: the root and the accepted path, in order
            self.features[row].append(state.hidden[i, : len(accepted[i])])
            self.following[row] += accepted[i]


def _predictions(head, features: torch.Tensor) -> torch.Tensor:
    return torch.cat([head(part).argmax(-1) for part in features.split(256)])


def _answer_batch(model, chunk: list, collator, config: GenerationConfig) -> list[tuple[Sequence, Answer]]:
    # imported here: speculative decoding imports the drafts package, whose feature draft trains on these answers
    from graphllm.inference.speculative import speculative_generate

    embed, head = model.llm.get_input_embeddings(), model.llm.get_output_embeddings()
    recorder = _Recorder()
    answers = speculative_generate(model, collator(chunk).to(model.device), recorder, config,
                                   TreeShape.parse("1,1,3,1,1"))
    out = []
    for row, answer in enumerate(answers):
        features, embeds, positions = recorder.prompts[row]
        fed = torch.cat([features[:0], *recorder.features[row]])
        # slot j fed answer token j; past the answer (tokens after a stop, or past the length) nothing counts
        kept = min(len(fed), len(answer))
        following = recorder.following[row][:kept]
        tokens = torch.tensor(answer[:kept], dtype=torch.long, device=features.device)
        sequence = Sequence(
            torch.cat([features, fed[:kept]]), torch.cat([embeds, embed(tokens).to(embeds.dtype)]),
            torch.cat([positions, positions[-1] + 1 + torch.arange(kept, device=positions.device)]),
            torch.cat([_predictions(head, features), torch.tensor(following, device=features.device)]),
            len(features))
        out.append((sequence, Answer(answer[:kept], following)))
    return out


def teacher_forced(model, example, collator, answer: Answer) -> Sequence:
    """The Sequence of `example` answered with `answer`, from one pass over prompt + answer."""
    one = collator([example]).to(model.device)
    tokens = torch.tensor([answer.fed], dtype=torch.long, device=one.input_ids.device)
    one = dataclasses.replace(one, input_ids=torch.cat([one.input_ids, tokens], 1),
                              attention_mask=torch.cat([one.attention_mask, torch.ones_like(tokens)], 1))
    x = model.prepare(one)
    only_last = {"logits_to_keep": 1} if model.takes_logits_to_keep else {}  # the features are what is needed
    out = model.run_llm(x.inputs_embeds, None, x.attention_mask, x.position_ids, x.cache, use_cache=False,
                      output_hidden_states=True, **only_last)
    real = x.attention_mask[0, -x.inputs_embeds.shape[1]:].bool()  # graph tokens can be masked
    features = out.hidden_states[-1][0, real]
    start = len(features) - len(answer.fed)
    head = model.llm.get_output_embeddings()
    predictions = torch.cat([_predictions(head, features[:start]),
                             torch.tensor(answer.following, dtype=torch.long, device=features.device)])
    return Sequence(features, x.inputs_embeds[0, real], x.position_ids[0, real], predictions, start)


def fingerprint(model) -> str:
    """A digest of the target's weights (graph bridge included), to tell whether kept answers are its answers."""
    digest = hashlib.sha256()
    for name, p in model.state_dict().items():
        if torch.is_floating_point(p):
            digest.update(f"{name}{tuple(p.shape)}{float(p.sum(dtype=torch.float64)):.10e}"
                          f"{float(p.abs().sum(dtype=torch.float64)):.10e}".encode())
    return digest.hexdigest()


def prompt_key(example, collator) -> str:
    """A digest of what the target sees of a prompt: its tokens and, for graph-reading models, its graph."""
    one = collator([example])
    digest = hashlib.sha256(str(one.input_ids[one.attention_mask.bool()].tolist()).encode())
    for name in ("num_nodes", "edge_index", "x"):
        value = getattr(example, name, None)
        if value is not None:
            digest.update(f"{name}:{value.tolist() if torch.is_tensor(value) else value}".encode())
    return digest.hexdigest()


class AnswerStore:
    """Answers kept in a JSON file: {"target": ..., "config": ..., "answers": {prompt key: {fed, following}}}.
    A file written for another target or another answer length and stops is not reused (and is replaced)."""

    def __init__(self, path: Path, target: str, config: GenerationConfig) -> None:
        self.path = path
        self.header = {"target": target, "config": {"max_new_tokens": config.max_new_tokens,
                                                    "stop_ids": sorted(config.stop_ids)}}
        self.answers: dict[str, Answer] = {}
        self.stale = False
        if not path.exists():
            return
        try:
            saved = json.loads(path.read_text())
            answers = {k: Answer(list(map(int, v["fed"])), list(map(int, v["following"])))
                       for k, v in saved["answers"].items()}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise GraphLLMError(f"{path} is not a file of kept answers ({exc}); delete it to answer afresh") from None
        if {k: saved.get(k) for k in self.header} == self.header:
            self.answers = answers
        else:
            self.stale = True

    def add(self, items: dict[str, Answer]) -> None:
        self.answers.update(items)
        body = {k: dataclasses.asdict(a) for k, a in self.answers.items()}
        atomic_write_text(self.path, json.dumps({**self.header, "answers": body}, separators=(",", ":")) + "\n")


@torch.no_grad()
def target_sequences(model, prompts: list, collator, max_new_tokens: int, stop_ids: list[int], batch_size: int = 8,
                     progress: bool = False, keep: Path | None = None, log=None) -> list[Sequence]:
    """The target's answers to `prompts` and its features along prompt + answer, from the passes that decode the
    answers. With `keep` (a JSON file), answers are kept there as each batch ends, and prompts answered there
    before, by the same target with the same settings, are not answered again (see the module's docstring)."""
    config = GenerationConfig(max_new_tokens=max_new_tokens, stop_ids=stop_ids)
    # Without a file to keep answers in, neither the weights' digest nor the prompts' keys are worth computing.
    store = AnswerStore(keep, fingerprint(model), config) if keep is not None else None
    if store is not None and store.stale and log:
        log(f"{keep} holds answers of another target or other settings: answering afresh")
    keys = [prompt_key(p, collator) for p in prompts] if store is not None else []
    sequences: list[Sequence | None] = [None] * len(prompts)
    kept = [i for i, k in enumerate(keys) if k in store.answers]
    if kept and log:
        log(f"{len(kept)} of {len(prompts)} answers kept in {keep}: rebuilding their features")
    for i in _bar(kept, progress, "kept answers", "answer"):
        sequences[i] = teacher_forced(model, prompts[i], collator, store.answers[keys[i]])
    todo = [i for i in range(len(prompts)) if sequences[i] is None]
    chunks = [todo[i:i + batch_size] for i in range(0, len(todo), batch_size)]
    for chunk in _bar(chunks, progress, "target answers", "batch"):
        answered = _answer_batch(model, [prompts[i] for i in chunk], collator, config)
        for i, (sequence, _) in zip(chunk, answered, strict=True):
            sequences[i] = sequence
        if store is not None:
            store.add({keys[i]: answer for i, (_, answer) in zip(chunk, answered, strict=True)})
    return sequences


def _bar(items: list, progress: bool, desc: str, unit: str):
    if not progress or not items:
        return items
    from tqdm import tqdm

    return tqdm(items, unit=unit, desc=desc)
