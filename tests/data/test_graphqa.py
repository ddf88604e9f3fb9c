"""GraphQA: every label checked against networkx on thousands of generated graphs."""

from __future__ import annotations

import gzip
import json

import networkx as nx
import pytest

from graphllm.data.graphqa import TASKS, GraphQAConfig, format_statistics, generate, load, save, statistics, to_data
from graphllm.data.graphqa.dataset import DatasetError
from graphllm.data.graphqa.graphs import GENERATORS, Graph, generate_graph
from tests.conftest import run_cli


@pytest.fixture(scope="module")
def examples():
    return generate(GraphQAConfig(examples=12 * 600, seed=7), workers=2)


def _nx(example) -> nx.Graph:
    graph = nx.Graph()
    graph.add_nodes_from(range(example.num_nodes))
    graph.add_edges_from(map(tuple, example.edges))
    return graph


def _expected(example):
    g = _nx(example)
    nodes = example.nodes
    task = example.task
    if task == "edge_existence":
        return g.has_edge(*nodes)
    if task == "node_degree":
        return g.degree[nodes[0]]
    if task == "node_count":
        return g.number_of_nodes()
    if task == "edge_count":
        return g.number_of_edges()
    if task == "connected_nodes":
        return set(g.neighbors(nodes[0]))
    if task == "disconnected_nodes":
        return set(g.nodes) - set(g.neighbors(nodes[0])) - {nodes[0]}
    if task == "cycle_check":
        return len(nx.cycle_basis(g)) > 0
    if task == "reachability":
        return nx.has_path(g, *nodes)
    if task == "shortest_path":
        return nx.shortest_path_length(g, *nodes) if nx.has_path(g, *nodes) else None
    if task == "triangle_counting":
        return sum(nx.triangles(g).values()) // 3
    if task == "maximum_flow":
        flow = nx.DiGraph()
        flow.add_nodes_from(g.nodes)
        for (u, v), c in zip(map(tuple, example.edges), example.capacities, strict=True):
            flow.add_edge(u, v, capacity=c)
            flow.add_edge(v, u, capacity=c)
        return nx.maximum_flow_value(flow, *nodes)
    raise AssertionError(task)


def test_every_label_matches_networkx(examples):
    checked = 0
    for example in examples:
        if example.task == "node_classification":
            continue
        expected = _expected(example)
        value = set(example.value) if isinstance(example.value, list) else example.value
        assert value == expected, (example.id, example.question, example.answer)
        checked += 1
    assert checked >= 6000


def test_node_classification_labels_are_the_sbm_blocks(examples):
    rows = [e for e in examples if e.task == "node_classification"]
    assert len(rows) == 600
    for e in rows:
        assert e.generator == "sbm" and len(e.classes) == 2 and e.value in e.classes
        assert len(e.known_labels) == e.num_nodes // 2
        assert str(e.nodes[0]) not in e.known_labels
        names = e.names()
        for node, label in e.known_labels.items():
            assert f"Node {names[int(node)]} likes {e.classes[label]}.\n" in e.text


def test_answers_parse_back_and_referenced_nodes_exist(examples):
    for e in examples:
        assert all(0 <= v < e.num_nodes for v in e.nodes)
        assert 5 <= e.num_nodes <= 19
        assert e.parse(e.answer) == e.value, (e.task, e.answer)
        names = e.names()
        for v in e.nodes:
            assert names[v] in e.question
        if e.task in ("edge_existence", "reachability", "shortest_path", "maximum_flow"):
            assert len(set(e.nodes)) == 2


def test_wrong_answers_parse_to_other_values(examples):
    e = next(x for x in examples if x.task == "connected_nodes" and x.value)
    assert e.parse("No nodes.") == []
    assert e.parse("banana") is None
    assert next(x for x in examples if x.task == "cycle_check").parse("maybe") is None


def test_generators_have_their_shape():
    import random

    rng = random.Random(1)
    for _ in range(200):
        for name in GENERATORS:
            g = generate_graph(rng, name)
            assert 5 <= g.n <= 19 and all(0 <= u < v < g.n for u, v in g.edges)
            if name == "complete":
                assert len(g.edges) == g.n * (g.n - 1) // 2
            if name in ("star", "path"):
                assert len(g.edges) == g.n - 1 and nx.is_connected(_nx_graph(g))
            if name == "ba":
                assert nx.is_connected(_nx_graph(g))


def _nx_graph(g: Graph) -> nx.Graph:
    out = nx.Graph()
    out.add_nodes_from(range(g.n))
    out.add_edges_from(g.edges)
    return out


def test_splits_never_share_a_graph_even_relabelled(examples):
    by_split: dict[str, set[str]] = {}
    for e in examples:
        h = nx.weisfeiler_lehman_graph_hash(_nx(e), iterations=3)
        by_split.setdefault(e.split, set()).add(h)
    assert set(by_split) == {"train", "validation", "test"}
    assert not by_split["train"] & by_split["validation"]
    assert not by_split["train"] & by_split["test"]
    assert not by_split["validation"] & by_split["test"]


