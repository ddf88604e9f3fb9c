"""The feature draft at decoding time: it grows a token tree from the target's features of the committed text
(kept in a cache of its own), and is registered as `--draft feature[:DIR]`. The model is `model.py`."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn
from transformers import Cache, DynamicCache

from graphllm.inference.attention import additive_mask
from graphllm.inference.cache import filled_layers, growable_cache, scatter_row, select_rows
from graphllm.inference.config import GenerationConfig, TreeShape
from graphllm.inference.drafts.base import Draft, grow_tree
from graphllm.inference.drafts.feature.model import FeatureDraftModel, load_feature_draft
from graphllm.inference.drafts.registry import register_draft
from graphllm.inference.state import DecodeState, mostly_padding
from graphllm.inference.tree import TokenTree


class FeatureDraft(Draft):
    name = "feature"
    own_state = True
    needs_hidden = True

    def __init__(self, model: FeatureDraftModel) -> None:
        self.model = model
        self.cache = None
        self.mask: torch.Tensor | None = None  # [B, C] bool: the draft's own slots
        # Target features whose following token is not known yet (the root's, before each proposal), with the
        # tokens that follow them when they are known (after `commit`), their positions and validity.
        self.waiting: tuple[torch.Tensor, torch.Tensor | None, torch.Tensor, torch.Tensor] | None = None

    def _embed(self, state: DecodeState, tokens: torch.Tensor) -> torch.Tensor:
        return state.model.llm.get_input_embeddings()(tokens)

    def _run(self, features, embeds, positions, attend, committed: int | None = None, logits: bool = True
             ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Append a block of n slots to the draft's cache. `attend` [B, n, K] says which of the K slots after the
        first `committed` each slot sees (default: all committed slots, K = n); only a committed block (the
        default) extends the draft's mask, tree nodes are cut off again after the proposal."""
        n = features.shape[1]
        seen = torch.cat([self.mask[:, None, :committed].expand(-1, n, -1), attend], dim=-1)
        mask = additive_mask(seen, features.dtype)[:, None]
        hidden, scores = self.model(features, embeds, mask, positions, self.cache, logits=logits)
        if committed is None:
            self.mask = torch.cat([self.mask, attend.diagonal(dim1=1, dim2=2)], dim=1)
        return hidden, scores

    def _truncate(self, length: int) -> None:
        for layer in filled_layers(self.cache):
            layer.keys, layer.values = layer.keys[:, :, :length], layer.values[:, :, :length]
        self.mask = self.mask[:, :length]

    def modules(self) -> list[nn.Module]:
        return [self.model]

    def start(self, model, batch, state: DecodeState) -> None:
        """Feed the prompt: its features paired with the inputs that follow them (soft tokens included); the last
        feature waits for the root. Only the draft's cache is needed from the prompt, not its guesses."""
        features, embeds, mask, positions = state.prompt
        self.mask = torch.zeros(features.shape[0], 0, dtype=torch.bool, device=features.device)
        n = features.shape[1] - 1
        valid = mask[:, :n] & mask[:, 1:]
        if n > 0 and mostly_padding(valid):
            self._start_rows_apart(features[:, :n], embeds[:, 1:], positions[:, :n], valid)
        else:
            self.cache = growable_cache()
            if n > 0:
                causal = torch.ones(n, n, dtype=torch.bool, device=features.device).tril()
                self._run(features[:, :n], embeds[:, 1:], positions[:, :n], causal[None] & valid[:, None, :],
                          logits=False)
        self.waiting = (features[:, n:], None, positions[:, n:], mask[:, n:])

    def _start_rows_apart(self, features, embeds, positions, valid) -> None:
        """The prompt of each row on its own, written into the slots the padded batch would have used (as the
        target's prefill does on a CPU, see `DecodeState.prefill`): padding costs a CPU what real slots do."""
        rows, n = valid.shape
        layers = None
        for row in range(rows):
            slots = valid[row].nonzero().squeeze(1)
            cache = DynamicCache()
            self.model(features[row: row + 1, slots], embeds[row: row + 1, slots], None,
                       positions[row: row + 1, slots], cache, logits=False)
            layers = scatter_row(layers, cache, row, slots, rows, n)
        self.cache = Cache(layers=layers)
        self.mask = valid.clone()

    def propose(self, state: DecodeState, roots: list[int], contexts: list[list[int]], shape: TreeShape,
                config: GenerationConfig, generator: torch.Generator | None) -> TokenTree:
        device = self.mask.device
        root_feature = {}

        def forward(tokens, positions, block_attend, parents):
            if parents.shape[1] == 1 and bool((parents < 0).all()):  # the root: feed what waited for it
                features, following, where, valid = self.waiting
                following = tokens if following is None else following
                width = features.shape[1]
                causal = torch.ones(width, width, dtype=torch.bool, device=device).tril()
                hidden, logits = self._run(features, self._embed(state, following), where,
                                           causal[None] & valid[:, None, :])
                last = valid.long().cumsum(1).argmax(1)  # each row's last valid slot: the root's prediction
                root_feature["committed"] = self.mask.shape[1]
                picked = torch.arange(len(last), device=device)
                self.fed = hidden[picked, last][:, None]
                return logits[picked, last][:, None], self.model.vocabulary
            # deeper nodes: the parent's predicted feature with the node's token, at the parent's position
            fed_parents = self.fed.gather(1, (parents.clamp(min=0))[..., None].expand(-1, -1, self.fed.shape[-1]))
            hidden, logits = self._run(fed_parents, self._embed(state, tokens), positions - 1, block_attend[:, :, 1:],
                                       committed=root_feature["committed"])
            self.fed = torch.cat([self.fed, hidden], dim=1)
            return logits, self.model.vocabulary

        tree = grow_tree(forward, roots, state.next_position, shape, config, generator, self.model.vocab_size)
        self._truncate(root_feature["committed"])
        self.waiting = None
        return tree

    def commit(self, state: DecodeState, accepted: list[list[int]]) -> None:
        """The target's features of the kept slots (root and accepted path) wait with the tokens that follow them
        (the accepted tokens and the bonus), to be fed before the next proposal."""
        features, valid = state.hidden, state.hidden_valid
        width = features.shape[1]
        following = torch.zeros(len(accepted), width, dtype=torch.long)
        for i, tokens in enumerate(accepted):
            following[i, : len(tokens)] = torch.tensor(tokens)
        positions = state.next_position[:, None] - valid.sum(1, keepdim=True) + torch.arange(width, device=valid.device)
        self.waiting = (features, following.to(valid.device), positions, valid)

    def select_rows(self, keep: list[int]) -> None:
        select_rows(self.cache, keep)
        index = torch.tensor(keep, device=self.mask.device)
        self.mask = self.mask[index]
        if self.waiting is not None:
            self.waiting = tuple(None if t is None else t[index] for t in self.waiting)


@register_draft("feature", "feature[:DIR]  one layer reading the target's hidden states (EAGLE), trained by "
                "`graphllm distill --draft feature` (default: the run's feature-draft/)", needs_target=True)
def _build(argument: str, target, recipe, run_dir) -> FeatureDraft:
    if not argument and run_dir is None:
        raise ValueError("say where the feature draft is: feature:DIR")
    folder = Path(argument) if argument else Path(run_dir) / "feature-draft"
    return FeatureDraft(load_feature_draft(target.llm, folder))
