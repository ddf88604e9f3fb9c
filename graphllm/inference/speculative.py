"""Speculative decoding after SpecInfer: a draft proposes a token tree, the target checks all of it in one
forward pass (tree attention: each node sees the committed context and its ancestors, at position
"next position + depth"), and each row keeps its longest accepted path plus one bonus token from the target.
The cache is then compacted to the kept nodes. Greedy output is exactly plain greedy decoding; sampled
output has exactly the target's distribution (see verify.py). Greedy trees whose draft knows its path
probabilities are cut each pass to the nodes worth their verification cost (budget.py), and the draft grows
one level deeper than the last pass kept.
"""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass, field

import torch

from graphllm.inference.attention import grouped_sdpa
from graphllm.inference.budget import TreeBudget
from graphllm.inference.cache import row_order
from graphllm.inference.config import GenerationConfig, TreeShape
from graphllm.inference.drafts.base import Draft
from graphllm.inference.packed import packed_linears
from graphllm.inference.sampling import next_tokens, probabilities
from graphllm.inference.static import block_width, decode_state
from graphllm.inference.stopping import Outputs
from graphllm.inference.verify import verify_greedy, verify_sampling


@dataclass
class SpeculationStats:
    steps: int = 0  # target forward passes after the prompt
    tokens: int = 0  # tokens committed by those passes (accepted draft tokens plus bonus tokens)
    accepted: list[int] = field(default_factory=list)  # accepted draft tokens per row and step
    verified: list[int] = field(default_factory=list)  # tree width (root included) of each target pass

    def clear(self) -> None:
        self.steps = self.tokens = 0
        self.accepted.clear()
        self.verified.clear()

    @property
    def mean_accepted(self) -> float:
        """Tokens per target pass and row: 1 is plain decoding."""
        return 1 + sum(self.accepted) / len(self.accepted) if self.accepted else 1.0


_BUDGETS: weakref.WeakKeyDictionary[Draft, TreeBudget] = weakref.WeakKeyDictionary()


def budget_of(draft: Draft) -> TreeBudget:
    """The budget that learns a draft's calibration and its target's pass costs across calls."""
    if draft not in _BUDGETS:
        _BUDGETS[draft] = TreeBudget()
    return _BUDGETS[draft]


@torch.no_grad()
def speculative_generate(model, batch, draft: Draft, config: GenerationConfig, shape: TreeShape | None = None,
                         tokenizer=None, stats: SpeculationStats | None = None, budget: TreeBudget | None = None
                         ) -> list[list[int]]:
    """New tokens per row, like `generate`, with fewer target passes. With `shape.trim` (greedy only), `budget`
    (default: the draft's own, see `budget_of`) cuts each tree to the nodes worth verifying."""
    if not model._takes_positions:
        raise ValueError(f"{type(model.llm).__name__} takes no position ids, which tree attention needs; "
                         "use plain `generate` for it")
    shape = shape or TreeShape()
    stats = stats if stats is not None else SpeculationStats()
    trim = shape.trim and config.greedy
    budget = (budget or budget_of(draft)) if trim else None
    grown = shape  # what the draft grows this pass: one level below the deepest node the last pass kept
    model.eval()
    drafts = draft.modules()
    with grouped_sdpa(model.llm, *drafts), packed_linears(model, *drafts, enabled=config.packed_weights):
        generator = torch.Generator(device=batch.input_ids.device).manual_seed(config.seed)
        # Room in a static cache for the worst case (it grows if a tree is wider): every pass commits one token to
        # some row while another takes the deepest path (the slots after it are the first row's holes).
        room = config.max_new_tokens * (shape.depth + 1) + block_width(shape.nodes + 1)
        state, logits = decode_state(model, batch, config, room, keep_hidden=draft.needs_hidden)
        draft.start(model, batch, state)
        outputs = Outputs(state.batch_size, config, tokenizer)
        prompts = [ids[mask.bool()].tolist() for ids, mask in zip(batch.input_ids, batch.attention_mask, strict=True)]
        roots = next_tokens(logits, config, generator).tolist()
        live = [i for i, root in enumerate(roots) if not outputs.add(i, [root])]
        while live:
            if len(live) != state.batch_size:
                order = row_order(live)
                state.select_rows(order)
                draft.select_rows(order)
                roots = [roots[i] for i in order]
            contexts = [prompts[row] + outputs.tokens[row] for row in state.rows]
            committed, accepted, grown, size = speculative_pass(state, draft, roots, contexts, shape, grown, config,
                                                                generator, budget)
            stats.verified.append(size)
            stats.accepted += accepted
            stats.steps += 1
            stats.tokens += sum(len(c) for c in committed)
            roots = [new[-1] for new in committed]
            live = [i for i, new in enumerate(committed) if not outputs.add(state.rows[i], new)]
        return outputs.tokens


def speculative_pass(state, draft: Draft, roots: list[int], contexts: list[list[int]], shape: TreeShape,
                     grown: TreeShape, config: GenerationConfig, generator: torch.Generator | None,
                     budget: TreeBudget | None) -> tuple[list[list[int]], list[int], TreeShape, int]:
    """One target pass over every live row: the draft proposes a tree (grown to `grown`, cut by `budget`), the
    target verifies it, the cache keeps each row's accepted path and the draft is told what was committed.

    Returns (per row the committed tokens, bonus token last; per row the accepted draft tokens; the shape to grow
    next: one level below the deepest node this pass kept; the verified tree's size)."""
    proposed = draft.propose(state, roots, contexts, grown, config, generator)
    tree = budget.choose(proposed) if budget is not None else proposed
    start, began = state.length, time.perf_counter()
    target = state.block(tree.tokens, state.next_position[:, None] + tree.depth, tree.ancestors())
    if config.greedy:
        results = verify_greedy(tree, target)
    else:
        results = verify_sampling(tree, probabilities(target, config), generator)
    if budget is not None:
        budget.observe(tree, time.perf_counter() - began, sum(len(path) for path, _ in results))
        if tree.scores is not None and proposed.size > 1:  # (a draft without scores grows whole trees)
            grown = TreeShape(shape.widths[: int(tree.depth.max()) + 1], trim=shape.trim)
    width = 1 + max(len(path) for path, _ in results)
    keep = torch.arange(width).repeat(len(results), 1)  # slots past a row's path are holes
    valid = torch.zeros(len(results), width, dtype=torch.bool)
    tokens = tree.tokens.tolist()
    committed = []
    for i, (path, bonus) in enumerate(results):
        keep[i, 1:1 + len(path)] = torch.tensor(path, dtype=torch.long)
        valid[i, :1 + len(path)] = True
        committed.append([tokens[i][node] for node in path] + [bonus])
    state.compact(start, keep.to(state.mask.device), valid.to(state.mask.device))
    state.next_position = state.next_position + valid.sum(1).to(state.next_position.device)
    draft.commit(state, committed)
    return committed, [len(path) for path, _ in results], grown, tree.size
