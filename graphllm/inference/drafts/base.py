"""What every draft does: propose a token tree from the current decoding state.

A draft is one small module behind this interface, registered by name in `graphllm.inference.drafts.registry`.
Drafts that run a model grow their tree with `grow_tree`: one forward pass per depth over the newest
nodes, each node seeing the committed context and its own ancestors.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable

import torch

from graphllm.inference.config import GenerationConfig, TreeShape
from graphllm.inference.sampling import probabilities
from graphllm.inference.state import DecodeState
from graphllm.inference.tree import TokenTree, TreeBuilder


class Draft(ABC):
    name: str = ""
    needs_hidden: bool = False  # reads the target's last hidden states (DecodeState.hidden)
    # Keeps a state of its own for the rows it started with (a cache): rows cannot join it mid-batch, so the
    # continuous batcher of `graphllm serve` cannot use it.
    own_state: bool = False

    @abstractmethod
    def propose(self, state: DecodeState, roots: list[int], contexts: list[list[int]], shape: TreeShape,
                config: GenerationConfig, generator: torch.Generator | None) -> TokenTree:
        """A tree per live row. `roots` are the last committed tokens (not yet in the cache) and `contexts` the
        whole token history of each live row (prompt text and generated tokens, root included)."""

    def modules(self) -> list[torch.nn.Module]:
        """The draft's own models (the target's are not among them), which decoding runs on packed weights."""
        return []

    def start(self, model, batch, state: DecodeState) -> None:  # noqa: B027 - optional hook
        """Called once after the target's prefill (drafts with a cache of their own prefill here)."""

    def commit(self, state: DecodeState, accepted: list[list[int]]) -> None:  # noqa: B027 - optional hook
        """Called after verification with the tokens each live row committed (the bonus token last)."""

    def select_rows(self, keep: list[int]) -> None:  # noqa: B027 - optional hook
        """Called when finished rows leave the batch: row i becomes what row keep[i] was."""


Forward = Callable[[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor],
                   torch.Tensor | tuple[torch.Tensor, torch.Tensor]]


def grow_tree(forward: Forward, roots: list[int], next_position: torch.Tensor, shape: TreeShape,
              config: GenerationConfig, generator: torch.Generator | None, vocabulary_size: int | None = None
              ) -> TokenTree:
    """Expand every node of the frontier into `shape.widths[d]` children per depth d: the top tokens when greedy
    (or when the draft is deterministic), else i.i.d. samples of the draft distribution.

    `forward(tokens [B, f], positions [B, f], block_attend [B, f, K], parents [B, f])` runs the draft on the
    frontier, which sees the K nodes fed so far (breadth-first order: all of them are the tree's first K nodes);
    `parents` are the frontier nodes' parents (-1 for the root). It returns logits [B, f, V], or logits over a
    subset of the vocabulary with the subset's token ids ([B, f, |S|], [|S|]) for a draft that never proposes
    other tokens."""
    device = next_position.device
    builder = TreeBuilder(roots)
    sampled = not config.greedy
    frontier = [0]  # the same node indices in every row: model-grown trees have the same shape everywhere
    fed = 0
    draft_probs = []
    for width in shape.widths:
        tree = builder.build(device)
        lo, hi = fed, builder.size(0)
        logits = forward(tree.tokens[:, lo:hi], next_position[:, None] + tree.depth[:, lo:hi],
                         tree.ancestors()[:, lo:hi, :hi], tree.parents[:, lo:hi])
        logits, ids = logits if isinstance(logits, tuple) else (logits, None)
        fed = hi
        if sampled:
            if ids is not None:  # verification needs the draft distribution over the whole vocabulary
                full = logits.new_full((*logits.shape[:-1], vocabulary_size), float("-inf"))
                full[..., ids] = logits
                logits = full
            q = probabilities(logits, config)  # [B, f, V]
            draft_probs.append(q)
            choice = torch.multinomial(q.flatten(0, 1), width, replacement=True, generator=generator)
            choice = choice.view(q.shape[0], q.shape[1], width).tolist()
            chance = None
        else:  # the top tokens, and their probabilities: the path probability of a node is what budgets rank by
            top = logits.float().softmax(-1).topk(min(width, logits.shape[-1]), dim=-1)
            indices = top.indices if ids is None else ids[top.indices]
            choice, chance = indices.tolist(), top.values.tolist()
        new_frontier = []
        for j, node in enumerate(frontier):
            for row in range(len(roots)):
                for k, token in enumerate(choice[row][j]):
                    score = None if chance is None else builder.scores[row][node] * chance[row][j][k]
                    index = builder.add(row, node, token, merge=False, score=score)
                    if row == 0:
                        new_frontier.append(index)
        frontier = new_frontier
    probs = None
    if sampled:  # the distribution each fed node's children came from, zero for leaves
        fed_probs = torch.cat(draft_probs, dim=1)
        probs = torch.zeros(len(roots), builder.size(0), fed_probs.shape[-1], device=device)
        probs[:, : fed_probs.shape[1]] = fed_probs
    return builder.build(device, sampled=sampled, draft_probs=probs)


def whole_number(name: str, argument: str) -> int:
    """The `K` of `name:K`, or a ValueError that says what was wrong."""
    if not argument.isdigit():
        raise ValueError(f"{name} takes a whole number after ':', not {argument!r}")
    return int(argument)
