"""Tree verification: which draft tokens the target accepts, and the bonus token that follows them.

Greedy: walk from the root, following the child whose token is the target's argmax; stop where none is, and
the argmax there is the bonus token. The result is exactly plain greedy decoding.

Sampling must leave the target distribution p unchanged:
- children sampled i.i.d. from the draft distribution q (SpecInfer's multi-step speculative sampling): try
  them in turn, accept child x with probability min(1, p(x)/q(x)), and after each rejection replace p by the
  residual max(p - q, 0), renormalised;
- children chosen deterministically (top-k, n-gram, merged trees), where that ratio rule is biased
  (docs/architecture.md): accept child x with probability p(x) and, after a rejection, set p(x) = 0 and renormalise.
Either way, when every child is rejected (or there is none) the bonus token is sampled from what is left of p.
"""

from __future__ import annotations

import torch

from graphllm.inference.tree import TokenTree


def verify_greedy(tree: TokenTree, logits: torch.Tensor) -> list[tuple[list[int], int]]:
    """logits [B, N+1, V] of the target at every node -> per row (accepted node indices, bonus token)."""
    best = logits.argmax(-1).tolist()
    results = []
    for row, children in enumerate(tree.children):
        node, path = 0, []
        while True:
            token = best[row][node]
            child = next((kid for kid_token, kid in children.get(node, ()) if kid_token == token), None)
            if child is None:
                results.append((path, token))
                break
            path.append(child)
            node = child
    return results


def verify_sampling(tree: TokenTree, probs: torch.Tensor, generator: torch.Generator | None = None
                    ) -> list[tuple[list[int], int]]:
    """probs [B, N+1, V]: the target's (temperature/top-p processed) distribution at every node."""
    results = []
    for row, children in enumerate(tree.children):
        node, path = 0, []
        while True:
            p = probs[row, node].double()
            q = tree.draft_probs[row, node].double() if tree.sampled else None
            accepted = None
            for token, child in children.get(node, ()):
                u = float(torch.rand((), generator=generator, dtype=torch.float64))
                if q is not None:
                    if q[token] > 0 and u < min(1.0, float(p[token] / q[token])):
                        accepted = child
                        break
                    residual = (p - q).clamp(min=0)
                    if float(residual.sum()) <= 0:  # p == q: every trial accepts, so this is never reached
                        break
                    p = residual / residual.sum()
                else:
                    if u < float(p[token]):
                        accepted = child
                        break
                    p = p.clone()
                    p[token] = 0
                    if float(p.sum()) <= 0:
                        break
                    p = p / p.sum()
            if accepted is None:
                results.append((path, int(torch.multinomial(p.float(), 1, generator=generator))))
                break
            path.append(accepted)
            node = accepted
    return results
