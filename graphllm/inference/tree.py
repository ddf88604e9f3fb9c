"""Token trees: what drafts propose and the target verifies in one forward pass.

Node 0 of every row is the root, the last committed token (its key/value is not in the cache yet); every
other node is a draft token whose parent comes earlier in the row (breadth-first order). Rows may have
different trees; shorter rows are padded with invalid nodes that nothing sees and nothing accepts.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class TokenTree:
    tokens: torch.Tensor  # [B, N+1] long, column 0 the roots
    parents: torch.Tensor  # [B, N+1] long, -1 for roots and padding
    depth: torch.Tensor  # [B, N+1] long, 0 for roots and padding
    valid: torch.Tensor  # [B, N+1] bool
    # Per row, node -> [(token, child)] in the order verification tries them. Children sampled i.i.d. from a
    # draft distribution may repeat a token; each copy is its own trial.
    children: list[dict[int, list[tuple[int, int]]]]
    sampled: bool = False  # children are i.i.d. samples of `draft_probs` (else chosen deterministically)
    draft_probs: torch.Tensor | None = None  # [B, N+1, V] the distribution a node's children were sampled from
    # [B, N+1] each node's path probability under the draft (1 at the roots, 0 for padding), where the draft
    # knows it: what `TreeBudget` ranks nodes by. Never above the parent's, so the best nodes form a tree.
    scores: torch.Tensor | None = None

    @property
    def size(self) -> int:
        return self.tokens.shape[1]

    def ancestors(self) -> torch.Tensor:
        """[B, N+1, N+1] bool: entry (i, j) says node i sees node j (j is i or an ancestor of i)."""
        rows, n = self.tokens.shape
        seen = torch.zeros(rows, n, n, dtype=torch.bool, device=self.tokens.device)
        index = torch.arange(rows, device=self.tokens.device)
        for i in range(n):  # parents come first, so each row of the matrix extends its parent's row
            parent = self.parents[:, i]
            has_parent = parent >= 0
            if bool(has_parent.any()):
                seen[:, i] = torch.where(has_parent[:, None], seen[index, parent.clamp(min=0)], seen[:, i])
            seen[:, i, i] = True
        return seen

    def best(self, nodes: int) -> TokenTree:
        """Each row's `nodes` most probable nodes besides the root (`scores`; ties to the earlier node), as a
        tree of deterministic children. A child is kept only with its parent, so every kept path is whole."""
        scores = self.scores.tolist()
        tokens, parents, valid = self.tokens.tolist(), self.parents.tolist(), self.valid.tolist()
        builder = TreeBuilder([row[0] for row in tokens])
        for row in range(len(tokens)):
            ranked = sorted((i for i in range(1, self.size) if valid[row][i]), key=lambda i: (-scores[row][i], i))
            kept = {0: 0}  # node -> node in the new tree
            for node in ranked:
                if len(kept) > nodes:
                    break
                if parents[row][node] in kept:
                    kept[node] = None
            for node in sorted(kept)[1:]:  # in index order, so that parents come first
                kept[node] = builder.add(row, kept[parents[row][node]], tokens[row][node], merge=False,
                                         score=scores[row][node])
        return builder.build(self.tokens.device)


class TreeBuilder:
    """Grow trees row by row in Python (they are small), then pack them into padded tensors."""

    def __init__(self, roots: list[int]) -> None:
        self.tokens = [[t] for t in roots]
        self.parents = [[-1] for _ in roots]
        self.depth = [[0] for _ in roots]
        self.children: list[dict[int, list[tuple[int, int]]]] = [{} for _ in roots]
        self.scores: list[list[float | None]] = [[1.0] for _ in roots]

    def add(self, row: int, parent: int, token: int, merge: bool = True, score: float | None = None) -> int:
        """Add a child of `parent` (with its path probability `score`, if known); with `merge`, an existing child
        with the same token is reused, keeping the higher score."""
        kids = self.children[row].setdefault(parent, [])
        if merge:
            for kid_token, kid in kids:
                if kid_token == token:
                    old = self.scores[row][kid]
                    self.scores[row][kid] = None if old is None or score is None else max(old, score)
                    return kid
        index = len(self.tokens[row])
        self.tokens[row].append(token)
        self.parents[row].append(parent)
        self.depth[row].append(self.depth[row][parent] + 1)
        self.scores[row].append(score)
        kids.append((token, index))
        return index

    def add_path(self, row: int, tokens: list[int], parent: int = 0) -> None:
        for token in tokens:
            parent = self.add(row, parent, token)

    def size(self, row: int) -> int:
        return len(self.tokens[row])

    def build(self, device, sampled: bool = False, draft_probs: torch.Tensor | None = None) -> TokenTree:
        width = max(len(t) for t in self.tokens)

        def padded(rows: list[list], fill) -> list[list]:
            return [row + [fill] * (width - len(row)) for row in rows]

        tokens = torch.tensor(padded(self.tokens, 0), dtype=torch.long, device=device)
        parents = torch.tensor(padded(self.parents, -1), dtype=torch.long, device=device)
        depth = torch.tensor(padded(self.depth, 0), dtype=torch.long, device=device)
        valid = torch.tensor(padded([[True] * len(t) for t in self.tokens], False), device=device)
        known = all(s is not None for row in self.scores for s in row)
        scores = torch.tensor(padded(self.scores, 0.0), device=device) if known else None
        return TokenTree(tokens, parents, depth, valid, self.children, sampled, draft_probs, scores)
