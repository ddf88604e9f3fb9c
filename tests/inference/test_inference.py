"""The decoding engine on tiny random models: plain decoding agrees with transformers, speculative greedy
decoding is token-identical to plain greedy decoding from soft tokens and from prefixes, batched."""

from __future__ import annotations

import pytest
import torch

from graphllm.data.collate import GraphCollator
from graphllm.inference.config import GenerationConfig, TreeShape
from graphllm.inference.drafts import Draft, make_draft
from graphllm.inference.drafts.ngram import AcceptanceRates, NGramDraft, matches
from graphllm.inference.generate import generate
from graphllm.inference.speculative import SpeculationStats, speculative_generate
from graphllm.inference.tree import TreeBuilder
from graphllm.models.build import build_model, load_recipe
from graphllm.models.llm import tiny_llm


def _model(arch: str, recipe: str):
    torch.manual_seed(0)
    return build_model(load_recipe(recipe), tiny_llm(arch, layers=3)).eval()


def _batch(tokenizer, recipe: str, data):
    return GraphCollator(tokenizer, "generate", include_graph_text=load_recipe(recipe).include_graph_text)(data)


@pytest.mark.parametrize("arch", ["llama", "qwen2", "gpt2", "opt", "bloom"])
def test_plain_decoding_agrees_with_transformers_generate(arch, tokenizer, questions):
    model = _model(arch, "zero-shot")
    batch = _batch(tokenizer, "zero-shot", questions[:5])
    ours = generate(model, batch, GenerationConfig(max_new_tokens=12, stop_ids=[tokenizer.eos_token_id]))
    theirs = model.llm.generate(input_ids=batch.input_ids, attention_mask=batch.attention_mask, max_new_tokens=12,
                                do_sample=False, eos_token_id=tokenizer.eos_token_id,
                                pad_token_id=tokenizer.pad_token_id)
    for row, tokens in enumerate(ours):
        new = theirs[row, batch.input_ids.shape[1]:].tolist()
        assert tokens == new[: len(tokens)]
        assert len(tokens) == 12 or new[len(tokens)] == tokenizer.eos_token_id


@pytest.mark.parametrize("arch", ["llama", "qwen2"])
@pytest.mark.parametrize("recipe", ["zero-shot", "graph-token", "graph-prefix"])
@pytest.mark.parametrize(("draft", "shape"), [("ngram", "1,1,1,1"), ("early-exit:1", "1,1,3,1,1"),
                                              ("early-exit:2", "2,2,1"), ("ngram+early-exit:1", "1,2,1")])
def test_speculative_greedy_is_token_identical(arch, recipe, draft, shape, tokenizer, questions):
    model = _model(arch, recipe)
    batch = _batch(tokenizer, recipe, questions[:6])  # rows of different prompt lengths: left padding
    config = GenerationConfig(max_new_tokens=40, stop_ids=[tokenizer.eos_token_id])
    stats = SpeculationStats()
    fast = speculative_generate(model, batch, make_draft(draft), config, TreeShape.parse(shape), stats=stats)
    assert fast == generate(model, batch, config)


class OracleDraft(Draft):
    """Knows plain greedy's answer and proposes it with a wrong sibling at every depth and a wrong token at every
    third depth, so verification must accept whole paths, stop inside them and pick the right branch."""

    name = "oracle"

    def __init__(self, prompts: list[list[int]], answers: list[list[int]]) -> None:
        self.prompts, self.answers = prompts, answers

    def propose(self, state, roots, contexts, shape, config, generator):
        builder = TreeBuilder(roots)
        for row, context in enumerate(contexts):
            original = state.rows[row]
            done = len(context) - len(self.prompts[original])
            truth = self.answers[original][done: done + shape.depth]
            node = 0
            for depth, token in enumerate(truth):
                builder.add(row, node, (token + 7) % 1000)  # a wrong sibling, tried first
                node = builder.add(row, node, token if depth % 3 != 2 else (token + 1) % 1000)
        return builder.build(state.mask.device)


