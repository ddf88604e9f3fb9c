"""SelFee-style self-revision (KAIST, 2023): the model answers, writes feedback on its own answer that ends with
"Revision is needed" or "Revision is not needed", and revises while the feedback asks for it.

SelFee fine-tunes LLaMA to write answer, feedback and revision in one stream. An instruct model that never saw
that format is asked for each part in a chat turn of its own instead (the collator's `turns`), which keeps each
generation short and lets every row of a batch stop on its own: a row leaves the batch once its feedback says no
revision is needed, or after `rounds` revisions. The graph stays wherever the recipe puts it (soft tokens,
prefix, text), since every turn is collated from the same example.
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from dataclasses import dataclass, field, replace

from graphllm.data.graphqa.answers import parse_value, reference_value
from graphllm.inference.config import GenerationConfig
from graphllm.inference.generate import generate

_NEEDED = r"(?:needed|required|necessary)"


@dataclass
class SelfRevisionConfig:
    """How many revisions, what the model is asked, and how its verdict is read.

    `verdict_pattern` is searched in the lower-cased feedback with whitespace collapsed; each match is a verdict
    and it is "no revision" when its group `stop` matched. The default accepts SelFee's two phrases and the usual
    paraphrases ("no revision is needed", "revision isn't required", "your answer needs revision", "does not need
    revision"): SmolLM2-135M answers the feedback question in its own words far more often than with the marker.
    """

    rounds: int = 1
    feedback_prompt: str = ('Does your answer need revision? Give short feedback, then end with "Revision is needed" '
                            'or "Revision is not needed".')
    revision_prompt: str = "Answer the question again, correctly. Start with the answer."
    feedback_tokens: int = 32
    verdict_pattern: str = (rf"(?P<stop>\bno (?:further )?revision (?:is )?{_NEEDED}"
                            rf"|\brevision (?:is not|isn't|not) {_NEEDED}"
                            rf"|\b(?:does not|doesn't|do not|don't) need (?:a |any )?revision|\bneeds? no revision)"
                            rf"|\brevision (?:is )?{_NEEDED}|\bneeds? (?:a )?revision")

    def __post_init__(self) -> None:
        if self.rounds < 1:
            raise ValueError(f"self-revision needs at least 1 round, not {self.rounds}")
        if self.feedback_tokens < 1:
            raise ValueError(f"feedback_tokens must be at least 1, not {self.feedback_tokens}")
        try:
            self._verdict = re.compile(self.verdict_pattern)
        except re.error as exc:
            raise ValueError(f"verdict_pattern is not a regular expression: {exc}") from None
        if "stop" not in self._verdict.groupindex:
            raise ValueError("verdict_pattern needs a group named 'stop' that matches 'no revision is needed'")

    def wants_revision(self, feedback: str) -> bool:
        """True only when the feedback's last verdict asks for a revision.

        The last verdict counts because SelFee ends its feedback with it, and a small model often repeats the
        instruction, both phrases in it, before giving its own. Feedback without any verdict (rambling, or cut
        off at `feedback_tokens`) counts as "not needed": an answer is only replaced on an explicit request, so a
        model that cannot follow the format keeps its first answer instead of rewriting it blindly.
        """
        text = " ".join(feedback.lower().replace("\u2019", "'").split())
        verdicts = list(self._verdict.finditer(text))
        return bool(verdicts) and verdicts[-1].group("stop") is None


@dataclass
class Revision:
    """One example's conversation: `answers[0]` is the first answer, each later one a revision; `feedbacks[k]` is
    the feedback on `answers[k]`."""

    answers: list[str] = field(default_factory=list)
    feedbacks: list[str] = field(default_factory=list)

    @property
    def first(self) -> str:
        return self.answers[0]

    @property
    def final(self) -> str:
        return self.answers[-1]

    @property
    def rounds(self) -> int:
        return len(self.answers) - 1

    @property
    def settled(self) -> bool:
        """Whether the loop ended because the feedback asked for no revision (not because rounds ran out)."""
        return len(self.feedbacks) == len(self.answers)

    def turns(self, config: SelfRevisionConfig) -> list[dict]:
        """The chat turns after the question, ending with the request for whatever comes next."""
        turns: list[dict] = []
        for k, answer in enumerate(self.answers):
            turns.append({"role": "assistant", "content": answer})
            if k < len(self.feedbacks):
                turns += [{"role": "user", "content": config.feedback_prompt},
                          {"role": "assistant", "content": self.feedbacks[k]},
                          {"role": "user", "content": config.revision_prompt}]
        if len(self.feedbacks) < len(self.answers):  # the last answer has no feedback yet: ask for it
            turns.append({"role": "user", "content": config.feedback_prompt})
        return turns


def self_revise(model, examples: list, collator, tokenizer, config: SelfRevisionConfig,
                generation_config: GenerationConfig, batch_size: int = 16, progress: bool = False) -> list[Revision]:
    """Answer every example, then at most `config.rounds` times: ask the rows still revising for feedback, and
    those whose feedback wants a revision for a revised answer. Answers use `generation_config`; feedback uses it
    with `config.feedback_tokens` new tokens."""
    if collator.mode != "generate":
        raise ValueError("self-revision decodes; pass the generation collator (mode='generate')")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, not {batch_size}")
    from tqdm import tqdm

    revisions = [Revision() for _ in examples]
    feedback_config = replace(generation_config, max_new_tokens=config.feedback_tokens)
    device = next(model.parameters()).device
    bar = tqdm(unit="batch", desc="self-revising", leave=False, disable=not progress)

    def decode(rows: list[int], turns: list[list[dict]], settings: GenerationConfig) -> list[str]:
        texts = [""] * len(rows)
        # Rows of similar prompt length share a batch, so little is spent on padding.
        order = sorted(range(len(rows)), key=lambda k: len(collator.texts(examples[rows[k]], turns[k])[0]))
        for start in range(0, len(order), batch_size):
            chunk = order[start:start + batch_size]
            batch = collator([examples[rows[k]] for k in chunk], [turns[k] for k in chunk]).to(device)
            for k, tokens in zip(chunk, generate(model, batch, settings, tokenizer), strict=True):
                texts[k] = tokenizer.decode(tokens, skip_special_tokens=True).strip()
            bar.update()
        return texts

    live = list(range(len(examples)))
    with bar:
        for i, text in zip(live, decode(live, [[] for _ in live], generation_config), strict=True):
            revisions[i].answers.append(text)
        for _ in range(config.rounds):
            feedbacks = decode(live, [revisions[i].turns(config) for i in live], feedback_config)
            for i, text in zip(live, feedbacks, strict=True):
                revisions[i].feedbacks.append(text)
            live = [i for i, text in zip(live, feedbacks, strict=True) if config.wants_revision(text)]
            if not live:
                break
            revised = decode(live, [revisions[i].turns(config) for i in live], generation_config)
            for i, text in zip(live, revised, strict=True):
                revisions[i].answers.append(text)
    return revisions


def revision_statistics(examples: list, revisions: list[Revision]) -> dict[str, dict]:
    """Per task: n, accuracy of the first and of the final answer, how many answers were revised, how many of those
    went right -> wrong and wrong -> right, the mean number of revision rounds and how many ended settled."""
    rows: dict[str, list] = defaultdict(list)
    for data, revision in zip(examples, revisions, strict=True):
        truth = reference_value(data)
        rows[data.task].append((parse_value(data, revision.first) == truth,
                                parse_value(data, revision.final) == truth, revision))
    out = {}
    for task in sorted(rows):
        n = len(rows[task])
        out[task] = {
            "n": n,
            "first_accuracy": sum(first for first, _, _ in rows[task]) / n,
            "final_accuracy": sum(final for _, final, _ in rows[task]) / n,
            "revised": sum(r.rounds > 0 for _, _, r in rows[task]),
            "right_to_wrong": sum(first and not final for first, final, _ in rows[task]),
            "wrong_to_right": sum(final and not first for first, final, _ in rows[task]),
            "mean_rounds": sum(r.rounds for _, _, r in rows[task]) / n,
            "settled": sum(r.settled for _, _, r in rows[task]),
        }
    return out


def evaluate_with_revision(model, examples: list, collator, tokenizer, rounds: int, max_new_tokens: int,
                           stop_ids: list[int], batch_size: int = 16, progress: bool = False) -> dict:
    """`graphllm.evaluate.evaluate`'s result with answers revised: "accuracy" is after revision, and
    "self_revision" holds `revision_statistics` per task."""
    start = time.perf_counter()
    revisions = self_revise(model, examples, collator, tokenizer, SelfRevisionConfig(rounds=rounds),
                            GenerationConfig(max_new_tokens=max_new_tokens, stop_ids=stop_ids), batch_size, progress)
    seconds = time.perf_counter() - start
    stats = revision_statistics(examples, revisions)
    samples = [{"task": d.task, "question": d.question, "answer": d.answer, "output": r.final,
                "correct": parse_value(d, r.final) == reference_value(d), "answers": r.answers,
                "feedbacks": r.feedbacks}
               for d, r in list(zip(examples, revisions, strict=True))[:20]]
    return {"accuracy": {t: s["final_accuracy"] for t, s in stats.items()}, "n": {t: s["n"] for t, s in stats.items()},
            "examples_per_second": len(examples) / seconds if seconds else 0.0, "samples": samples,
            "self_revision": stats, "seconds": seconds}
