"""The count readout and the count-digits bridge: exact counts, digits the LLM already knows, and a model that
trains, decodes and reloads with them."""

from __future__ import annotations

import pytest
import torch
from torch_geometric.data import Batch, Data

from graphllm.data.collate import GraphCollator
from graphllm.data.graphqa import GraphQAConfig, generate, to_data
from graphllm.inference.config import GenerationConfig
from graphllm.inference.generate import generate as generate_tokens
from graphllm.models.bridges.count_digits import CountDigits
from graphllm.models.build import build_model, load_recipe
from graphllm.models.count_readout import Counts, graph_counts
from graphllm.models.gnn import GNNConfig, GNNEncoder
from graphllm.models.llm import tiny_llm
from graphllm.train import load_trainable
from tests.conftest import losses_of_steps


def _undirected(pairs: list[tuple[int, int]]) -> torch.Tensor:
    edges = torch.tensor(pairs).t()
    return torch.cat([edges, edges.flip(0)], dim=1)


def test_counts_are_the_graphs_own():
    star = Data(edge_index=_undirected([(0, 1), (0, 2), (0, 3)]), num_nodes=5)  # node 4 is isolated
    path = Data(edge_index=_undirected([(0, 1), (1, 2)]), num_nodes=3)
    graphs = Batch.from_data_list([star, path])
    named = torch.tensor([[0, 4], [5 + 1, -1]])  # star's centre and isolated node; path's middle node
    counts = graph_counts(graphs.edge_index, graphs.batch, 2, named)
    assert counts.values.tolist() == [[5, 3, 3, 0], [3, 2, 2, 0]]
    assert counts.mask.tolist() == [[True] * 4, [True, True, True, False]]
    encoder = GNNEncoder(GNNConfig(hidden=16, count_readout=True))
    assert torch.equal(encoder(graphs, named).counts.values, counts.values)
    assert GNNEncoder(GNNConfig(hidden=16))(graphs, named).counts is None


def test_count_digits_are_the_llms_own_digit_embeddings_without_leading_zeros(tokenizer):
    llm = tiny_llm("llama")
    digits = CountDigits(llm, tokenizer)
    table = llm.get_input_embeddings().weight
    counts = Counts(values=torch.tensor([[0, 91, 5], [171, 8, 0]]),
                    mask=torch.tensor([[True, True, True], [True, True, False]]))
    embeds, mask = digits(counts)
    assert embeds.shape == (2, 3 * 4, 32)
    # per count: marker, then hundreds, tens, units; leading zeros and absent counts masked
    assert mask.int().tolist() == [[1, 0, 0, 1, 1, 0, 1, 1, 1, 0, 0, 1], [1, 1, 1, 1, 1, 0, 0, 1, 0, 0, 0, 0]]
    row = lambda text: table[tokenizer(text, add_special_tokens=False)["input_ids"][0]]  # noqa: E731
    torch.testing.assert_close(embeds[0, 3], row("0"))
    torch.testing.assert_close(embeds[0, 6:8], torch.stack([row("9"), row("1")]))
    torch.testing.assert_close(embeds[1, 1:4], torch.stack([row("1"), row("7"), row("1")]))
    torch.testing.assert_close(embeds[1, 7], row("8"))
    torch.testing.assert_close(embeds[0, 4], embeds[1, 4])  # the edges marker, shared
    assert not torch.equal(embeds[0, 0], embeds[0, 4])  # and not the nodes marker


def test_a_count_digits_model_trains_decodes_and_reloads(tokenizer, tmp_path):
    from safetensors.torch import save_file

    rows = generate(GraphQAConfig(examples=24, tasks=["edge_count", "node_degree"], seed=4), workers=1)
    qa = [to_data(r) for r in rows]
    recipe = load_recipe("graph-prefix-lora-count-digits")
    torch.manual_seed(0)
    model = build_model(recipe, tiny_llm("llama"), tokenizer=tokenizer)
    batch = GraphCollator(tokenizer, "train")(qa[:6])
    x = model.prepare(batch)
    assert x.inputs_embeds.shape[1] > batch.input_ids.shape[1]  # digits spliced in
    losses = losses_of_steps(model, batch, steps=5, lr=1e-2)
    assert losses[-1] < losses[0]
    model.eval()
    prompts = GraphCollator(tokenizer, "generate")(qa[:3])
    out = generate_tokens(model, prompts, GenerationConfig(max_new_tokens=4, stop_ids=[tokenizer.eos_token_id]))
    trainable = {k: v.detach().contiguous() for k, v in model.trainable_parameters().items()}
    assert "bridge.count_digits.markers" in trainable and not any("digit_embeds" in k for k in trainable)
    save_file(trainable, str(tmp_path / "trainable.safetensors"))
    torch.manual_seed(1)
    again = build_model(recipe, tiny_llm("llama"), tokenizer=tokenizer)
    load_trainable(again, tmp_path / "trainable.safetensors")
    assert generate_tokens(again.eval(), prompts, GenerationConfig(max_new_tokens=4,
                                                                   stop_ids=[tokenizer.eos_token_id])) == out


def test_count_digits_need_the_counts_and_the_tokenizer(tokenizer):
    recipe = load_recipe("graph-prefix-lora-count-digits")
    with pytest.raises(Exception, match="tokenizer"):
        build_model(recipe, tiny_llm("llama"))
    plain = recipe.model_copy(update={"gnn": recipe.gnn.model_copy(update={"count_readout": False})})
    model = build_model(plain, tiny_llm("llama"), tokenizer=tokenizer)
    rows = generate(GraphQAConfig(examples=4, tasks=["edge_count"], seed=4), workers=1)
    with pytest.raises(ValueError, match="count_readout: true"):
        model(GraphCollator(tokenizer, "train")([to_data(r) for r in rows]))


def test_a_distilled_draft_of_a_count_digits_model_writes_the_digits_too(tokenizer):
    from graphllm.inference.drafts.distilled import build_draft_model

    recipe = load_recipe("graph-prefix-lora-count-digits")
    target = build_model(recipe, tiny_llm("llama", layers=2), tokenizer=tokenizer)
    draft = build_draft_model(target, recipe, 1)
    assert draft.bridge.count_digits is not None and draft.tokenizer is tokenizer
    rows = generate(GraphQAConfig(examples=4, tasks=["edge_count"], seed=4), workers=1)
    batch = GraphCollator(tokenizer, "generate")([to_data(r) for r in rows])
    assert draft.prepare(batch).inputs_embeds.shape == target.prepare(batch).inputs_embeds.shape