@pytest.mark.parametrize("recipe", ["graph-token", "graph-prefix"])
def test_verification_accepts_exactly_the_right_paths(recipe, tokenizer, questions):
    model = _model("llama", recipe)
    batch = _batch(tokenizer, recipe, questions[:5])
    config = GenerationConfig(max_new_tokens=30)
    plain = SpeculationStats()
    answers = generate(model, batch, config, stats=plain)
    prompts = [ids[mask.bool()].tolist() for ids, mask in zip(batch.input_ids, batch.attention_mask, strict=True)]
    stats = SpeculationStats()
    fast = speculative_generate(model, batch, OracleDraft(prompts, answers), config, TreeShape((2, 2, 2, 2, 2)),
                                stats=stats)
    assert fast == answers
    assert stats.mean_accepted > 2.5  # two right tokens, then a wrong third: 3 tokens per pass when nothing ends
    assert plain.steps == 29 and stats.steps <= 12  # 30 tokens, the first from the prompt's pass


def test_rows_stop_independently_and_stop_strings_cut_the_text(tokenizer, questions):
    model = _model("llama", "graph-prefix")
    batch = _batch(tokenizer, "graph-prefix", questions[:4])
    counted = SpeculationStats()
    free = generate(model, batch, GenerationConfig(max_new_tokens=16), stats=counted)
    assert all(len(row) == 16 for row in free)
    assert (counted.steps, counted.tokens, counted.mean_accepted) == (15, 60, 1.0)  # the prompt's pass gives one
    stop_token = free[1][5]  # the 6th token of row 1 ends that row early; the others may end elsewhere
    stopped = generate(model, batch, GenerationConfig(max_new_tokens=16, stop_ids=[stop_token]))
    assert stopped[1] == free[1][: free[1].index(stop_token)]
    text = tokenizer.decode(free[0][:6])
    marker = tokenizer.decode(free[0][4:6])
    cut = generate(model, batch, GenerationConfig(max_new_tokens=16, stop_strings=[marker]), tokenizer=tokenizer)
    assert marker in tokenizer.decode(cut[0]) and len(cut[0]) <= 6 and text.startswith(tokenizer.decode(cut[0]))
    for draft in ("ngram", "early-exit:1"):
        assert speculative_generate(model, batch, make_draft(draft), GenerationConfig(max_new_tokens=16, stop_ids=[
            stop_token])) == stopped


def test_sampling_is_seeded_and_top_p_one_token_is_greedy(tokenizer, questions):
    model = _model("qwen2", "graph-token")
    batch = _batch(tokenizer, "graph-token", questions[:3])
    hot = GenerationConfig(max_new_tokens=10, temperature=1.5, seed=4)
    assert generate(model, batch, hot) == generate(model, batch, hot)
    assert generate(model, batch, hot) != generate(model, batch, GenerationConfig(max_new_tokens=10,
                                                                                 temperature=1.5, seed=5))
    # a nucleus so small it holds only the most likely token is greedy decoding, whatever the temperature
    nucleus = GenerationConfig(max_new_tokens=10, temperature=1.0, top_p=1e-6)
    assert generate(model, batch, nucleus) == generate(model, batch, GenerationConfig(max_new_tokens=10))
    for draft in ("ngram", "early-exit:1"):
        assert speculative_generate(model, batch, make_draft(draft), nucleus) == generate(
            model, batch, GenerationConfig(max_new_tokens=10))


def test_ngram_matches_prefer_long_and_late_ones():
    context = [1, 2, 3, 9, 1, 2, 4, 7, 5, 2, 3, 8, 1, 2]
    assert matches(context, 3) == [(2, [4, 7, 5])]  # "1 2" last seen before "4 7 5"
    assert matches(context, 2, branches=3) == [(2, [4, 7]), (2, [3, 9]), (1, [3, 8])]
    assert matches([5, 6, 7], 4) == []
    # matches shorter than max_n propose fewer tokens; a full-length match proposes all
    assert matches(context, 3, short_length=1) == [(2, [4])]
    assert matches(context + [4], 3, short_length=1) == [(3, [7, 5, 2])]


