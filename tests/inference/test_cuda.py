"""On a GPU (skipped without one): the engine, the drafts and training run there and give what they give on the
CPU. In float32, decoding on the GPU must equal decoding on the CPU token for token; speculative decoding on the
GPU must equal plain decoding on the GPU."""

from __future__ import annotations

import pytest
import torch

from graphllm.data.collate import GraphCollator
from graphllm.data.graphqa import GraphQAConfig, to_data
from graphllm.data.graphqa import generate as generate_graphqa
from graphllm.inference.config import GenerationConfig, TreeShape
from graphllm.inference.drafts import make_draft
from graphllm.inference.drafts.feature import FeatureDraft
from graphllm.inference.drafts.feature.training import FeatureDistillConfig, target_sequences, train_feature_draft
from graphllm.inference.generate import generate
from graphllm.inference.speculative import speculative_generate
from graphllm.models.build import build_model, load_recipe
from graphllm.models.llm import tiny_llm
from graphllm.train import TrainConfig, train

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
CUDA = torch.device("cuda")


@pytest.fixture(scope="module")
def questions():
    rows = generate_graphqa(GraphQAConfig(examples=24, tasks=["connected_nodes", "cycle_check"], seed=2), workers=1)
    return [to_data(r) for r in rows]


def _model(recipe: str, device: torch.device):
    torch.manual_seed(0)
    return build_model(load_recipe(recipe), tiny_llm("llama", layers=3)).to(device).eval()


@pytest.mark.parametrize("recipe", ["zero-shot", "graph-token", "graph-prefix"])
def test_decoding_on_the_gpu_is_decoding_on_the_cpu(recipe, tokenizer, questions):
    collator = GraphCollator(tokenizer, "generate", include_graph_text=load_recipe(recipe).include_graph_text)
    config = GenerationConfig(max_new_tokens=24, stop_ids=[tokenizer.eos_token_id])
    on_cpu = generate(_model(recipe, torch.device("cpu")), collator(questions[:6]), config)
    model = _model(recipe, CUDA)
    batch = collator(questions[:6]).to(CUDA)
    assert generate(model, batch, config) == on_cpu
    for draft, shape in (("ngram", "1,1,3,1,1"), ("early-exit:1", "2,2,1"), ("ngram+early-exit:1", "1,2,1")):
        assert speculative_generate(model, batch, make_draft(draft), config, TreeShape.parse(shape)) == on_cpu
    sampled = GenerationConfig(max_new_tokens=16, temperature=0.8, top_p=0.9, seed=3)
    runs = [speculative_generate(model, batch, make_draft("early-exit:1"), sampled, TreeShape.parse("2,1"))
            for _ in range(2)]
    assert runs[0] == runs[1]


@pytest.mark.parametrize("recipe", ["zero-shot", "graph-prefix"])
def test_cuda_graphs_on_a_static_cache_decode_as_eager_passes_do(recipe, tokenizer, questions):
    import dataclasses

    from graphllm.inference import static

    model = _model(recipe, CUDA)
    collator = GraphCollator(tokenizer, "generate", include_graph_text=load_recipe(recipe).include_graph_text)
    batch = collator(questions[:6]).to(CUDA)
    free = generate(model, batch, GenerationConfig(max_new_tokens=24))
    config = GenerationConfig(max_new_tokens=24, stop_ids=[free[1][5], free[4][12]])  # some rows end early
    eager = generate(model, batch, config)
    graphed = dataclasses.replace(config, static_cache=True)
    assert generate(model, batch, graphed) == eager
    for draft, shape in (("ngram", "1,1,3,1,1"), ("early-exit:1", "2,2,1:whole"), ("ngram+early-exit:1", "1,2,1")):
        assert speculative_generate(model, batch, make_draft(draft), graphed, TreeShape.parse(shape)) == eager

    def captured() -> list[tuple]:  # every graph of every buffer set kept (plain and speculative rooms differ)
        return [(id(kept), key, graph) for kept in static._POOL[model].values()
                for key, (graph, _, _) in kept.graphs.graphs.items()]

    before = captured()
    assert {(1, False), (16, False)} <= {key for _, key, _ in before}  # one-token steps, and the whole 2,2,1 tree
    assert generate(model, batch, graphed) == eager
    assert captured() == before  # the next decoding replayed the graphs it had, capturing none


def test_feature_draft_trains_and_decodes_on_the_gpu(tokenizer, questions):
    target = _model("graph-prefix", CUDA)
    collator = GraphCollator(tokenizer, "generate", max_prompt_tokens=48)
    sequences = target_sequences(target, questions[:8], collator, 20, [tokenizer.eos_token_id])
    draft, history = train_feature_draft(target, sequences, FeatureDistillConfig(epochs=3, lr=3e-3))
    assert draft.head.device.type == CUDA.type and history.loss[-1] == history.loss[-1]  # on the GPU, not NaN
    batch = collator(questions[:6]).to(CUDA)
    config = GenerationConfig(max_new_tokens=20)
    reference = generate(target, batch, config)
    for shape in ("1,1", "2,2,1"):  # trimmed by the budget, whose cost model lives on the CPU
        assert speculative_generate(target, batch, FeatureDraft(draft), config, TreeShape.parse(shape)) == reference


def test_distilled_draft_trains_and_decodes_on_the_gpu(tokenizer, questions):
    from graphllm.inference.drafts.distilled import DistilledDraft, build_draft_model
    from graphllm.inference.drafts.distilled.training import DistillConfig, distill

    target = _model("graph-prefix", CUDA)
    draft = build_draft_model(target, load_recipe("graph-prefix"), 1)
    distill(target, draft, questions[:16], GraphCollator(tokenizer, "train"), DistillConfig(layers=1, steps=3,
                                                                                          batch_size=4))
    batch = GraphCollator(tokenizer, "generate")(questions[:6]).to(CUDA)
    config = GenerationConfig(max_new_tokens=20)
    reference = generate(target, batch, config)
    assert speculative_generate(target, batch, DistilledDraft(draft), config, TreeShape.parse("1,1,3")) == reference


def test_training_on_the_gpu_uses_bf16_autocast_and_resumes(tmp_path, tokenizer, questions):
    collator = GraphCollator(tokenizer, "train")
    config = TrainConfig(steps=6, batch_size=4, lr=1e-2, warmup=2, eval_every=3, checkpoint_every=2, seed=5)
    straight = _model("graph-prefix", CUDA).train()
    history = train(straight, questions[:16], questions[16:20], collator, config, tmp_path / "a", progress=False)
    assert history.step == 6 and all(loss == loss for _, loss in history.train_loss)
    killed = _model("graph-prefix", CUDA).train()
    train(killed, questions[:16], questions[16:20], collator, config, tmp_path / "b", progress=False, stop_after=3)
    resumed = _model("graph-prefix", CUDA).train()
    train(resumed, questions[:16], questions[16:20], collator, config, tmp_path / "b", progress=False)
    a, b = straight.trainable_parameters(), resumed.trainable_parameters()
    # same weights up to the GPU's non-deterministic reductions (scatter-add in the GNN's message passing)
    assert all(torch.allclose(a[k], b[k], atol=1e-4, rtol=1e-3) for k in a)
