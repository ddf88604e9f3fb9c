"""Encoders, bridges, the composed model and the training loop on tiny random LLMs of five layouts."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch
import yaml

from graphllm.data.collate import GraphCollator
from graphllm.data.graphqa import GraphQAConfig, generate, to_data
from graphllm.data.graphqa.splits import ExperimentData
from graphllm.errors import GraphLLMError
from graphllm.experiment import (
    evaluate_run,
    load_model,
    run,
    run_per_task,
    store_evaluation,
    stored_result,
)
from graphllm.inference.config import GenerationConfig
from graphllm.inference.generate import generate as generate_tokens
from graphllm.models.build import RECIPES_DIR, Recipe, RecipeError, build_model, load_recipe, recipe_names
from graphllm.models.gnn import GNNConfig, GNNEncoder
from graphllm.models.llm import TINY_ARCHS, LLMShape, tiny_llm
from graphllm.train import CheckpointError, TrainConfig, load_trainable, train
from tests.conftest import losses_of_steps


@pytest.fixture(scope="module")
def qa():
    rows = generate(GraphQAConfig(examples=2 * 80, tasks=["cycle_check", "edge_existence"], seed=3), workers=1)
    return [to_data(r) for r in rows]


@pytest.mark.parametrize("arch", TINY_ARCHS)
@pytest.mark.parametrize("recipe", ["graph-token", "graph-prefix", "graph-prefix-v2", "graph-prefix-lora",
                                    "graph-prefix-lora-counting", "graph-prefix-lora-count-digits", "text-lora",
                                    "text-prompt-tuning", "text-prefix-tuning", "text-p-tuning", "text-adapter"])
def test_every_bridge_trains_on_every_layout(arch, recipe, tokenizer, qa):
    torch.manual_seed(0)
    model = build_model(load_recipe(recipe), tiny_llm(arch), input_dim=None, tokenizer=tokenizer)
    text = load_recipe(recipe).include_graph_text
    batch = GraphCollator(tokenizer, "train", include_graph_text=text)(qa[:4])
    params = model.trainable_parameters()
    before = {k: v.detach().clone() for k, v in params.items()}
    losses = losses_of_steps(model, batch, steps=5, lr=1e-2)
    assert losses[-1] < losses[0]
    assert any(not torch.equal(before[k], v) for k, v in params.items())
    frozen = [n for n, p in model.llm.named_parameters() if not p.requires_grad]
    assert frozen  # the LLM's own weights never train
    if recipe.endswith("lora"):
        assert any("lora_" in n for n in params)
    out = generate_tokens(model, GraphCollator(tokenizer, "generate", include_graph_text=text)(qa[:3]),
                          GenerationConfig(max_new_tokens=4, stop_ids=[tokenizer.eos_token_id]))
    assert len(out) == 3


@pytest.mark.parametrize("arch", TINY_ARCHS)
@pytest.mark.parametrize("recipe", ["graph-token", "graph-prefix", "text-lora"])
def test_answer_only_loss_is_the_lm_loss(arch, recipe, tokenizer, qa):
    """The loss projects only the answer positions; it must equal the LM's own loss over full logits."""
    torch.manual_seed(0)
    model = build_model(load_recipe(recipe), tiny_llm(arch)).eval()  # no dropout: both passes see the same net
    batch = GraphCollator(tokenizer, "train", include_graph_text=load_recipe(recipe).include_graph_text)(qa[:5])
    ours = model(batch).loss
    x = model.prepare(batch)
    reference = model.run_llm(x.inputs_embeds, None, x.attention_mask, x.position_ids, x.cache, use_cache=False,
                            labels=x.labels).loss
    assert torch.allclose(ours, reference, rtol=1e-5, atol=1e-6)