def test_ngram_scores_are_the_acceptance_rates_seen_down_each_path():
    rates = AcceptanceRates(prior_rate=0.5, prior_weight=2.0, forget=1.0)
    assert rates.path_scores(3, 2) == [0.5, 0.25]
    rates.observe(3, [7, 8, 9], [7, 8, 4])  # depths 1, 2 accepted, 3 refused
    rates.observe(3, [7, 8, 9], [5])  # depth 1 refused; deeper ones not tried
    assert rates.trials == {(3, 1): 2, (3, 2): 1, (3, 3): 1} and rates.hits == {(3, 1): 1, (3, 2): 1}
    assert rates.path_scores(3, 3) == pytest.approx([0.5, 0.5 * 2 / 3, 0.5 * 2 / 3 * 1 / 3])

    # in decoding: a draft that keeps proposing what the target refuses scores its nodes lower and lower
    draft = NGramDraft()
    contexts = [[1, 2, 3, 4, 5, 6, 1, 2, 3]]
    state = type("State", (), {"mask": torch.ones(1, 9)})()
    first = draft.propose(state, [3], contexts, TreeShape((1, 1, 1)), GenerationConfig(), None)
    assert first.tokens.tolist() == [[3, 4, 5, 6]] and first.scores[0, 1:].tolist() == [0.5, 0.25, 0.125]
    for _ in range(5):
        draft.propose(state, [3], contexts, TreeShape((1, 1, 1)), GenerationConfig(), None)
        draft.commit(state, [[9]])
    again = draft.propose(state, [3], contexts, TreeShape((1, 1, 1)), GenerationConfig(), None)
    assert again.scores[0, 1] < 0.2 and again.scores[0, 2] == pytest.approx(again.scores[0, 1] * 0.5)


def test_tree_ancestors_follow_parents():
    builder = TreeBuilder([10, 20])
    a = builder.add(0, 0, 11)
    builder.add(0, a, 12)
    builder.add(0, 0, 13)
    assert builder.add(0, 0, 11) == a  # same token under the same parent: one node
    builder.add_path(1, [21, 22, 23])
    tree = builder.build("cpu")
    seen = tree.ancestors()
    assert seen[0, 2].tolist() == [True, True, True, False]
    assert seen[0, 3].tolist() == [True, False, False, True]
    assert seen[1, 3].tolist() == [True, True, True, True]
    assert tree.valid[0].all() and tree.depth[1].tolist() == [0, 1, 2, 3]


def test_bad_settings_say_what_to_do():
    with pytest.raises(ValueError, match="comma-separated"):
        TreeShape.parse("1,x")
    with pytest.raises(ValueError, match="unknown draft 'medusa'"):
        make_draft("medusa")
    with pytest.raises(ValueError, match="temperature"):
        GenerationConfig(temperature=-1)
    with pytest.raises(ValueError, match="position ids"):
        model = _model("bloom", "zero-shot")
        speculative_generate(model, None, make_draft("ngram"), GenerationConfig())


@pytest.mark.parametrize("recipe", ["zero-shot", "graph-prefix"])
def test_distilled_draft_learns_the_target_and_stays_exact(recipe, tokenizer, questions, tmp_path):
    from graphllm.inference.drafts.distilled import DistilledDraft, build_draft_model, load_draft, save_draft
    from graphllm.inference.drafts.distilled.training import DistillConfig, distill

    torch.manual_seed(0)
    target = build_model(load_recipe(recipe), tiny_llm("llama", layers=4)).eval()
    draft = build_draft_model(target, load_recipe(recipe), layers=2)
    assert len(draft.bridge_output(_batch(tokenizer, recipe, questions[:1])).prefix or []) in (0, 2)  # its own size
    batch = _batch(tokenizer, recipe, questions[:6])
    config = GenerationConfig(max_new_tokens=30)
    before = SpeculationStats()
    speculative_generate(target, batch, DistilledDraft(draft), config, TreeShape((1, 1, 1, 1)), stats=before)
    # prompts cut to their last 48 tokens: the graph text would make the text-only case ten times slower
    collator = GraphCollator(tokenizer, "train", include_graph_text=load_recipe(recipe).include_graph_text,
                             max_prompt_tokens=48)
    history = distill(target, draft, questions, collator, DistillConfig(layers=2, steps=30, lr=3e-3))
    assert history.kl[-1] < history.kl[0] / 2
    save_draft(draft, tmp_path, {"layers": 2})
    reloaded = load_draft(target, load_recipe(recipe), tmp_path)
    after = SpeculationStats()
    fast = speculative_generate(target, batch, DistilledDraft(reloaded), config, TreeShape((1, 1, 1, 1)), stats=after)
    assert fast == generate(target, batch, config)
    assert after.mean_accepted > before.mean_accepted


