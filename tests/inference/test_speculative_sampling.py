"""Stochastic tree verification leaves the target distribution unchanged.

`verify_sampling` has two acceptance rules, and each must emit tokens distributed exactly as the target p:
- sampled trees (children i.i.d. from the draft q, duplicates kept as separate trials): SpecInfer's multi-step
  speculative sampling, accept with min(1, p/q) and continue from the renormalised residual max(p - q, 0);
- deterministic trees (the draft's top-k): accept x with probability p(x), else zero p(x) and renormalise.

Proven here by Monte Carlo on V = 6 tokens, with a fixed-seed generator so every run is the same:
1. depth 1, k = 1, 2, 3 sampled children: the first emitted token (first accepted child, else the bonus) ~ p;
2. the same with deterministic top-k children;
3. depth 2, both rules: the first two emitted tokens ~ p(x1) p(x2 | x1), with a target that depends on the path;
4. a negative control: the ratio rule applied to deterministic top-k children is visibly biased, so the checks
   above have the power to catch the wrong rule.
Each check is a chi-square goodness-of-fit test at significance 1e-4 plus a total-variation bound. Many
independent trials run in one `verify_sampling` call: one batch row per trial.
"""

from __future__ import annotations

import pytest
import torch

from graphllm.inference.tree import TokenTree, TreeBuilder
from graphllm.inference.verify import verify_sampling

V = 6
# The draft differs clearly from the target (TV 0.4). It puts most mass on token 0, which the target finds
# unlikely, and none on token 4, so the 0.2 the target puts there can only come from residuals and bonus tokens.
# Its top 3 (tokens 0, 5, 1) include the target's favourite, so a top-k rule that mishandles a likely rejected
# child shows up.
P_ROOT = torch.tensor([0.05, 0.10, 0.15, 0.20, 0.20, 0.30], dtype=torch.float64)
Q_ROOT = torch.tensor([0.35, 0.20, 0.10, 0.10, 0.00, 0.25], dtype=torch.float64)


def _shifted(base: torch.Tensor, step: int) -> torch.Tensor:
    """[V, V]: row x is `base` rotated by step * x, a conditional table that differs for every previous token."""
    return torch.stack([base.roll(step * x) for x in range(V)])


# After token x the target is P_NEXT[x] and the draft Q_NEXT[x]: the target at a node depends on its path, and
# the draft rotates differently so it stays far from the target there too.
P_NEXT = _shifted(P_ROOT, 1)
Q_NEXT = _shifted(Q_ROOT, 2)

# Upper 1e-4 quantiles of the chi-square distribution (scipy is not a dependency; computed once with mpmath's
# regularised incomplete gamma). A level this strict keeps a correct rule from failing by bad luck, while the
# biased rule of the negative control still exceeds it by orders of magnitude.
CHI2_CRITICAL = {V - 1: 25.745, V * V - 1: 74.926}

SEED = 20240611


def _children(q: torch.Tensor, k: int, sampled: bool, generator: torch.Generator) -> list[list[int]]:
    """[R, V] draft distributions -> per row, k child tokens: i.i.d. samples of q, or its top k."""
    if sampled:
        return torch.multinomial(q.float(), k, replacement=True, generator=generator).tolist()
    return q.topk(k, dim=-1).indices.tolist()


def _build(trials: int, widths: tuple[int, ...], sampled: bool, generator: torch.Generator,
           draft_says_sampled: bool | None = None) -> TokenTree:
    """One row per trial: a full tree whose node with token x has children drawn from (or the top of) Q_NEXT[x],
    the root's from Q_ROOT. `draft_says_sampled` overrides the flag verification sees (the negative control)."""
    builder = TreeBuilder([0] * trials)
    frontier = [[0] for _ in range(trials)]  # per row, the node indices at the current depth
    q_frontier = Q_ROOT.expand(trials, 1, V)
    for width in widths:
        q = q_frontier.reshape(-1, V)
        chosen = _children(q, width, sampled, generator)
        nodes_per_row = q_frontier.shape[1]
        new_frontier, new_tokens = [], []
        for row in range(trials):
            row_nodes, row_tokens = [], []
            for j, node in enumerate(frontier[row]):
                for token in chosen[row * nodes_per_row + j]:
                    # merge=False: a repeated sample is its own trial, which the residual rule relies on
                    row_nodes.append(builder.add(row, node, token, merge=False))
                    row_tokens.append(token)
            new_frontier.append(row_nodes)
            new_tokens.append(row_tokens)
        frontier = new_frontier
        q_frontier = Q_NEXT[torch.tensor(new_tokens)]
    flag = sampled if draft_says_sampled is None else draft_says_sampled
    tree = builder.build(device="cpu", sampled=flag)
    if flag:
        tree.draft_probs = _per_node(tree.tokens, Q_ROOT, Q_NEXT)
        tree.draft_probs[:, tree.size - len(frontier[0]):] = 0  # leaves have no children, as in grow_tree
    return tree


