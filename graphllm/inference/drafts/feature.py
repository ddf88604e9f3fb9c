r"""Feature draft after EAGLE (Li et al., 2024): one decoder layer that runs on the target's own last hidden states.

At each committed position t the draft reads the target's feature :math:`f_t` (its last hidden state, after the
final norm) and the embedding of the input that follows, and predicts the target's next feature; the target's
LM head, restricted to the tokens seen in training (S), turns a predicted feature into draft tokens. Deeper
tree nodes feed the draft's own predicted feature instead of the target's:

.. math::
    x_t = W_{fc}\,[f_t ; e_{t+1}], \qquad \hat f_{t+1} = \mathrm{Layer}(x_{\le t}), \qquad
    q(y_{t+2}) = \mathrm{softmax}(W_{head}[S]\,\hat f_{t+1})

The features come for free: the target computes them in the passes that verify the tree, so a draft token costs
one small layer and a |S|-row projection, not a model. The graph reaches the draft through those features
(soft tokens and prefixes shape every one of them). Trained by `graphllm distill --draft feature`
(`graphllm/inference/feature_distill.py`).

Shapes: features and next-input embeddings ``[B, n, H]`` -> predicted features ``[B, n, H]``, logits ``[B, n, |S|]``.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn
from transformers import Cache, DynamicCache

from graphllm.errors import GraphLLMError
from graphllm.fileio import atomic_write_text
from graphllm.inference.attention import additive_mask
from graphllm.inference.cache import filled_layers, growable_cache, scatter_row, select_rows
from graphllm.inference.config import GenerationConfig, TreeShape
from graphllm.inference.drafts.base import Draft, grow_tree
from graphllm.inference.drafts.registry import register_draft
from graphllm.inference.state import DecodeState, mostly_padding
from graphllm.inference.tree import TokenTree
from graphllm.models.llm import LLMShape, cache_argument
from graphllm.tensorio import atomic_save_tensors

WEIGHTS, CONFIG = "feature-draft.safetensors", "feature-draft.json"


class FeatureDraftModel(nn.Module):
    def __init__(self, target_llm, vocabulary: torch.Tensor) -> None:
        from transformers import LlamaConfig, LlamaModel

        super().__init__()
        target = target_llm.config
        shape = LLMShape.of(target)
        rope = getattr(target, "rope_parameters", None) or {}
        config = LlamaConfig(hidden_size=shape.hidden, num_attention_heads=shape.heads,
                             num_key_value_heads=shape.kv_heads, head_dim=shape.head_dim,
                             intermediate_size=getattr(target, "intermediate_size", None) or 4 * shape.hidden,
                             rms_norm_eps=getattr(target, "rms_norm_eps", 1e-6),
                             rope_theta=rope.get("rope_theta", getattr(target, "rope_theta", 10_000.0)),
                             max_position_embeddings=getattr(target, "max_position_embeddings", 8192),
                             num_hidden_layers=1, vocab_size=1, bos_token_id=None, eos_token_id=None,
                             pad_token_id=None)
        config._attn_implementation = "sdpa"
        self.fc = nn.Linear(2 * shape.hidden, shape.hidden, bias=False)
        with torch.no_grad():  # start as "feature + embedding", which the layer's residual stream expects
            self.fc.weight.copy_(torch.cat([torch.eye(shape.hidden), torch.eye(shape.hidden)], dim=1))
        self.body = LlamaModel(config)
        self.body.embed_tokens.requires_grad_(False)  # unused: the input is fc's output
        self._start_from_last_layer(target_llm)
        self.register_buffer("vocabulary", vocabulary.long(), persistent=False)
        # The target's head rows for S: frozen and not saved (they are the target's weights). A linear layer, not a
        # matrix product, so that decoding runs it on packed weights like every other (`packed_linears`): at 8 rows
        # of a 16,384-token subset, 11.9 -> 4.3 ms on a 2-core AMD EPYC (the default draft's few hundred tokens cost
        # little either way).
        weight = target_llm.get_output_embeddings().weight
        self.vocab_size = weight.shape[0]
        self.head = nn.Linear(shape.hidden, len(vocabulary), bias=False)
        with torch.no_grad():
            self.head.weight.copy_(weight.detach()[vocabulary.to(weight.device)])
        self.head.requires_grad_(False)
        self.to(weight.device, weight.dtype)

    def _start_from_last_layer(self, target_llm) -> None:
        """Llama-shaped targets: start from their last layer and final norm (training converges far sooner)."""
        base = target_llm.get_base_model() if hasattr(target_llm, "get_base_model") else target_llm
        inner = getattr(base, "model", None)
        try:
            self.body.layers[0].load_state_dict(inner.layers[-1].state_dict())
            self.body.norm.load_state_dict(inner.norm.state_dict())
        except (AttributeError, RuntimeError, TypeError):
            pass  # another layout: the layer starts from its random initialisation

    def forward(self, features: torch.Tensor, embeds: torch.Tensor, attention_mask: torch.Tensor,
                position_ids: torch.Tensor, cache=None, logits: bool = True
                ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """features, embeds [B, n, H]; attention_mask [B, C] (2-D) or [B, 1, n, C] (additive); position_ids [B, n]
        -> (predicted features [B, n, H], logits over the vocabulary subset [B, n, |S|], None without `logits`)."""
        x = self.fc(torch.cat([features, embeds.to(features.dtype)], dim=-1))
        out = self.body(inputs_embeds=x, attention_mask=attention_mask, position_ids=position_ids,
                        use_cache=cache is not None, **{cache_argument(self.body): cache})
        hidden = out.last_hidden_state
        return hidden, self.head(hidden) if logits else None

    def trainable_parameters(self) -> dict[str, torch.Tensor]:
        return {name: p for name, p in self.named_parameters() if p.requires_grad}


def save_feature_draft(model: FeatureDraftModel, out_dir: Path, info: dict) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_save_tensors(out_dir / WEIGHTS, {**model.trainable_parameters(), "vocabulary": model.vocabulary})
    atomic_write_text(out_dir / CONFIG, json.dumps(info, indent=2) + "\n")


def load_feature_draft(target_llm, path: Path) -> FeatureDraftModel:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        tensors = load_file(str(path / WEIGHTS))
        json.loads((path / CONFIG).read_text())
    except FileNotFoundError:
        raise GraphLLMError(f"{path} holds no feature draft; train one with `graphllm distill --draft feature`") \
            from None
    except (SafetensorError, OSError, ValueError) as exc:
        raise GraphLLMError(f"{path / WEIGHTS} is damaged ({exc}); train the draft again") from None
    vocabulary = tensors.pop("vocabulary", None)
    if vocabulary is None:
        raise GraphLLMError(f"{path / WEIGHTS} has no vocabulary; train the draft again")
    model = FeatureDraftModel(target_llm, vocabulary)
    missing, unexpected = model.load_state_dict(tensors, strict=False)
    wanted = set(model.trainable_parameters())
    if unexpected or wanted & set(missing):
        raise GraphLLMError(f"{path / WEIGHTS} does not fit this target ({len(unexpected)} unknown and "
                            f"{len(wanted & set(missing))} missing tensors); train the draft for it")
    return model.eval()


class FeatureDraft(Draft):
    name = "feature"
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