def test_graph_tokens_are_spliced_in_at_the_question(tokenizer, qa):
    """Soft tokens from the graph go at each row's graph position, on both padding sides; the text around them
    and its labels are kept in order."""
    from graphllm.models.graph_llm import _insert

    torch.manual_seed(0)
    model = build_model(load_recipe("graph-token"), tiny_llm("llama")).eval()
    for mode in ("train", "generate"):
        batch = GraphCollator(tokenizer, mode)(qa[:4])
        x = model.prepare(batch)
        soft = model.bridge_output(batch)
        text = model.llm.get_input_embeddings()(batch.input_ids)
        for i in range(4):
            at, count = int(batch.graph_position[i]), soft.embeds.shape[1]
            expected = torch.cat([text[i, :at], soft.embeds[i], text[i, at:]])
            assert torch.allclose(x.inputs_embeds[i], expected)
            text_mask = batch.attention_mask[i].bool()
            mask = torch.cat([text_mask[:at], soft.embeds_mask[i], text_mask[at:]])
            assert torch.equal(x.attention_mask[i].bool(), mask)
            if mode == "train":
                assert (x.labels[i, at:at + count] == -100).all()
                assert torch.equal(x.labels[i][x.labels[i] != -100], batch.labels[i][batch.labels[i] != -100])
    # gradients reach the soft tokens through the splice
    soft = torch.randn(2, 3, 4, requires_grad=True)
    out, _, _ = _insert(torch.zeros(2, 5, 4), torch.ones(2, 5, dtype=torch.bool), None, soft,
                        torch.ones(2, 3, dtype=torch.bool), torch.tensor([0, 5]))
    out.sum().backward()
    assert torch.equal(soft.grad, torch.ones_like(soft))


def test_prefix_shape_follows_the_llm(tokenizer, qa):
    for arch in TINY_ARCHS:
        llm = tiny_llm(arch)
        shape = LLMShape.of(llm.config)
        model = build_model(load_recipe("graph-prefix"), llm)
        batch = GraphCollator(tokenizer, "train")(qa[:2])
        out = model.bridge_output(batch)
        assert len(out.prefix) == shape.layers
        assert out.prefix[0][0].shape == (2, shape.kv_heads, out.prefix_mask.shape[1], shape.head_dim)


def test_gnn_readout_tokens_and_named_nodes(tokenizer, qa):
    encoder = GNNEncoder(GNNConfig(hidden=16, graph_tokens=3))
    batch = GraphCollator(tokenizer, "train")(qa[:5])
    tokens = encoder(batch.graph, batch.node_index)
    assert tokens.tokens.shape == (5, 3 + batch.node_index.shape[1], 16)
    assert tokens.mask[:, :3].all() and torch.equal(tokens.mask[:, 3:], batch.node_mask)
    for conv in ("gcn", "gin", "gat", "transformer"):
        GNNEncoder(GNNConfig(conv=conv, hidden=16))(batch.graph, batch.node_index)


def test_sum_token_sees_the_graph_size_that_attention_pooling_averages_away():
    """Two disjoint copies of a triangle against one triangle: every node state is the same, so attention pooling
    (a weighted mean) gives the same tokens, and only the sum token (and the degree input) can count."""
    from torch_geometric.data import Batch, Data

    triangle = torch.tensor([[0, 1, 1, 2, 2, 0], [1, 0, 2, 1, 0, 2]])
    one = Data(edge_index=triangle, num_nodes=3)
    two = Data(edge_index=torch.cat([triangle, triangle + 3], dim=1), num_nodes=6)
    graphs = Batch.from_data_list([one, two])
    no_named = torch.full((2, 1), -1)
    torch.manual_seed(0)
    plain = GNNEncoder(GNNConfig(hidden=16, graph_tokens=2, node_ids=False, laplacian_pe=0)).eval()
    tokens = plain(graphs, no_named).tokens
    torch.testing.assert_close(tokens[0, :2], tokens[1, :2])
    counting = GNNEncoder(GNNConfig(hidden=16, graph_tokens=2, node_ids=False, laplacian_pe=0, degree=True,
                                    sum_token=True)).eval()
    tokens = counting(graphs, no_named)
    assert tokens.tokens.shape == (2, 2 + 1 + 1, 16) and tokens.mask[:, :3].all()
    torch.testing.assert_close(tokens.tokens[0, :2], tokens.tokens[1, :2])  # the mean is still the same
    assert (tokens.tokens[0, 2] - tokens.tokens[1, 2]).abs().max() > 1e-3  # the sum is not
    star = Data(edge_index=torch.tensor([[0, 0, 0, 1, 2, 3], [1, 2, 3, 0, 0, 0]]), num_nodes=4)
    inputs = dict(hidden=16, layers=0, node_ids=False, laplacian_pe=0)  # node states before any message passing
    without = GNNEncoder(GNNConfig(**inputs)).node_states(Batch.from_data_list([star]))
    states = GNNEncoder(GNNConfig(**inputs, degree=True)).node_states(Batch.from_data_list([star]))
    assert torch.equal(without[0], without[1])  # nothing tells the centre from a leaf
    assert (states[0] - states[1]).abs().max() > 1e-3 and torch.equal(states[1], states[2])