def _per_node(tokens: torch.Tensor, root: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    """[B, N+1, V]: `root` at the root, table[x] at a node with token x (a first-order Markov chain)."""
    out = table[tokens].clone()
    out[:, 0] = root
    return out


def _target(tree: TokenTree) -> torch.Tensor:
    """The target's distribution at every node; a leaf's is only used for the bonus after it, never checked."""
    return _per_node(tree.tokens, P_ROOT, P_NEXT)


def _first_tokens(tree: TokenTree, results: list[tuple[list[int], int]]) -> torch.Tensor:
    tokens = tree.tokens.tolist()
    return torch.tensor([tokens[row][path[0]] if path else bonus for row, (path, bonus) in enumerate(results)])


def _first_two_tokens(tree: TokenTree, results: list[tuple[list[int], int]],
                      generator: torch.Generator) -> torch.Tensor:
    """[B, 2]. A bonus ends the verification step, so when the first token is already a bonus the second is what
    plain decoding would draw next: a sample of the target after it, P_NEXT[x1]."""
    tokens = tree.tokens.tolist()
    first, second, missing = [], [], []
    for row, (path, bonus) in enumerate(results):
        emitted = [tokens[row][node] for node in path[:2]] + [bonus]
        first.append(emitted[0])
        second.append(emitted[1] if len(emitted) > 1 else -1)
        if len(emitted) == 1:
            missing.append(row)
    first_t, second_t = torch.tensor(first), torch.tensor(second)
    if missing:
        rows = torch.tensor(missing)
        second_t[rows] = torch.multinomial(P_NEXT[first_t[rows]].float(), 1, generator=generator).squeeze(1)
    return torch.stack([first_t, second_t], dim=1)


def _chi_square(counts: torch.Tensor, probs: torch.Tensor) -> float:
    expected = probs * counts.sum()
    return float(((counts - expected) ** 2 / expected).sum())


def _total_variation(counts: torch.Tensor, probs: torch.Tensor) -> float:
    return 0.5 * float((counts / counts.sum() - probs).abs().sum())


def _check(counts: torch.Tensor, probs: torch.Tensor, tv_bound: float) -> float:
    """Assert the empirical distribution fits `probs`; return its total variation (printed with -s)."""
    chi2, tv = _chi_square(counts, probs), _total_variation(counts, probs)
    print(f"chi2 = {chi2:.1f} (critical {CHI2_CRITICAL[probs.numel() - 1]}), TV = {tv:.4f}")
    assert chi2 < CHI2_CRITICAL[probs.numel() - 1], (chi2, tv, counts.tolist())
    assert tv < tv_bound, (chi2, tv, counts.tolist())
    return tv


def _first_token_counts(trials: int, k: int, sampled: bool, draft_says_sampled: bool | None = None) -> torch.Tensor:
    generator = torch.Generator().manual_seed(SEED + k)
    tree = _build(trials, (k,), sampled, generator, draft_says_sampled)
    results = verify_sampling(tree, _target(tree), generator)
    return torch.bincount(_first_tokens(tree, results), minlength=V).double()


@pytest.mark.parametrize("k", [1, 2, 3])
def test_sampled_children_keep_the_target(k):
    _check(_first_token_counts(15_000, k, sampled=True), P_ROOT, tv_bound=0.02)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_top_k_children_keep_the_target(k):
    _check(_first_token_counts(15_000, k, sampled=False), P_ROOT, tv_bound=0.02)


@pytest.mark.parametrize("sampled", [True, False], ids=["sampled", "top-k"])
def test_depth_two_keeps_the_joint_target(sampled):
    trials = 25_000
    generator = torch.Generator().manual_seed(SEED + 10 + sampled)
    tree = _build(trials, (2, 2), sampled, generator)
    results = verify_sampling(tree, _target(tree), generator)
    pairs = _first_two_tokens(tree, results, generator)
    counts = torch.bincount(pairs[:, 0] * V + pairs[:, 1], minlength=V * V).double()
    joint = (P_ROOT[:, None] * P_NEXT).flatten()
    # 36 cells at 25k trials: sampling noise alone gives TV around 0.013, hence the looser bound
    _check(counts, joint, tv_bound=0.03)


def test_ratio_rule_on_top_k_children_is_biased():
    # The tree claims its children were sampled, so verification applies min(1, p/q) and the residual, but they
    # are the draft's top 3 (tokens 0, 5, 1). Token 0 is then accepted with p/q = 1/7 instead of p = 0.05, tokens
    # 1 and 2 are never emitted (the residuals zero them), and token 5 is over-accepted: the exact output is
    # [1/7, 0, 0, 99/1631, 600/1631, 3/7], off the target by TV 0.39.
    counts = _first_token_counts(5_000, 3, sampled=False, draft_says_sampled=True)
    chi2, tv = _chi_square(counts, P_ROOT), _total_variation(counts, P_ROOT)
    print(f"biased rule: chi2 = {chi2:.1f}, TV = {tv:.4f}")
    assert chi2 > 100 * CHI2_CRITICAL[V - 1]
    assert tv > 0.3
