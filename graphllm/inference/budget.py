r"""How much of a draft tree to verify: the nodes that pay for what verifying them costs.

A node is accepted exactly when its whole path is the target's greedy choice, which the draft's path
probability estimates. A pass that verifies the root and the n - 1 most probable nodes of each of B rows
therefore commits, in expectation,

.. math::
    E(n) = \sum_{rows} \Big(1 + a \sum_{j < n} s_{(j)}\Big)

tokens (:math:`s_{(j)}` the row's path probabilities in decreasing order; :math:`a` the ratio of accepted to
predicted tokens seen so far, since drafts are not perfectly calibrated), and costs t(B, n). The budget keeps
the n >= 2 that maximises E(n) / t(B, n): EAGLE-2's reranking of a draft tree by confidence, with SmartSpec's
goodput deciding how many nodes a batch can afford. At batch 1 on a CPU an extra node costs a few percent of a
pass and nearly every node the draft believes in is kept; at batch 8 each node column costs every row compute
and fewer are.

The cost is fitted online to the passes it times, :math:`t = w_0 + w_1 B + w_2 B (n - 1)` (the weights read once
per pass, attention over each row's cache, compute per token), by least squares with pseudo-observations from
a prior shape (SmolLM2-135M on a 2-core CPU) and older passes forgotten, so it follows the machine.
"""

from __future__ import annotations

import torch

from graphllm.inference.tree import TokenTree

# t(B, n) in one-token steps at batch 1: the shape of `graphllm bench decode`'s pass costs of SmolLM2-135M on a
# 2-core CPU (a batch-8 step costs more than one at batch 1, a wide pass more than a step, both far less than
# in proportion). Only a starting point: the fit replaces it with the machine's own passes.
PRIOR = (0.75, 0.13, 0.03)
_PRIOR_POINTS = ((1, 1), (1, 4), (1, 8), (8, 1), (8, 2), (8, 4))


def _features(rows: int, width: int) -> torch.Tensor:
    return torch.tensor([1.0, float(rows), float(rows * (width - 1))], dtype=torch.float64)


class PassCost:
    """Seconds of one target pass over `rows` rows of `width` tree tokens each."""

    def __init__(self, prior: tuple[float, float, float] = PRIOR, prior_weight: float = 1.0,
                 forget: float = 0.97) -> None:
        self.prior = torch.tensor(prior, dtype=torch.float64)
        self.prior_weight, self.forget = prior_weight, forget
        self.gram = torch.zeros(3, 3, dtype=torch.float64)
        self.moment = torch.zeros(3, dtype=torch.float64)
        self.scale: float | None = None  # seconds per prior unit, set by the first pass timed

    def observe(self, rows: int, width: int, seconds: float) -> None:
        x = _features(rows, width)
        if self.scale is None:
            self.scale = seconds / float(x @ self.prior)
        self.gram = self.forget * self.gram + torch.outer(x, x)
        self.moment = self.forget * self.moment + x * seconds

    def weights(self) -> torch.Tensor:
        """(w0, w1, w2), in seconds once a pass has been timed (in prior units before)."""
        if self.scale is None:
            return self.prior
        gram, moment = self.gram.clone(), self.moment.clone()
        weight = self.prior_weight / len(_PRIOR_POINTS)
        for rows, width in _PRIOR_POINTS:  # where the passes say little, the prior's shape decides
            x = _features(rows, width)
            gram += weight * torch.outer(x, x)
            moment += weight * x * (self.scale * float(x @ self.prior))
        return torch.linalg.solve(gram, moment).clamp(min=0)

    def predict(self, rows: int, width: int) -> float:
        return float(_features(rows, width) @ self.weights())

    def predict_widths(self, rows: int, widths: range) -> torch.Tensor:
        """`predict` at every width, from one fit."""
        weights = self.weights()
        return torch.stack([_features(rows, width) @ weights for width in widths])


class TreeBudget:
    """Chooses how many nodes of each draft tree to verify, and learns from the passes it sees: their cost
    (`PassCost`) and how many tokens they accepted against how many the draft predicted."""

    def __init__(self, cost: PassCost | None = None, prior_tokens: float = 2.0, forget: float = 0.97,
                 explore_every: int = 8) -> None:
        self.cost = cost or PassCost()
        self.forget = forget
        self.accepted = self.predicted = prior_tokens  # pseudo-counts: calibration starts at 1
        # Every `explore_every`-th tree is verified whole (0: never). A budget that only ever sees passes of one width
        # cannot tell the cost of a row from the cost of a node (at width 2 both features are B), so it extrapolates
        # from its prior and can stay at that width for good (it did, at batch 8: 2 nodes a pass where whole
        # chains gave far more tokens per pass; the benchmark notes of the docs have the figures).
        self.explore_every = explore_every
        self.chosen = 0

    @property
    def calibration(self) -> float:
        """Accepted over predicted draft tokens: what a path probability is worth in accepted tokens."""
        return self.accepted / self.predicted

    def choose(self, tree: TokenTree) -> TokenTree:
        """The tree cut to the width that maximises expected tokens per second (unchanged without `scores`)."""
        if tree.scores is None or tree.size == 1:
            return tree
        self.chosen += 1
        if self.explore_every and self.chosen % self.explore_every == 0:
            return tree
        rows = tree.tokens.shape[0]
        scores = tree.scores[:, 1:].double().cpu()  # padding scores 0; the cost model lives on the CPU
        gains = rows + self.calibration * scores.sort(dim=1, descending=True).values.sum(0).cumsum(0)
        gains = torch.cat([torch.tensor([float(rows)], dtype=torch.float64), gains])  # E(n) for n = 1 .. N+1
        costs = self.cost.predict_widths(rows, range(1, tree.size + 1))
        # The draft's first guess is always checked: a budget that verified nothing could never learn that the
        # draft is better than its probabilities say.
        width = max(2, int((gains / costs).argmax()) + 1)
        return tree if width == tree.size else tree.best(width - 1)

    def observe(self, tree: TokenTree, seconds: float, accepted: int) -> None:
        """After verifying `tree` in `seconds` with `accepted` draft tokens accepted over all rows."""
        self.cost.observe(tree.tokens.shape[0], tree.size, seconds)
        if tree.scores is not None:
            predicted = float(tree.scores[:, 1:].sum())  # padding scores 0
            self.accepted = self.forget * self.accepted + accepted
            self.predicted = self.forget * self.predicted + predicted
