"""SelFee self-revision: the verdict reader, the revision loop with scripted replies (rows finish on their own,
the round limit holds), the collator's continued conversations, and one run on the real model."""

from __future__ import annotations

import copy

import pytest
import torch

from graphllm.data.collate import GraphCollator
from graphllm.data.graphqa import GraphQAConfig, generate, to_data
from graphllm.evaluate import evaluate
from graphllm.inference import selfee
from graphllm.inference.config import GenerationConfig, end_of_turn_ids
from graphllm.inference.selfee import Revision, SelfRevisionConfig, revision_statistics, self_revise
from graphllm.models.build import build_model, load_recipe
from graphllm.models.llm import tiny_llm

ANSWER = GenerationConfig(max_new_tokens=7, stop_ids=[2])


@pytest.fixture(scope="module")
def qa():
    data = [to_data(e) for e in generate(GraphQAConfig(examples=24, tasks=["cycle_check", "edge_existence"], seed=5),
                                         workers=1)]
    distinct = {d.text: d for d in data}  # scripted replies find their example by its graph text
    return list(distinct.values())[:4]


@pytest.fixture(scope="module")
def model():
    return build_model(load_recipe("zero-shot"), tiny_llm("llama"))


@pytest.fixture
def collator(tokenizer):
    return GraphCollator(tokenizer, "generate", include_graph_text=True)


@pytest.mark.parametrize(("feedback", "revise"), [
    ("The answer is wrong. Revision is needed.", True),
    ("Looks right. Revision is not needed.", False),
    ("No revision is needed.", False),
    ("REVISION IS\nNEEDED", True),
    ("Revision isn\u2019t required.", False),
    ("Yes, your answer needs revision.\n\nThe answer is not needed.", True),
    ("Your answer does not need revision.", False),
    ('I should end with "Revision is needed" or "Revision is not needed". Revision is needed.', True),
    ('End with "Revision is needed" or "Revision is not needed"', False),  # the instruction echoed: last one counts
    ("The answer is correct.", False),  # no verdict: keep the answer
    ("", False),
])
def test_verdict(feedback, revise):
    assert SelfRevisionConfig().wants_revision(feedback) is revise


def test_config_errors_are_clear():
    with pytest.raises(ValueError, match="at least 1 round"):
        SelfRevisionConfig(rounds=0)
    with pytest.raises(ValueError, match="group named 'stop'"):
        SelfRevisionConfig(verdict_pattern="revision")
    with pytest.raises(ValueError, match="not a regular expression"):
        SelfRevisionConfig(verdict_pattern="(")


def test_turns_none_is_unchanged(tokenizer, qa):
    collator = GraphCollator(tokenizer, "generate", include_graph_text=True)
    data = qa[0]
    expected = tokenizer.apply_chat_template([{"role": "user", "content": f"{data.text}\n{data.question}"}],
                                             tokenize=False, add_generation_prompt=True)
    assert collator.texts(data)[0] == collator.texts(data, [])[0] == expected
    plain, empty = collator(qa), collator(qa, [[] for _ in qa])
    assert torch.equal(plain.input_ids, empty.input_ids) and torch.equal(plain.attention_mask, empty.attention_mask)


def test_continued_conversation_keeps_the_turns_in_order(tokenizer, qa, collator):
    turns = [{"role": "assistant", "content": "FIRST ANSWER"}, {"role": "user", "content": "FEEDBACK PLEASE"},
             {"role": "assistant", "content": "SOME FEEDBACK"}, {"role": "user", "content": "REVISE PLEASE"}]
    prompt = collator.texts(qa[0], turns)[0]
    marks = [prompt.index(s) for s in (qa[0].question, "FIRST ANSWER", "FEEDBACK PLEASE", "SOME FEEDBACK",
                                       "REVISE PLEASE")]
    assert marks == sorted(marks)
    assert prompt.endswith("REVISE PLEASE<|im_end|>\n<|im_start|>assistant\n")
    assert "<|im_start|>assistant\nFIRST ANSWER<|im_end|>\n<|im_start|>user\nFEEDBACK PLEASE" in prompt
    batch = collator(qa[:2], [turns, []])  # rows of different lengths: left padding
    for row, mask in zip(batch.input_ids, batch.attention_mask, strict=True):
        assert tokenizer.decode(row[mask == 1]).endswith("<|im_start|>assistant\n")
    assert batch.attention_mask[1, 0] == 0 and batch.attention_mask[:, -1].all()


