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


class TreeBuilder:
    """Grow trees row by row in Python (they are small), then pack them into padded tensors."""

    def __init__(self, roots: list[int]) -> None:
        self.tokens = [[t] for t in roots]
        self.parents = [[-1] for _ in roots]
        self.depth = [[0] for _ in roots]
        self.children: list[dict[int, list[tuple[int, int]]]] = [{} for _ in roots]

    def add(self, row: int, parent: int, token: int, merge: bool = True) -> int:
        """Add a child of `parent`; with `merge`, an existing child with the same token is reused."""
        kids = self.children[row].setdefault(parent, [])
        if merge:
            for kid_token, kid in kids:
                if kid_token == token:
                    return kid
        index = len(self.tokens[row])
        self.tokens[row].append(token)
        self.parents[row].append(parent)
        self.depth[row].append(self.depth[row][parent] + 1)
        kids.append((token, index))
        return index

    def add_path(self, row: int, tokens: list[int], parent: int = 0) -> None:
        for token in tokens:
            parent = self.add(row, parent, token)

    def size(self, row: int) -> int:
        return len(self.tokens[row])

    def build(self, device, sampled: bool = False, draft_probs: torch.Tensor | None = None) -> TokenTree:
        width = max(len(t) for t in self.tokens)
        rows = len(self.tokens)
        tokens = torch.zeros(rows, width, dtype=torch.long)
        parents = torch.full((rows, width), -1, dtype=torch.long)
        depth = torch.zeros(rows, width, dtype=torch.long)
        valid = torch.zeros(rows, width, dtype=torch.bool)
        for r in range(rows):
            n = len(self.tokens[r])
            tokens[r, :n] = torch.tensor(self.tokens[r])
            parents[r, :n] = torch.tensor(self.parents[r])
            depth[r, :n] = torch.tensor(self.depth[r])
            valid[r, :n] = True
        return TokenTree(tokens.to(device), parents.to(device), depth.to(device), valid.to(device), self.children,
                         sampled, draft_probs)
