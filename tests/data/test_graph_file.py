"""Reading a user's graph file into the GraphQA format the models were trained on."""

from __future__ import annotations

import json
import re

import pytest

from graphllm.cli import main
from graphllm.data.graphqa.graph_file import GraphFileError, question_data, read_graph


def test_edge_lists_and_json_read_the_same_graph(tmp_path):
    (tmp_path / "g.txt").write_text("# comment\n0 1\n1,2\n\n2 3  # tail\n")
    (tmp_path / "g.json").write_text(json.dumps({"num_nodes": 4, "edges": [[1, 0], [1, 2], [2, 3]]}))
    assert read_graph(tmp_path / "g.txt") == read_graph(tmp_path / "g.json")
    assert read_graph(tmp_path / "g.txt").edges == ((0, 1), (1, 2), (2, 3))


def test_named_nodes_become_node_tokens(tmp_path):
    (tmp_path / "g.txt").write_text("0 1\n1 2\n2 3\n3 11\n")
    data = question_data(read_graph(tmp_path / "g.txt"), "Is there a path from node 1 to node 11?")
    assert data.nodes.tolist() == [1, 11]  # "1" inside "11" is not node 1 twice
    assert data.num_nodes == 12 and "(3, 11)" in data.text
    friends = question_data(read_graph(tmp_path / "g.txt"), "Is Bob friends with Carol?", "friendship")
    assert friends.nodes.tolist() == [1, 2]


@pytest.mark.parametrize(("name", "text", "message"), [
    ("bad.txt", "0 1\n1 x\n", "bad.txt:2: expected two node numbers"),
    ("bad.json", '{"edges": [[0]]}', "expected {\"num_nodes\""),
    ("range.json", '{"num_nodes": 2, "edges": [[0, 5]]}', "edge [0, 5] names a node outside 0..1"),
    ("float.json", '{"edges": [[0, 1.5]]}', "with whole numbers (TypeError: 1.5 is not a whole number)"),
    ("text.json", "0 1", "text.json: not JSON"),
    ("empty.txt", "# nothing\n", "empty.txt: the graph has no nodes"),
])
def test_bad_graph_files_say_where_and_what(tmp_path, name, text, message):
    (tmp_path / name).write_text(text)
    with pytest.raises(GraphFileError, match=re.escape(message)):
        read_graph(tmp_path / name)


def test_cli_fails_fast_with_one_line(tmp_path, capsys):
    assert main(["generate", "--recipe", "zero-shot", "--graph", str(tmp_path / "missing.txt"), "--question",
                 "x"]) == 2
    assert capsys.readouterr().err.strip().count("\n") == 0
    (tmp_path / "g.txt").write_text("0 1\n")
    assert main(["generate", "--recipe", "zero-shot", "--graph", str(tmp_path / "g.txt"), "--question", "x",
                 "--draft", "medusa"]) == 2
    assert "unknown draft 'medusa'" in capsys.readouterr().err