@pytest.mark.parametrize("conv", ["gat", "gcn"])
def test_averaging_convolutions_give_different_graphs_different_tokens(conv, tokenizer, qa):
    """Nodes without a known label get no shared label vector: with one (a random vector, as before), the spread
    measured here was 0.015 for GAT and 0.046 for GCN, against 0.146 and 0.135 without; the GAT graph token
    stayed at the majority class in bench train."""
    torch.manual_seed(0)
    encoder = GNNEncoder(GNNConfig(conv=conv, layers=2, hidden=64, node_ids=False, laplacian_pe=0, graph_tokens=1,
                                   input_dim=20)).eval()
    assert not encoder.label.weight[0].any()
    graphs = [d.clone() for d in qa[:16]]
    for d in graphs:
        d.x = torch.nn.functional.one_hot(torch.arange(d.num_nodes), 20).float()
    batch = GraphCollator(tokenizer, "train")(graphs)
    with torch.no_grad():
        pooled = encoder(batch.graph, batch.node_index).tokens[:, 0]
        with_labels = encoder.label.weight.clone()
        encoder.label.weight[1:] += 5.0  # labels no node here has: nothing may change
        assert torch.equal(encoder(batch.graph, batch.node_index).tokens[:, 0], pooled)
        encoder.label.weight.copy_(with_labels)
    spread = pooled.std(0).mean() / pooled.std(1).mean()  # across graphs, relative to across channels
    assert spread > 0.08


def _small_model():
    torch.manual_seed(1)
    return build_model(load_recipe("graph-prefix"), tiny_llm("llama", seed=1))


def test_resumed_run_ends_with_the_same_weights(tmp_path, tokenizer, qa):
    collator = GraphCollator(tokenizer, "train")
    config = TrainConfig(steps=8, batch_size=4, lr=1e-2, warmup=2, eval_every=4, checkpoint_every=3, seed=5)
    straight = _small_model()
    train(straight, qa[:40], qa[40:48], collator, config, tmp_path / "a", progress=False)
    killed = _small_model()
    train(killed, qa[:40], qa[40:48], collator, config, tmp_path / "b", progress=False, stop_after=5)
    resumed = _small_model()  # a fresh process: weights come from the checkpoint (step 3)
    history = train(resumed, qa[:40], qa[40:48], collator, config, tmp_path / "b", progress=False)
    assert history.step == 8
    a, b = straight.trainable_parameters(), resumed.trainable_parameters()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert [e["step"] for e in history.evaluations] == [] and [s for s, _ in history.val_loss] == [4, 8]

    # Going on from a checkpoint under another config trains what no single run trains: refused, saying what
    # differs; a longer run of the same config goes on, a shorter one is refused.
    with pytest.raises(CheckpointError, match=r"\(lr 0.01 -> 0.02\); pass --restart"):
        train(_small_model(), qa[:40], qa[40:48], collator, dataclasses.replace(config, lr=2e-2), tmp_path / "b",
              progress=False)
    with pytest.raises(CheckpointError, match="already trained 8 steps, more than the 6 asked for"):
        train(_small_model(), qa[:40], qa[40:48], collator, dataclasses.replace(config, steps=6), tmp_path / "b",
              progress=False)
    seen = []
    longer = train(_small_model(), qa[:40], [], collator, dataclasses.replace(config, steps=10), tmp_path / "b",
                   progress=False, evaluate=lambda model, h: seen.append(h.step) or {"seen": h.step})
    assert longer.step == 10 and seen == [10] and longer.evaluations == [{"step": 10, "seen": 10}]


