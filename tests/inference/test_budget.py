"""The tree budget: its cost model, its choice of how much of a tree to verify, and the trees it cuts."""

from __future__ import annotations

import math

import pytest
import torch

from graphllm.inference.budget import PRIOR, PassCost, TreeBudget
from graphllm.inference.config import GenerationConfig, TreeShape
from graphllm.inference.drafts.base import grow_tree
from graphllm.inference.tree import TreeBuilder


def test_the_pass_cost_starts_from_the_prior_and_learns_the_machine():
    cost = PassCost()
    assert cost.weights().tolist() == pytest.approx(PRIOR)

    def law(rows, width):  # a machine unlike the prior's: extra tokens nearly free, rows dear
        return 0.02 + 0.01 * rows + 0.0005 * rows * (width - 1)

    for rows, width in [(8, 4), (8, 1), (7, 3), (5, 2), (3, 4), (2, 1), (1, 4), (1, 2)] * 6:
        cost.observe(rows, width, law(rows, width))
    for rows, width in [(6, 3), (4, 1), (1, 8)]:
        assert cost.predict(rows, width) == pytest.approx(law(rows, width), rel=0.05)


def _chain_tree(rows_scores):
    """One chain per row, with the given path probabilities."""
    builder = TreeBuilder([0] * len(rows_scores))
    for row, scores in enumerate(rows_scores):
        node = 0
        for token, score in enumerate(scores, start=1):
            node = builder.add(row, node, token, score=score)
    return builder.build("cpu")


def _fixed(prior):
    return PassCost(prior=prior, prior_weight=1e9)  # the prior outweighs any pass it is shown


def test_the_budget_keeps_what_pays_for_its_cost():
    tree = _chain_tree([[0.9, 0.8, 0.5, 0.05], [0.6, 0.2, 0.1, 0.01]])
    # a node column costs 10% of the pass's fixed cost: worth it while a row gains more than that
    chosen = TreeBudget(_fixed((1.0, 0.0, 0.05))).choose(tree)
    expected = max(range(1, 6), key=lambda n: (2 + sum(sorted([0.9, 0.8, 0.5, 0.05])[::-1][:n - 1])
                                                 + sum(sorted([0.6, 0.2, 0.1, 0.01])[::-1][:n - 1]))
                   / (1 + 0.1 * (n - 1)))
    assert chosen.size == expected == 4
    assert chosen.tokens[0].tolist() == [0, 1, 2, 3] and chosen.scores[1].tolist() == pytest.approx([1, 0.6, 0.2, 0.1])
    # free nodes: the whole tree; nodes dearer than any gain: still the first guess of every row
    assert TreeBudget(_fixed((1.0, 0.0, 0.0))).choose(tree) is tree
    assert TreeBudget(_fixed((0.0, 0.0, 1.0))).choose(tree).size == 2
    # without path probabilities (an n-gram tree) there is nothing to rank by
    builder = TreeBuilder([0])
    builder.add_path(0, [5, 6, 7])
    unscored = builder.build("cpu")
    assert unscored.scores is None and TreeBudget(_fixed((0.0, 0.0, 1.0))).choose(unscored) is unscored


def test_the_budget_learns_that_a_draft_is_better_than_it_says():
    tree = _chain_tree([[0.3, 0.1, 0.03]])
    budget = TreeBudget(_fixed(PRIOR))
    assert budget.calibration == 1.0
    for _ in range(20):
        budget.observe(tree, 0.1, accepted=3)  # every node accepted, though the draft gave them 0.43 in all
    assert budget.calibration > 3
    assert budget.choose(tree).size > TreeBudget(_fixed(PRIOR)).choose(tree).size


def test_best_nodes_form_a_tree():
    builder = TreeBuilder([0])
    a = builder.add(0, 0, 1, score=0.5)
    b = builder.add(0, 0, 2, score=0.4)
    builder.add(0, a, 3, score=0.1)
    builder.add(0, b, 4, score=0.35)
    tree = builder.build("cpu")
    best = tree.best(3)
    assert best.tokens[0].tolist() == [0, 1, 2, 4] and best.parents[0].tolist() == [-1, 0, 0, 2]
    assert best.ancestors()[0, 3].tolist() == [True, False, True, True]


def test_greedy_trees_carry_their_path_probabilities():
    probs = torch.tensor([0.5, 0.3, 0.2])

    def forward(tokens, positions, block_attend, parents):
        return probs.log().expand(tokens.shape[0], tokens.shape[1], -1)

    tree = grow_tree(forward, [0], torch.tensor([4]), TreeShape((2, 1)), GenerationConfig(), None)
    assert tree.tokens[0].tolist() == [0, 0, 1, 0, 0]
    assert tree.scores[0].tolist() == pytest.approx([1, 0.5, 0.3, 0.25, 0.15])
    sampled = grow_tree(forward, [0], torch.tensor([4]), TreeShape((2, 1)), GenerationConfig(temperature=1.0),
                        torch.Generator().manual_seed(0))
    assert sampled.scores is None  # sampled trees are verified whole: cutting them would bias the output
    assert math.isclose(float(tree.scores[0, 3]), float(tree.scores[0, 1] * probs[0]))


def test_tree_shapes_say_whether_they_are_trimmed():
    assert TreeShape.parse("1,1,3").trim and not TreeShape.parse("1,1,3:whole").trim
    assert str(TreeShape.parse("1,1,3:whole")) == "1,1,3:whole" and str(TreeShape.parse("2,1")) == "2,1"
    with pytest.raises(ValueError, match="1,1,3,1,1:whole"):
        TreeShape.parse("1,1:all")


def test_the_budget_verifies_a_whole_tree_now_and_then_to_learn_what_wider_passes_cost():
    # Passes of one width only cannot tell a row's cost from a node's, so without exploring, a budget that starts
    # at width 2 never learns that wider passes are cheap (as at batch 8 on a 2-core EPYC, where 2 and 4 nodes
    # cost 1.00 and 1.43 one-token steps)
    tree = _chain_tree([[0.9, 0.8, 0.5, 0.05]])
    budget = TreeBudget(_fixed((0.0, 0.0, 1.0)), explore_every=4)
    sizes = [budget.choose(tree).size for _ in range(8)]
    assert sizes == [2, 2, 2, 5, 2, 2, 2, 5]
    quiet = TreeBudget(_fixed((0.0, 0.0, 1.0)), explore_every=0)
    assert {quiet.choose(tree).size for _ in range(8)} == {2}
