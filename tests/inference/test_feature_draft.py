"""The feature draft (EAGLE-style): trained on the target's answers it gets more tokens accepted, and speculative
output stays exactly plain greedy output, from text, soft tokens and prefixes, on two layouts."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch
from safetensors.torch import load_file

from graphllm.cli import main
from graphllm.data.collate import GraphCollator
from graphllm.errors import GraphLLMError
from graphllm.inference.budget import PassCost, TreeBudget
from graphllm.inference.config import GenerationConfig, TreeShape
from graphllm.inference.drafts import make_draft
from graphllm.inference.drafts.feature import (
    WEIGHTS,
    FeatureDraft,
    FeatureDraftModel,
    load_feature_draft,
    save_feature_draft,
)
from graphllm.inference.drafts.feature.training import (
    FeatureDistillConfig,
    Sequence,
    _unroll,
    check_checkpoint,
    target_sequences,
    train_feature_draft,
    vocabulary_of,
)
from graphllm.inference.generate import generate
from graphllm.inference.speculative import SpeculationStats, speculative_generate
from graphllm.models.build import build_model, load_recipe
from graphllm.models.llm import tiny_llm


@pytest.mark.parametrize("recipe", ["zero-shot", "graph-prefix", "graph-token"])
def test_training_sequences_are_what_a_teacher_forced_pass_computes(recipe, tokenizer, questions):
    """The features kept from decoding equal those of one pass over prompt + answer, position by position."""
    torch.manual_seed(0)
    target = build_model(load_recipe(recipe), tiny_llm("llama", layers=2)).eval()
    collator = GraphCollator(tokenizer, "generate", include_graph_text=load_recipe(recipe).include_graph_text,
                             max_prompt_tokens=40)
    stop = [tokenizer.eos_token_id]
    sequences = target_sequences(target, questions[:5], collator, 12, stop, batch_size=3)  # left-padded batches
    answers = generate(target, collator(questions[:5]), GenerationConfig(max_new_tokens=12, stop_ids=stop))
    for example, answer, s in zip(questions[:5], answers, sequences, strict=True):
        one = collator([example])
        tokens = torch.tensor([answer])
        one = dataclasses.replace(one, input_ids=torch.cat([one.input_ids, tokens], 1),
                                  attention_mask=torch.cat([one.attention_mask, torch.ones_like(tokens)], 1))
        x = target.prepare(one)
        with torch.no_grad():
            out = target.run_llm(x.inputs_embeds, None, x.attention_mask, x.position_ids, x.cache, use_cache=False,
                               output_hidden_states=True)
        # the slots a row attends to (graph tokens can be masked: a question naming fewer nodes)
        real = x.attention_mask[0, -x.inputs_embeds.shape[1]:].bool()
        n = len(s.predictions)
        assert s.answer_start == int(real.sum()) - len(answer) and n >= s.answer_start + len(answer) - 1
        torch.testing.assert_close(s.features, out.hidden_states[-1][0, real][:n], atol=1e-4, rtol=1e-4)
        torch.testing.assert_close(s.embeds, x.inputs_embeds[0, real][:n])
        assert s.positions.tolist() == x.position_ids[0, real][:n].tolist()
        assert s.predictions.tolist() == out.logits[0, real][:n].argmax(-1).tolist()


@pytest.mark.parametrize(("arch", "recipe"), [("llama", "zero-shot"), ("llama", "graph-prefix"),
                                              ("qwen2", "graph-token")])
def test_feature_draft_learns_the_target_and_stays_exact(arch, recipe, tokenizer, questions, tmp_path):
    torch.manual_seed(0)
    target = build_model(load_recipe(recipe), tiny_llm(arch, layers=4)).eval()
    # prompts cut to their last 48 tokens: the graph text would make the text-only case ten times slower
    collator = GraphCollator(tokenizer, "generate", include_graph_text=load_recipe(recipe).include_graph_text,
                             max_prompt_tokens=48)
    sequences = target_sequences(target, questions, collator, 30, [tokenizer.eos_token_id])
    assert len(sequences) == len(questions)
    assert all(s.features.shape == s.embeds.shape and s.predictions.shape == s.positions.shape for s in sequences)
    batch = collator(questions[:6])  # rows of different lengths: left padding
    config = GenerationConfig(max_new_tokens=30)
    before = SpeculationStats()
    untrained = FeatureDraftModel(target.llm, vocabulary_of(sequences, 1000))
    # whole trees here: the tiny random target's drafts are never confident, and a budget would cut them
    speculative_generate(target, batch, FeatureDraft(untrained), config, TreeShape((1, 1), trim=False), stats=before)

    # the random target's tokens are close to uniform over a large vocabulary: its features are what can be learnt
    draft, history = train_feature_draft(target, sequences, FeatureDistillConfig(epochs=20, lr=3e-3, token_weight=0.1))
    assert history.loss[-1] < 0.8 * history.loss[0]
    save_feature_draft(draft, tmp_path, {"epochs": 20})
    reloaded = make_draft(f"feature:{tmp_path}", target=target)
    reference = generate(target, batch, config)
    after = SpeculationStats()
    trained = FeatureDraft(load_feature_draft(target.llm, tmp_path))
    assert speculative_generate(target, batch, trained, config, TreeShape((1, 1), trim=False), stats=after) == reference
    assert after.mean_accepted > before.mean_accepted
    for shape in ("2,2,1", "1,1,3,1,1"):  # branching trees, and merged with the n-gram draft
        assert speculative_generate(target, batch, reloaded, config, TreeShape.parse(shape)) == reference
    merged = make_draft(f"ngram+feature:{tmp_path}", target=target)
    assert speculative_generate(target, batch, merged, config, TreeShape.parse("1,1,3")) == reference
    static = dataclasses.replace(config, static_cache=True)  # the target's hidden states from a static cache
    assert speculative_generate(target, batch, trained, static, TreeShape.parse("2,2,1")) == reference
    # a budget whose extra nodes are free verifies whole 2,2,1 trees (1 + 2 + 4 + 4 nodes); one whose nodes cost
    # as much as a pass checks only each row's first guess (it does not explore: see test_budget); the output stays
    # the same
    for prior, width in (((1.0, 0.0, 0.0), 11), ((0.0, 0.0, 1.0), 2)):
        stats = SpeculationStats()
        budget = TreeBudget(_Untimed(prior=prior), explore_every=0)
        assert speculative_generate(target, batch, trained, config, TreeShape.parse("2,2,1"), stats=stats,
                                    budget=budget) == reference
        assert set(stats.verified) == {width}


class _Untimed(PassCost):
    """A cost model that keeps its prior. Fitted to the passes timed, even under a prior weighted 1e9 times a pass,
    it sometimes cut the deepest nodes of the tiny target's draft, whose path probabilities are tiny (on a CPU loaded
    by other jobs this test got 7-node passes in 4 of 6 runs), so timing no longer enters here."""

    def observe(self, rows: int, width: int, seconds: float) -> None:
        pass


def test_feature_draft_sampling_is_seeded(tokenizer, questions):
    torch.manual_seed(0)
    target = build_model(load_recipe("graph-token"), tiny_llm("llama", layers=2)).eval()
    collator = GraphCollator(tokenizer, "generate")
    draft = FeatureDraftModel(target.llm, torch.arange(500))
    batch = collator(questions[:4])
    config = GenerationConfig(max_new_tokens=16, temperature=0.8, top_p=0.9, seed=3)
    runs = [speculative_generate(target, batch, FeatureDraft(draft), config, TreeShape.parse("2,1")) for _ in range(2)]
    assert runs[0] == runs[1] and all(len(r) > 0 for r in runs[0])


def test_missing_or_damaged_feature_drafts_say_what_to_do(tmp_path, capsys):
    llm = tiny_llm("llama", vocab_size=64, layers=2)
    with pytest.raises(GraphLLMError, match="distill --draft feature"):
        load_feature_draft(llm, tmp_path)
    save_feature_draft(FeatureDraftModel(llm, torch.arange(10)), tmp_path, {})
    reloaded = load_feature_draft(llm, tmp_path)
    assert reloaded.vocabulary.tolist() == list(range(10))
    # the head is the target's rows of the subset, rebuilt from the target on loading, never saved with the draft
    assert torch.equal(reloaded.head.weight, llm.get_output_embeddings().weight[:10])
    assert not any(name.startswith("head") for name in load_file(str(tmp_path / WEIGHTS)))
    (tmp_path / WEIGHTS).write_bytes(b"not a safetensors file")
    with pytest.raises(GraphLLMError, match="damaged"):
        load_feature_draft(llm, tmp_path)
    assert main(["distill", "--recipe", "zero-shot", "--draft", "feature"]) == 2
    assert "--out" in capsys.readouterr().err
    assert main(["distill", "--recipe", "zero-shot"]) == 2
    assert "pass --run" in capsys.readouterr().err
    assert main(["distill", "--recipe", "zero-shot", "--draft", "feature", "--out", str(tmp_path),
                 "--epochs", "0"]) == 2
    assert "--epochs must be at least 1" in capsys.readouterr().err


def test_feature_draft_training_stopped_mid_epoch_resumes_to_the_same_draft(tokenizer, questions, tmp_path,
                                                                          monkeypatch):
    import graphllm.inference.drafts.feature.training as feature_distill

    torch.manual_seed(0)
    target = build_model(load_recipe("zero-shot"), tiny_llm("llama", layers=2)).eval()
    collator = GraphCollator(tokenizer, "generate", include_graph_text=True, max_prompt_tokens=40)
    sequences = target_sequences(target, questions[:8], collator, 12, [tokenizer.eos_token_id])  # 7 trained, 1 held
    config = FeatureDistillConfig(epochs=3, lr=3e-3)
    whole, history = train_feature_draft(target, sequences, config)
    assert [e["epoch"] for e in history.epochs] == [1, 2, 3] and len(history.loss) == 21
    assert history.chain == history.epochs[-1]["chain"] and history.answer_tokens > 0

    checkpoint, loss, calls = tmp_path / "training", feature_distill._loss, []

    def stopped_in_epoch_two(*args):
        calls.append(1)
        if len(calls) == 10:
            raise KeyboardInterrupt
        return loss(*args)

    monkeypatch.setattr(feature_distill, "_loss", stopped_in_epoch_two)
    with pytest.raises(KeyboardInterrupt):
        train_feature_draft(target, sequences, config, checkpoint=checkpoint)
    monkeypatch.setattr(feature_distill, "_loss", loss)
    logged = []
    train_feature_draft(target, sequences, dataclasses.replace(config, epochs=2), checkpoint=checkpoint,
                        log=logged.append)
    assert logged[0].startswith(f"resuming from {checkpoint} after epoch 1 of 2") and logged[1].startswith("epoch 2/2")
    resumed, again = train_feature_draft(target, sequences, config, checkpoint=checkpoint)  # asked for one more
    for name, p in whole.trainable_parameters().items():
        assert torch.equal(p, resumed.trainable_parameters()[name]), name
    assert again.loss == history.loss
    assert [{k: v for k, v in e.items() if k != "seconds"} for e in again.epochs] == \
        [{k: v for k, v in e.items() if k != "seconds"} for e in history.epochs]

    with pytest.raises(GraphLLMError, match="already trained 3 epochs"):
        train_feature_draft(target, sequences, dataclasses.replace(config, epochs=2), checkpoint=checkpoint)
    check_checkpoint(checkpoint, config)  # what the CLI checks before rebuilding the answers' features
    check_checkpoint(tmp_path / "none", dataclasses.replace(config, lr=1e-3))
    with pytest.raises(GraphLLMError, match=r"\(lr 0.003 -> 0.001\); pass --restart"):
        check_checkpoint(checkpoint, dataclasses.replace(config, lr=1e-3))
    with pytest.raises(GraphLLMError, match=r"\(lr 0.003 -> 0.001\); pass --restart"):
        train_feature_draft(target, sequences, dataclasses.replace(config, lr=1e-3), checkpoint=checkpoint)
    with pytest.raises(GraphLLMError, match="sequences 8 -> 7"):
        train_feature_draft(target, sequences[:7], config, checkpoint=checkpoint)
    other = [dataclasses.replace(s, predictions=s.predictions.flip(0)) for s in sequences]  # another target's
    with pytest.raises(GraphLLMError, match=r"\(other answers of the target\)"):
        train_feature_draft(target, other, config, checkpoint=checkpoint)
    before = (checkpoint / "state.pt").read_bytes()
    (checkpoint / "state.pt").write_bytes(before[:100])
    with pytest.raises(GraphLLMError, match="cannot be read"):
        train_feature_draft(target, sequences, config, checkpoint=checkpoint)


def test_the_unrolled_training_pass_is_the_chain_decoding_grows():
    """Step d of `_unroll` at index c + d - 1 is what the draft computes while decoding from committed position c:
    the target's inputs up to c, then its own chain of predicted features, each seeing the ones before."""
    torch.manual_seed(0)
    llm = tiny_llm("llama", vocab_size=64, layers=2)
    draft = FeatureDraftModel(llm, torch.arange(64)).eval()
    length, answer_start, hidden = 14, 6, llm.config.hidden_size
    s = Sequence(torch.randn(length, hidden), torch.randn(length, hidden), torch.arange(length),
                 torch.randint(0, 64, (length,)), answer_start)
    steps = _unroll(draft, s, depth=3)
    assert [len(index) for index, _, _ in steps] == [13, 13 - 6, 13 - 7]
    for c in (answer_start - 1, answer_start + 2, length - 4):
        fed, chain = s.features[: c + 1], []
        embeds = s.embeds[1: c + 2]
        for d in range(1, 4):  # grow the chain one slot at a time, the way the tree is fed
            if d > 1:
                fed = torch.cat([s.features[: c + 1], torch.stack(chain)])
                embeds = torch.cat([s.embeds[1: c + 2], s.embeds[c + 2: c + 1 + d]])
            with torch.no_grad():
                out, _ = draft(fed[None], embeds[None], None, torch.arange(c + d)[None])
            chain.append(out[0, -1])
            index, predicted, _ = steps[d - 1]
            where = int((index == c + d - 1).nonzero())
            torch.testing.assert_close(predicted[where], out[0, -1], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("recipe", ["zero-shot", "graph-prefix"])
def test_the_draft_fed_its_prompt_row_by_row_holds_what_the_padded_batch_would(recipe, tokenizer, questions,
                                                                              monkeypatch):
    """On a CPU a batch of unequal prompts is fed to the draft one row at a time; its cache, mask and proposals are
    the padded batch's, and speculative output stays plain greedy output."""
    import graphllm.inference.drafts.feature.draft as feature_module
    from graphllm.inference.state import DecodeState

    torch.manual_seed(0)
    target = build_model(load_recipe(recipe), tiny_llm("llama", layers=2)).eval()
    collator = GraphCollator(tokenizer, "generate", include_graph_text=load_recipe(recipe).include_graph_text)
    lengths = {len(collator([q]).input_ids[0]): q for q in questions}  # prompts of three lengths: left padding
    batch = collator([lengths[n] for n in sorted(lengths)[:: max(1, len(lengths) // 3)][:3]])
    model = FeatureDraftModel(target.llm, torch.arange(500)).eval()

    def started(rows_apart: bool) -> tuple[FeatureDraft, DecodeState]:
        monkeypatch.setattr(feature_module, "mostly_padding", lambda real: rows_apart)
        draft = FeatureDraft(model)
        with torch.no_grad():
            state, _ = DecodeState.prefill(target, batch, keep_hidden=True)
            draft.start(target, batch, state)
        return draft, state

    (padded, state), (apart, _) = started(False), started(True)
    assert padded.mask.shape[1] > 0 and not bool(padded.mask.all())  # the rows differ in length
    assert torch.equal(padded.mask, apart.mask)
    real = padded.mask[:, None, :, None]
    for a, b in zip(padded.cache.layers, apart.cache.layers, strict=True):
        torch.testing.assert_close(a.keys * real, b.keys * real, atol=1e-5, rtol=1e-4)
        torch.testing.assert_close(a.values * real, b.values * real, atol=1e-5, rtol=1e-4)
    roots, config = [1, 2, 3], GenerationConfig(max_new_tokens=8)
    trees = [d.propose(state, roots, [[r] for r in roots], TreeShape.parse("2,1"), config, None)
             for d in (padded, apart)]
    assert torch.equal(trees[0].tokens, trees[1].tokens)
    reference = generate(target, batch, config)
    assert speculative_generate(target, batch, FeatureDraft(model), config, TreeShape.parse("1,1")) == reference


@pytest.mark.parametrize("recipe", ["zero-shot", "graph-prefix"])
def test_kept_answers_survive_an_interruption_and_are_only_reused_for_the_same_target(recipe, tokenizer, questions,
                                                                                    tmp_path, monkeypatch):
    import graphllm.inference.target_answers as answers

    torch.manual_seed(0)
    target = build_model(load_recipe(recipe), tiny_llm("llama", layers=2)).eval()
    collator = GraphCollator(tokenizer, "generate", include_graph_text=load_recipe(recipe).include_graph_text,
                             max_prompt_tokens=40)
    stop, keep = [tokenizer.eos_token_id], tmp_path / "answers.json"
    fresh = target_sequences(target, questions[:5], collator, 12, stop, batch_size=2)
    answer_batch, calls = answers._answer_batch, []

    def counted(model, chunk, *args):
        calls.append(len(chunk))
        if len(calls) == interrupt_at:
            raise KeyboardInterrupt
        return answer_batch(model, chunk, *args)

    monkeypatch.setattr(answers, "_answer_batch", counted)
    interrupt_at = 2
    with pytest.raises(KeyboardInterrupt):
        target_sequences(target, questions[:5], collator, 12, stop, batch_size=2, keep=keep)
    assert len(json.loads(keep.read_text())["answers"]) == 2  # the first batch's answers were kept

    calls.clear()
    interrupt_at = None
    resumed = target_sequences(target, questions[:5], collator, 12, stop, batch_size=2, keep=keep)
    assert calls == [2, 1]  # only the three prompts not answered yet
    for a, b in zip(fresh, resumed, strict=True):
        assert a.answer_start == b.answer_start
        torch.testing.assert_close(a.features, b.features, atol=1e-4, rtol=1e-4)
        torch.testing.assert_close(a.embeds, b.embeds)
        assert a.positions.tolist() == b.positions.tolist() and a.predictions.tolist() == b.predictions.tolist()

    calls.clear()
    assert len(target_sequences(target, questions[:5], collator, 12, stop, batch_size=2, keep=keep)) == 5
    assert calls == []  # every answer kept
    target_sequences(target, questions[:5], collator, 16, stop, batch_size=2, keep=keep)
    assert calls == [2, 2, 1]  # longer answers: nothing reused
    calls.clear()
    with torch.no_grad():
        next(target.parameters()).add_(0.01)  # another target
    target_sequences(target, questions[:5], collator, 16, stop, batch_size=2, keep=keep)
    assert calls == [2, 2, 1]
    keep.write_text("{not json")
    with pytest.raises(GraphLLMError, match="delete it"):
        target_sequences(target, questions[:5], collator, 16, stop, keep=keep)