def test_corrupt_checkpoint_is_a_clear_error(tmp_path, tokenizer, qa):
    (tmp_path / "trainable.safetensors").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="not a readable safetensors checkpoint"):
        load_trainable(_small_model(), tmp_path / "trainable.safetensors")
    other = build_model(load_recipe("graph-token"), tiny_llm("llama"))
    train(other, qa[:8], [], GraphCollator(tokenizer, "train"), TrainConfig(steps=1, batch_size=4, warmup=1),
          tmp_path / "token", progress=False)
    with pytest.raises(CheckpointError, match="does not fit this model"):
        load_trainable(_small_model(), tmp_path / "token" / "trainable.safetensors")


def test_recipes_load_and_bad_ones_are_clear(tmp_path):
    assert {"zero-shot", "graph-token", "graph-prefix"} <= set(recipe_names())
    with pytest.raises(RecipeError, match="no recipe 'nope'"):
        load_recipe("nope")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nbridge: graph-sufix\n")
    with pytest.raises(RecipeError, match=r"bad\.yaml: bridge: unknown bridge 'graph-sufix'; choose from graph-prefix, "
                                          r"soft-tokens$"):
        load_recipe(bad)
    # the tagged form, and the form runs stored before bridges were tagged
    for body in ("bridge: {kind: graph-prefix, mode: mlp, middim: 3}",
                 "bridge: graph-prefix\nbridge_options: {mode: mlp, middim: 3}"):
        bad.write_text(f"name: x\n{body}\n")
        with pytest.raises(RecipeError, match=r"bridge\.middim: unknown setting \(known: kind, mode, mid_dim, "
                                              r"init_scale, count_digits\)$"):
            load_recipe(bad)
    for body, message in (("gnn: {layrs: 3}", r"bad\.yaml: gnn\.layrs: unknown setting \(known: conv, layers"),
                          ("gnn: {layers: x}", r"gnn\.layers: Input should be a valid integer"),
                          ("gnn: {hidden: 30}", r"gnn\.hidden: Input should be a multiple of 4"),
                          ("gnn: {conv: gan}", r"gnn\.conv: unknown convolution 'gan'; choose from gat, gcn, gin, "
                                               r"transformer$"),
                          ("gnn: {conv: {kind: gat, heds: 2}}", r"gnn\.conv\.heds: unknown setting \(known: kind, "
                                                                r"heads\)$"),
                          ("gnn: {conv: {kind: gcn, heads: 2}}", r"gnn\.conv\.heads: unknown setting \(known: kind\)"),
                          ("train: {stepz: 3}", r"train\.stepz: unknown setting \(known: steps, batch_size"),
                          ("train: {steps: many}", r"train\.steps: Input should be a valid integer"),
                          ("train: {schedule: linear}", r"train: schedule must be 'cosine' or 'constant'")):
        bad.write_text(f"name: x\nbridge: graph-prefix\n{body}\n")
        with pytest.raises(RecipeError, match=message):
            load_recipe(bad)
    bad.write_text("name: x\nbridge: {kind: soft-tokens, encoder: gru}\n")
    with pytest.raises(RecipeError, match=r"bridge\.encoder: Input should be 'mlp' or 'lstm'"):
        load_recipe(bad)
    bad.write_text("name: x\ntask_train: {triangle_countin: {lr: 0.1}}\n")
    with pytest.raises(RecipeError, match=r"task_train: unknown task 'triangle_countin'; choose from edge_existence, "):
        load_recipe(bad)
    bad.write_text("name: x\ntask_train: {triangle_counting: {lrr: 0.1}}\n")
    with pytest.raises(RecipeError, match=r"task_train\.triangle_counting\.lrr: unknown setting \(known: steps"):
        load_recipe(bad)
    bad.write_text("name: x\nbridge_options: {mode: mlp}\n")
    with pytest.raises(RecipeError, match="bridge_options given without a bridge name"):
        load_recipe(bad)


