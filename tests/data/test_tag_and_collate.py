"""Text-attributed graph readers (fixtures written in the G-Retriever formats), embeddings, Karate club,
and the collate function with the real SmolLM2 tokenizer."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from graphllm.data.collate import IGNORE, GraphCollator
from graphllm.data.graphqa import GraphQAConfig, generate, to_data
from graphllm.data.tag import TagFormatError, explagraphs, scenegraphs, webqsp
from graphllm.data.tag import to_data as tag_to_data
from graphllm.data.tag.karate import karate_examples
from tests.conftest import FIXTURES

TAG_FILES = FIXTURES / "tag"


def test_explagraphs_reader():
    graphs = explagraphs.read(TAG_FILES / "explagraphs.tsv")
    assert [g.answer for g in graphs] == ["support", "counter"]
    first = graphs[0]
    assert first.node_texts == ["car-free centre", "less pollution", "better health", "city"]
    assert first.edges == [(0, 1), (1, 2), (3, 2)] and first.edge_texts == ["causes", "capable of", "desires"]
    assert "Argument 1: Cities should ban cars" in first.question and "'support' or 'counter'" in first.question
    assert first.text().startswith("node_id,node_attr\n0,car-free centre\n")


def test_scenegraphs_reader():
    graphs = scenegraphs.read(TAG_FILES / "scenegraphs")
    assert [g.answer for g in graphs] == ["white", "yes", "cat"]
    assert graphs[0].node_texts[1].startswith("name: tree; attribute: tall, green")
    assert graphs[0].edges == [(0, 1), (2, 3), (1, 2)]
    assert graphs[2].edges == [(0, 1)] and graphs[2].edge_texts == ["sitting on"]


def test_webqsp_reader():
    graphs = webqsp.read(TAG_FILES / "webqsp.jsonl")
    assert graphs[0].answers == ["Portuguese Language"] and graphs[0].node_texts[0] == "Portugal"
    assert graphs[0].nodes == [0]  # the topic entity
    assert graphs[1].edge_texts[0] == "book.written_work.author"


def _broken_copy(tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    source = TAG_FILES / name
    shutil.copytree(source, target) if source.is_dir() else shutil.copy(source, target)
    return target


@pytest.mark.parametrize(
    ("name", "edit", "message"),
    [
        ("explagraphs.tsv", lambda t: t.replace("(city; desires; better health)", "(city; desires)"),
         r"explagraphs\.tsv:2: triple \(city; desires\)"),
        ("explagraphs.tsv", lambda t: t.replace("\tcounter\t", "\tmaybe\t"), r"explagraphs\.tsv:3: label must be"),
        ("explagraphs.tsv", lambda t: t.replace("\tsupport\t", " support "), r"explagraphs\.tsv:2: expected 4"),
        ("webqsp.jsonl", lambda t: t.replace('["Dracula", "book.book.genre", "Gothic fiction"]', '["Dracula"]'),
         r"webqsp\.jsonl:2: graph\[2\]"),
        ("webqsp.jsonl", lambda t: t.replace('{"id": "WebQTest-fixture-2"', '{"id" "x"'), r"webqsp\.jsonl:2: not JSON"),
    ],
)
def test_malformed_input_names_file_and_line(tmp_path, name, edit, message):
    path = _broken_copy(tmp_path, name)
    path.write_text(edit(path.read_text()))
    reader = explagraphs if name.startswith("expla") else webqsp
    with pytest.raises(TagFormatError, match=message):
        reader.read(path)


def test_malformed_scene_graph_names_file_and_line(tmp_path):
    root = _broken_copy(tmp_path, "scenegraphs")
    edges = root / "edges" / "1.csv"
    edges.write_text(edges.read_text() + "2,near,9\n")
    with pytest.raises(TagFormatError, match=r"edges/1\.csv:5: edge 2->9 names a node not in 1\.csv"):
        scenegraphs.read(root)
    (root / "nodes" / "2.csv").unlink()
    edges.write_text("src,edge_attr,dst\n0,on,1\n")
    with pytest.raises(TagFormatError, match=r"nodes/2\.csv:0: file not found"):
        scenegraphs.read(root)


@pytest.fixture(scope="module")
def encoder(tmp_path_factory):
    from graphllm.data.tag.embed import SentenceEncoder

    return SentenceEncoder(cache_path=tmp_path_factory.mktemp("emb") / "cache.sqlite")


def test_sentence_embeddings_are_cached_unit_vectors(encoder):
    vectors = encoder.encode(["a cat sits on the mat", "a kitten rests on a rug", "stock markets fell sharply"])
    assert vectors.shape == (3, 384)
    assert torch.allclose(vectors.norm(dim=1), torch.ones(3), atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.3
    calls = encoder.model_calls
    again = encoder.encode(["stock markets fell sharply", "a cat sits on the mat"])
    assert encoder.model_calls == calls
    assert torch.equal(again[1], vectors[0])


def test_tag_to_data(encoder):
    graph = explagraphs.read(TAG_FILES / "explagraphs.tsv")[0]
    data = tag_to_data(graph, encoder)
    assert data.x.shape == (4, 384) and data.edge_attr.shape == (3, 384)
    assert data.edge_index.tolist() == [[0, 1, 3], [1, 2, 2]]


def test_karate_club_node_task():
    examples = karate_examples()
    assert len(examples) == 34 and sum(e.split == "train" for e in examples) == 4
    assert all(e.answer == f"{int(e.y[e.nodes[0]])}." for e in examples)


@pytest.fixture(scope="module")
def qa_data():
    config = GraphQAConfig(examples=24, seed=5)
    return [to_data(e) for e in generate(config, workers=1)]


def test_training_batch_has_loss_only_on_answers(tokenizer, qa_data):
    batch = GraphCollator(tokenizer, mode="train")(qa_data[:6])
    assert batch.input_ids.shape == batch.labels.shape == batch.attention_mask.shape
    for i, data in enumerate(qa_data[:6]):
        answer_tokens = batch.labels[i][batch.labels[i] != IGNORE]
        assert tokenizer.decode(answer_tokens) == data.answer + "<|im_end|>"
        real = batch.input_ids[i][batch.attention_mask[i] == 1]
        prompt = tokenizer.decode(real[: len(real) - len(answer_tokens)])
        assert prompt.endswith("<|im_start|>assistant\n") and data.question in prompt
        assert batch.attention_mask[i, 0] == 1  # right padding in training
    assert (batch.labels[batch.attention_mask == 0] == IGNORE).all()


def test_generation_batch_is_left_padded(tokenizer, qa_data):
    batch = GraphCollator(tokenizer, mode="generate")(qa_data[:6])
    assert batch.labels is None
    assert (batch.attention_mask[:, -1] == 1).all()
    lengths = batch.attention_mask.sum(1)
    assert lengths.min() < lengths.max()  # padding was needed, and it is on the left
    short = int(lengths.argmin())
    assert batch.attention_mask[short, 0] == 0 and batch.input_ids[short, 0] == tokenizer.pad_token_id
    assert (batch.position_ids[batch.attention_mask == 1].min()) == 0
    for i in range(6):
        ends = tokenizer.decode(batch.input_ids[i, -3:])
        assert ends.endswith("assistant\n")


def test_referenced_nodes_index_the_batched_graph(tokenizer, qa_data):
    batch = GraphCollator(tokenizer, mode="generate")(qa_data)
    graph = batch.graph
    for i, data in enumerate(qa_data):
        picked = batch.node_index[i][batch.node_mask[i]]
        assert len(picked) == len(data.nodes)
        assert (graph.batch[picked] == i).all()
        assert (picked - graph.ptr[i]).tolist() == data.nodes.tolist()
    assert graph.num_graphs == len(qa_data)


def test_text_only_prompt_and_plain_format(tokenizer, qa_data):
    collator = GraphCollator(tokenizer, mode="generate", include_graph_text=True)
    prompt, _ = collator.texts(qa_data[0])
    assert qa_data[0].text.split("\n")[0] in prompt
    plain = tokenizer
    saved, plain.chat_template = plain.chat_template, None
    try:
        prompt, completion = GraphCollator(plain, mode="train").texts(qa_data[0])
        assert prompt.startswith("Question: ") and prompt.endswith("Answer: ")
        assert completion == qa_data[0].answer + tokenizer.eos_token
    finally:
        plain.chat_template = saved


def test_few_shot_prompts_show_solved_examples_first(tokenizer):
    rows = [to_data(e) for e in generate(GraphQAConfig(examples=3, tasks=["edge_count"], seed=9), workers=1)]
    question, first, second = rows
    collator = GraphCollator(tokenizer, "generate", include_graph_text=True, shots={"edge_count": [first, second]})
    prompt, completion = collator.texts(question)
    assert prompt.index(first.text) < prompt.index(second.text) < prompt.index(question.text)
    assert f"<|im_start|>assistant\n{first.answer}<|im_end|>" in prompt
    assert completion == question.answer + "<|im_end|>"


@pytest.mark.parametrize("mode", ["train", "generate"])
def test_graph_position_is_the_start_of_the_question_turn(tokenizer, qa_data, mode):
    """Graph soft tokens go where the question's user turn starts (after any few-shot turns), whatever the
    padding side, and marking the place does not change the tokens."""
    shots = {t: qa_data[:2] for t in {d.task for d in qa_data}}
    collator = GraphCollator(tokenizer, mode=mode, include_graph_text=True, shots=shots)
    examples = qa_data[4:10]
    batch = collator(examples)
    for i, data in enumerate(examples):
        start = int(batch.graph_position[i])
        assert tokenizer.decode(batch.input_ids[i, :start]).endswith("<|im_start|>user\n")
        assert tokenizer.decode(batch.input_ids[i, start:]).startswith(data.text.split("\n")[0])
        prompt, _ = collator.texts(data)
        real = batch.input_ids[i][batch.attention_mask[i] == 1].tolist()
        assert real[:len(tokenizer(prompt, add_special_tokens=False)["input_ids"])] == tokenizer(
            prompt, add_special_tokens=False)["input_ids"]
