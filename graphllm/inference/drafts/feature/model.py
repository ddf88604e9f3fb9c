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
(`training.py` beside this file).

Shapes: features and next-input embeddings ``[B, n, H]`` -> predicted features ``[B, n, H]``, logits ``[B, n, |S|]``.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from graphllm.errors import GraphLLMError
from graphllm.fileio import atomic_write_text
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
        # matrix product, so that decoding runs it on packed weights like every other (`packed_linears`).
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