def test_a_task_trained_alone_takes_its_own_settings_over_the_shared_ones(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("name: r\ntrain: {steps: 30, lr: 0.001}\ntask_train: {triangle_counting: {lr: 0.0005}}\n")
    recipe = load_recipe(path)
    alone = recipe.for_tasks(["triangle_counting"])
    assert (alone.train.lr, alone.train.steps, alone.task_train) == (0.0005, 30, {})
    for tasks in (["node_count"], ["triangle_counting", "node_count"]):  # no settings of its own; a joint run
        assert recipe.for_tasks(tasks).train == TrainConfig(steps=30, lr=0.001)
    assert Recipe.model_validate_json(recipe.model_dump_json()) == recipe


def test_a_bridge_and_a_convolution_register_themselves_with_typed_options():
    from graphllm.models.bridges import REGISTRY
    from graphllm.models.convolutions import CONVOLUTIONS

    assert set(REGISTRY) == {"soft-tokens", "graph-prefix"}
    assert set(CONVOLUTIONS) == {"gat", "gcn", "gin", "transformer"}
    for name in recipe_names():
        recipe = load_recipe(name)
        if recipe.bridge is not None:
            assert isinstance(recipe.bridge, REGISTRY[recipe.bridge.kind].options)
            assert isinstance(recipe.gnn.conv, CONVOLUTIONS[recipe.gnn.conv.kind].options)
    assert GNNConfig(conv="gat").conv.heads == 4 and GNNConfig(conv={"kind": "gat", "heads": 2}).conv.heads == 2
    # a run stored before bridges were tagged reads as the same recipe, so a finished run is not run again
    text = (RECIPES_DIR / "graph-token.yaml").read_text()
    stored = text.replace("bridge: {kind: soft-tokens, encoder: mlp}",
                          "bridge: soft-tokens\nbridge_options: {encoder: mlp}")
    assert stored != text and Recipe.model_validate(yaml.safe_load(stored)) == load_recipe("graph-token")


def test_experiment_writes_results_with_the_majority_baseline(tmp_path, tokenizer, qa):
    data = ExperimentData(qa[:40], qa[40:48], [d for d in qa[48:] if d.task == "cycle_check"][:6]
                          + [d for d in qa[48:] if d.task == "edge_existence"][:6])
    result = run("graph-prefix", ["cycle_check", "edge_existence"], data, tmp_path / "runs" / "gp",
                 llm=tiny_llm("qwen2"), tokenizer=tokenizer, train_overrides={"steps": 3, "batch_size": 4},
                 progress=False, max_new_tokens=4, results_dir=tmp_path / "results")
    assert set(result.accuracy) == {"cycle_check", "edge_existence"}
    assert result.n == {"cycle_check": 6, "edge_existence": 6}
    assert set(result.majority) == {"cycle_check", "edge_existence"}
    assert result.train.steps == 3 and (tmp_path / "results" / "gp.json").exists()
    zero = run("zero-shot", ["cycle_check"], ExperimentData([], [], data.test[:4]), tmp_path / "runs" / "zs",
               llm=tiny_llm("gpt2"), tokenizer=tokenizer, progress=False, max_new_tokens=3, results_dir=None)
    assert zero.train is None and zero.n == {"cycle_check": 4}
    few = run("few-shot", ["cycle_check"], ExperimentData(data.train, [], data.test[:4]), tmp_path / "runs" / "fs",
              llm=tiny_llm("opt"), tokenizer=tokenizer, progress=False, max_new_tokens=3, results_dir=None)
    assert few.train is None and few.n == {"cycle_check": 4}
    retriever = run("g-retriever", ["cycle_check"], ExperimentData(data.train, [], data.test[:4]),
                    tmp_path / "runs" / "gr", llm=tiny_llm("llama"), tokenizer=tokenizer,
                    train_overrides={"steps": 2, "batch_size": 2}, progress=False, max_new_tokens=3, results_dir=None)
    assert retriever.train.steps == 2


def test_per_task_run_trains_a_model_each_and_reuses_finished_parts(tmp_path, tokenizer, qa, monkeypatch):
    tasks = ["cycle_check", "edge_existence"]
    data = ExperimentData(qa[:40], qa[40:48], [d for t in tasks for d in [d for d in qa[48:] if d.task == t][:6]])
    made = []

    def new_llm():
        made.append(tiny_llm("llama", seed=len(made)))
        return made[-1]

    options = dict(new_llm=new_llm, tokenizer=tokenizer, train_overrides={"steps": 2, "batch_size": 4},
                   progress=False, max_new_tokens=4, results_dir=tmp_path / "results")
    result = run_per_task("graph-prefix-lora", tasks, data, tmp_path / "per-task", **options)
    assert len(made) == 2 and made[0] is not made[1]  # peft's LoRA stays in the LLM it was added to
    for task in tasks:
        part = (tmp_path / "per-task" / task / "results.json").read_text()
        assert f'"tasks": [\n    "{task}"\n  ]' in part
        assert {d.task for d in data.of_task(task).train} == {task}
    assert result.per_task and result.tasks == tasks and set(result.accuracy) == set(tasks)
    assert result.n == {t: sum(d.task == t for d in data.test) for t in tasks}
    assert result.train.models == 2 and result.train.steps == 2
    assert result.train.examples == 2 * 2 * 4
    assert (tmp_path / "results" / "per-task.json").exists()

    again = run_per_task("graph-prefix-lora", tasks, data, tmp_path / "per-task", **options)
    assert len(made) == 2 and again.accuracy == result.accuracy  # both parts finished: nothing ran
    fewer = ExperimentData(data.train, data.validation, [d for d in data.test if d.task == "cycle_check"][:3]
                           + [d for d in data.test if d.task == "edge_existence"])
    changed = run_per_task("graph-prefix-lora", tasks, fewer, tmp_path / "per-task", **options)
    assert len(made) == 3 and changed.n["cycle_check"] == 3  # other data: that part evaluated again
    longer = run_per_task("graph-prefix-lora", tasks, fewer, tmp_path / "per-task",
                          **{**options, "train_overrides": {"steps": 3, "batch_size": 4}})
    assert len(made) == 5 and longer.train.steps == 3

    scores = evaluate_run(tmp_path / "per-task", fewer, new_llm=new_llm, tokenizer=tokenizer)
    assert len(made) == 7 and scores["accuracy"] == longer.accuracy and scores["n"] == longer.n
    stored = stored_result(tmp_path / "per-task")
    same = store_evaluation(stored, "per-task", fewer, scores, tmp_path / "results")
    assert same.name == "per-task.json" and json.loads(same.read_text())["data"] == longer.data
    fewest = ExperimentData(data.train, data.validation, [d for d in fewer.test if d.task == "cycle_check"][:2]
                            + [d for d in fewer.test if d.task == "edge_existence"][:2])
    other = store_evaluation(stored, "per-task", fewest,
                             evaluate_run(tmp_path / "per-task", fewest, new_llm=new_llm, tokenizer=tokenizer),
                             tmp_path / "results")
    kept = json.loads(other.read_text())
    assert other.name == "per-task-test4.json" and kept["n"] == {"cycle_check": 2, "edge_existence": 2}
    assert kept["train"] == longer.to_dict()["train"] and kept["per_task"] and kept["data"]["cycle_check"]["test"] == 2
    assert json.loads(same.read_text())["n"] == longer.n  # the other sample got a file of its own
    with pytest.raises(GraphLLMError, match="no readable results.json"):
        stored_result(tmp_path / "per-task" / "missing")
    with pytest.raises(GraphLLMError, match="one model per task; pass one of them: .*cycle_check"):
        load_model(tmp_path / "per-task", llm=new_llm(), tokenizer=tokenizer)
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(GraphLLMError, match="in one process"):
        run_per_task("graph-prefix-lora", tasks, fewer, tmp_path / "per-task", **options)


def test_adapters_start_as_the_identity(tokenizer, qa):
    from graphllm.models.adapters import Adapters

    for arch in TINY_ARCHS:
        llm = tiny_llm(arch)
        batch = GraphCollator(tokenizer, "train", include_graph_text=True)(qa[:2])
        before = llm(input_ids=batch.input_ids, attention_mask=batch.attention_mask).logits
        shape = LLMShape.of(llm.config)
        adapters = Adapters(llm, shape.layers, shape.hidden, 8)
        after = llm(input_ids=batch.input_ids, attention_mask=batch.attention_mask).logits
        assert torch.allclose(before, after, atol=1e-6)
        assert len(adapters._hooks) == 2 * shape.layers
        adapters.remove()


def test_eval_stores_results_only_for_a_trained_run_and_plain_accuracy(tmp_path, capsys):
    from graphllm.cli import main

    assert main(["eval", "--run", str(tmp_path), "--results", str(tmp_path), "--self-revise", "1"]) == 2
    assert "evaluate with --self-revise without it" in capsys.readouterr().err
    assert main(["eval", "--run", str(tmp_path), "--results", str(tmp_path)]) == 2  # before any model loads
    assert "no readable results.json" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