def test_continued_conversation_without_a_chat_template(tokenizer, qa):
    plain = copy.deepcopy(tokenizer)
    plain.chat_template = None
    collator = GraphCollator(plain, "generate")
    turns = [{"role": "assistant", "content": "No."}, {"role": "user", "content": "Check it."}]
    assert collator.texts(qa[0])[0] == f"Question: {qa[0].question}\nAnswer: "
    assert collator.texts(qa[0], turns)[0] == f"Question: {qa[0].question}\nAnswer: No.\nQuestion: Check it.\nAnswer: "


def test_bad_turns_are_refused(tokenizer, qa, collator):
    with pytest.raises(ValueError, match="must be {'role': 'assistant'"):
        collator.texts(qa[0], [{"role": "user", "content": "hi"}])
    with pytest.raises(ValueError, match="end with a user turn"):
        collator.texts(qa[0], [{"role": "assistant", "content": "hi"}])
    with pytest.raises(ValueError, match="2 conversations for 1 examples"):
        collator(qa[:1], [[], []])
    with pytest.raises(ValueError, match="mode='generate'"):
        GraphCollator(tokenizer, "train")(qa[:1], [[]])


@pytest.fixture
def scripted(monkeypatch, tokenizer):
    """Replace decoding by scripted replies: example -> its replies in order (answer, feedback, revision, ...).
    Records each call's rows and token budget."""
    calls: list[tuple[int, int]] = []

    def install(qa, script):
        def fake_generate(model, batch, config, tokenizer_=None):
            calls.append((batch.input_ids.shape[0], config.max_new_tokens))
            out = []
            for row, mask in zip(batch.input_ids, batch.attention_mask, strict=True):
                prompt = tokenizer.decode(row[mask == 1])
                index = next(i for i, d in enumerate(qa) if d.text in prompt)
                done = prompt.count("<|im_start|>assistant") - 1  # the replies already in the conversation
                out.append(tokenizer(script[index][done], add_special_tokens=False)["input_ids"])
            return out

        monkeypatch.setattr(selfee, "generate", fake_generate)
        return calls

    return install


SCRIPT = [
    ["No.", "Wrong. Revision is needed.", "Yes.", "Right. Revision is not needed."],  # one revision, then settled
    ["Yes.", "Revision is not needed."],  # settled at once
    ["3.", "Revision is needed.", "4.", "Revision is needed.", "5."],  # wants revising past any limit below
]


def test_loop_stops_at_the_marker_and_rows_finish_independently(scripted, model, tokenizer, qa, collator):
    calls = scripted(qa, SCRIPT)
    config = SelfRevisionConfig(rounds=2, feedback_tokens=11)
    revisions = self_revise(model, qa[:3], collator, tokenizer, config, ANSWER)
    assert revisions[0].answers == ["No.", "Yes."] and revisions[0].rounds == 1 and revisions[0].settled
    assert revisions[0].feedbacks == ["Wrong. Revision is needed.", "Right. Revision is not needed."]
    assert revisions[1].answers == ["Yes."] and revisions[1].rounds == 0 and revisions[1].settled
    assert revisions[2].answers == ["3.", "4.", "5."] and revisions[2].final == "5." and not revisions[2].settled
    # answer all 3, feedback on all 3, revise 2, feedback on those 2, revise the 1 still asking
    assert calls == [(3, 7), (3, 11), (2, 7), (2, 11), (1, 7)]


def test_loop_stops_at_the_round_limit(scripted, model, tokenizer, qa, collator):
    scripted(qa, SCRIPT)
    revisions = self_revise(model, qa[:3], collator, tokenizer, SelfRevisionConfig(rounds=1), ANSWER)
    assert [r.answers for r in revisions] == [["No.", "Yes."], ["Yes."], ["3.", "4."]]
    assert [r.rounds for r in revisions] == [1, 0, 1] and [r.settled for r in revisions] == [False, True, False]