def test_deterministic_from_the_seed_whatever_the_workers():
    config = GraphQAConfig(examples=600, seed=3)
    assert generate(config, workers=1) == generate(config, workers=2)
    assert generate(config, workers=1) != generate(GraphQAConfig(examples=600, seed=4), workers=1)


def test_text_encoders():
    config = GraphQAConfig(examples=60, tasks=["edge_count"], encoders=["incident"], generators=["path"])
    e = generate(config, workers=1)[0]
    assert e.text.startswith("G describes a graph among nodes 0, 1, 2")
    assert "Node 0 is connected to node 1.\n" in e.text
    assert e.prompt().endswith("Q: How many edges are in this graph?\nA: ")
    friends = generate(GraphQAConfig(examples=6, tasks=["node_count"], encoders=["friendship"]), workers=1)[0]
    assert "are friends.\n" in friends.text and "Alice" in friends.text


def test_to_data(examples):
    e = next(x for x in examples if x.task == "maximum_flow" and x.edges)
    data = to_data(e)
    assert data.num_nodes == e.num_nodes
    assert data.edge_index.shape == (2, 2 * len(e.edges))
    assert data.edge_capacity.shape == (2 * len(e.edges),)
    assert data.nodes.tolist() == e.nodes and data.question == e.question and data.answer == e.answer
    nc = to_data(next(x for x in examples if x.task == "node_classification"))
    assert (nc.known_label >= 0).sum().item() == nc.num_nodes // 2


def test_save_and_load_round_trip(tmp_path, examples):
    config = GraphQAConfig(examples=len(examples), seed=7)
    counts = save(examples, tmp_path / "qa", config)
    assert sum(counts.values()) == len(examples)
    loaded = load(tmp_path / "qa")
    key = {e.id: e for e in examples}
    assert len(loaded) == len(examples) and all(key[e.id] == e for e in loaded)
    assert len(load(tmp_path / "qa", "test")) == counts["test"]


def test_corrupt_files_fail_with_file_and_line(tmp_path):
    examples = generate(GraphQAConfig(examples=24), workers=1)
    save(examples, tmp_path, GraphQAConfig(examples=24))
    with gzip.open(tmp_path / "train.jsonl.gz", "rt") as fh:
        lines = fh.read().splitlines()
    lines[1] = lines[1].replace('"task"', '"tsak"')
    with gzip.open(tmp_path / "train.jsonl.gz", "wt") as fh:
        fh.write("\n".join(lines) + "\n")
    with pytest.raises(DatasetError, match=r"train\.jsonl\.gz:2: bad example"):
        load(tmp_path)
    (tmp_path / "meta.json").write_text(json.dumps({"format": "other", "version": 1}))
    with pytest.raises(DatasetError, match="is not graphllm-graphqa"):
        load(tmp_path)
    with pytest.raises(DatasetError, match="no meta.json"):
        load(tmp_path / "nothing")


def test_statistics(examples):
    stats = statistics(examples)
    assert set(stats) == set(TASKS)
    assert stats["node_count"]["count"] == 600
    assert 0 < stats["cycle_check"]["majority_accuracy"] < 1
    assert set(stats["node_classification"]["labels"]) == {"option 1", "option 2"}
    assert "majority" in format_statistics(stats)


def test_cli_generates_and_prints_stats(tmp_path):
    out = tmp_path / "qa"
    result = run_cli("data", "graphqa", "--out", str(out), "--examples", "240", "--seed", "1", "--stats")
    assert result.returncode == 0, result.stderr
    assert "cycle_check" in result.stdout and "majority" in result.stdout
    assert (out / "meta.json").exists()
    bad = run_cli("data", "graphqa", "--out", str(out), "--tasks", "cycle_chek")
    assert bad.returncode == 2 and "unknown or no task" in bad.stderr


def test_every_task_module_registers_its_task_in_its_place(monkeypatch):
    import pkgutil

    import graphllm.data.graphqa.tasks as package
    from graphllm.data.graphqa.tasks import base

    modules = {m.name for m in pkgutil.iter_modules(package.__path__)} - {"base"}
    assert set(TASKS) == modules  # one module per task, named after it
    assert [t.position for t in TASKS.values()] == sorted(t.position for t in TASKS.values())
    monkeypatch.setattr(base, "REGISTRY", dict(base.REGISTRY))

    class LeafCount(base.Task):
        name, position = "leaf_count", 13

        def make(self, graph, names, rng):
            leaves = sum(len(graph.adjacency[v]) == 1 for v in range(graph.n))
            return base.TaskItem("How many nodes have exactly one neighbour?", f"{leaves}.", leaves, [])

        def parse(self, answer, names):
            return base.number(answer)

    base.register_task(LeafCount)
    assert base.REGISTRY["leaf_count"].parse("3.", []) == 3
    with pytest.raises(ValueError, match="registered twice"):
        base.register_task(LeafCount)
    LeafCount.name = "other"
    with pytest.raises(ValueError, match="takes position 13, which another task has"):
        base.register_task(LeafCount)