@pytest.mark.parametrize("recipe", ["zero-shot", "graph-token", "graph-prefix"])
def test_prompts_run_row_by_row_leave_the_state_of_the_padded_batch(recipe, tokenizer, questions, monkeypatch):
    from graphllm.inference import state as state_module
    from graphllm.inference.state import DecodeState

    model = _model("llama", recipe)
    batch = _batch(tokenizer, recipe, questions[:6])
    with torch.no_grad():
        # Prompts with the graph as text differ this much in length: run apart on a CPU (forced for the others).
        assert state_module._rows_apart_pays(model.prepare(batch)) == (recipe == "zero-shot")
        monkeypatch.setattr(state_module, "_rows_apart_pays", lambda x: True)
        apart, apart_logits = DecodeState.prefill(model, batch, keep_hidden=True)
        config = GenerationConfig(max_new_tokens=20, stop_ids=[tokenizer.eos_token_id])
        apart_tokens = generate(model, batch, config)
        monkeypatch.setattr(state_module, "_rows_apart_pays", lambda x: False)
        padded, padded_logits = DecodeState.prefill(model, batch, keep_hidden=True)
        assert generate(model, batch, config) == apart_tokens
    assert torch.equal(apart.mask, padded.mask) and torch.equal(apart.next_position, padded.next_position)
    torch.testing.assert_close(apart_logits, padded_logits, atol=1e-4, rtol=1e-4)
    seen = padded.mask[:, None, :, None]
    for ours, theirs in zip(apart.cache.layers, padded.cache.layers, strict=True):
        torch.testing.assert_close(ours.keys * seen, theirs.keys * seen, atol=1e-4, rtol=1e-4)
        torch.testing.assert_close(ours.values * seen, theirs.values * seen, atol=1e-4, rtol=1e-4)
    text = padded.prompt[2][..., None]
    torch.testing.assert_close(apart.prompt[0] * text, padded.prompt[0] * text, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("recipe", ["zero-shot", "graph-prefix"])
def test_finished_rows_leave_by_moving_a_row_not_copying_the_cache(recipe, tokenizer, questions):
    from graphllm.inference.cache import row_order
    from graphllm.inference.state import DecodeState

    model = _model("llama", recipe)
    batch = _batch(tokenizer, recipe, questions[:6])
    assert row_order([0, 2, 4, 5]) == [0, 4, 2, 5] and row_order([3, 4, 5]) == [3, 4, 5]
    with torch.no_grad():
        state, _ = DecodeState.prefill(model, batch)
        state.step(torch.zeros(6, dtype=torch.long))  # a step after the prefill: the cache is the growable one's
        before = [(layer.keys.clone(), layer.values.clone()) for layer in state.cache.layers]
        mask, buffers = state.mask.clone(), [layer._key_buffer.data_ptr() for layer in state.cache.layers]
        order = row_order([1, 2, 4, 5])  # rows 0 and 3 finished: 4 moves into 0, 5 into 3
        state.select_rows(order)
    assert order == [4, 1, 2, 5] and state.rows == order
    dropped = int(mask[order].any(0).long().cumsum(0).eq(0).sum())  # leading slots the kept rows never use
    assert torch.equal(state.mask, mask[order][:, dropped:])
    for layer, (keys, values), pointer in zip(state.cache.layers, before, buffers, strict=True):
        buffer = layer._key_buffer  # the same buffer, viewed past the dropped slots
        assert buffer.data_ptr() == pointer + dropped * buffer.stride(2) * buffer.element_size()
        assert torch.equal(layer.keys, keys[order][:, :, dropped:])
        assert torch.equal(layer.values, values[order][:, :, dropped:])