def test_small_batches_give_the_same_revisions(scripted, model, tokenizer, qa, collator):
    calls = scripted(qa, SCRIPT)
    config = SelfRevisionConfig(rounds=2)
    whole = self_revise(model, qa[:3], collator, tokenizer, config, ANSWER)
    calls.clear()
    assert self_revise(model, qa[:3], collator, tokenizer, config, ANSWER, batch_size=2) == whole
    assert [rows for rows, _ in calls] == [2, 1, 2, 1, 2, 2, 1]


def test_turns_follow_the_conversation():
    config = SelfRevisionConfig(feedback_prompt="F?", revision_prompt="R!")
    assert Revision(["a0"]).turns(config) == [{"role": "assistant", "content": "a0"}, {"role": "user", "content": "F?"}]
    roles = [(t["role"], t["content"]) for t in Revision(["a0"], ["f0"]).turns(config)]
    assert roles == [("assistant", "a0"), ("user", "F?"), ("assistant", "f0"), ("user", "R!")]
    assert Revision(["a0", "a1"], ["f0"]).turns(config)[-2:] == [{"role": "assistant", "content": "a1"},
                                                                 {"role": "user", "content": "F?"}]


def test_statistics_count_changes(qa):
    def said(data, right: bool) -> str:
        truth = data.value == "true"
        return "Yes." if truth == right else "No."

    data = [d for d in qa if d.task == qa[0].task][:2] * 2
    revisions = [Revision([said(data[0], True), said(data[0], False)], ["Revision is needed."]),
                 Revision([said(data[1], False), said(data[1], True)],
                          ["Revision is needed.", "Revision is not needed."]),
                 Revision([said(data[2], True)], ["Revision is not needed."]),
                 Revision([said(data[3], False), said(data[3], False)], ["Revision is needed."])]
    stats = revision_statistics(data, revisions)[data[0].task]
    assert stats == {"n": 4, "first_accuracy": 0.5, "final_accuracy": 0.5, "revised": 3, "right_to_wrong": 1,
                     "wrong_to_right": 1, "mean_rounds": 0.75, "settled": 2}


def test_evaluate_reports_revision(scripted, model, tokenizer, qa, collator):
    scripted(qa, SCRIPT)
    result = evaluate(model, qa[:3], collator, tokenizer, self_revise=2)
    assert set(result["self_revision"]) == set(result["accuracy"]) == {d.task for d in qa[:3]}
    for task, stats in result["self_revision"].items():
        assert result["accuracy"][task] == stats["final_accuracy"]
    assert sum(s["revised"] for s in result["self_revision"].values()) == 2
    assert {s["output"] for s in result["samples"]} == {"Yes.", "5."}
    with pytest.raises(ValueError, match="number of revision rounds"):
        evaluate(model, qa[:3], collator, tokenizer, self_revise=-1)


def test_real_decoding_on_a_tiny_model(model, tokenizer, qa, collator):
    """The loop on the real decoder (a random model rarely gives a verdict, so most rows settle at once)."""
    revisions = self_revise(model, qa, collator, tokenizer, SelfRevisionConfig(rounds=1, feedback_tokens=4),
                            GenerationConfig(max_new_tokens=3))
    assert len(revisions) == len(qa)
    for r in revisions:
        assert len(r.feedbacks) == 1 and len(r.answers) == 1 + SelfRevisionConfig().wants_revision(r.feedbacks[0])
    with pytest.raises(ValueError, match="generation collator"):
        self_revise(model, qa, GraphCollator(tokenizer, "train"), tokenizer, SelfRevisionConfig(), ANSWER)


@pytest.mark.integration
def test_self_revision_on_the_real_model(qa):
    from graphllm.experiment import collators
    from graphllm.models.llm import load_llm

    llm, tokenizer = load_llm()
    recipe = load_recipe("zero-shot")
    stop = end_of_turn_ids(tokenizer)
    revisions = self_revise(build_model(recipe, llm), qa, collators(recipe, tokenizer)[1], tokenizer,
                            SelfRevisionConfig(rounds=1), GenerationConfig(max_new_tokens=12, stop_ids=stop))
    assert len(revisions) == 4
    for r in revisions:
        assert r.first and len(r.feedbacks) == 1 and 1 <= len(r.answers) <= 2
        assert r.settled == (not SelfRevisionConfig().wants_revision(r.feedbacks[0]))
        assert r.rounds == (0 if r.settled else 1)
