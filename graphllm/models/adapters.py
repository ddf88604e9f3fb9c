r"""Bottleneck adapters (Houlsby et al. 2019), the PEFT method peft does not ship.

In every decoder layer, after the attention block and after the feed-forward block:

.. math::
    h \leftarrow h + W_{up}\,\mathrm{ReLU}(W_{down} h),
    \qquad W_{down} \in \mathbb{R}^{r \times H},\ W_{up} \in \mathbb{R}^{H \times r}

with :math:`W_{up}` starting at zero, so the adapted model starts as the frozen one. The adapters are
attached with forward hooks to whatever the layout calls its attention and feed-forward modules
(`self_attn`/`attn`/`self_attention`, `mlp`/`fc2`), so no architecture's names are assumed elsewhere.
"""

from __future__ import annotations

import torch
from torch import nn

ATTENTION_NAMES = ("self_attn", "attn", "self_attention", "attention")
FEED_FORWARD_NAMES = ("mlp", "feed_forward", "ffn", "fc2")


class Adapter(nn.Module):
    def __init__(self, hidden: int, bottleneck: int) -> None:
        super().__init__()
        self.down = nn.Linear(hidden, bottleneck)
        self.up = nn.Linear(bottleneck, hidden)
        nn.init.zeros_(self.up.weight)
        nn.init.zeros_(self.up.bias)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h + self.up(torch.relu(self.down(h)))


def decoder_layers(model, count: int) -> nn.ModuleList:
    """The model's list of decoder layers: the ModuleList with one entry per layer."""
    for _, module in model.named_modules():
        if isinstance(module, nn.ModuleList) and len(module) == count:
            return module
    raise ValueError(f"found no list of {count} decoder layers in {type(model).__name__}")


def _child(layer: nn.Module, names: tuple[str, ...]) -> nn.Module:
    for name in names:
        if hasattr(layer, name):
            return getattr(layer, name)
    raise ValueError(f"{type(layer).__name__} has none of {names}")


class Adapters(nn.Module):
    """Two adapters per layer, hooked into the LLM; `remove()` detaches them again."""

    def __init__(self, llm, layers: int, hidden: int, bottleneck: int = 64) -> None:
        super().__init__()
        self.attention = nn.ModuleList(Adapter(hidden, bottleneck) for _ in range(layers))
        self.feed_forward = nn.ModuleList(Adapter(hidden, bottleneck) for _ in range(layers))
        self._hooks = []
        for index, layer in enumerate(decoder_layers(llm, layers)):
            self._hooks.append(_child(layer, ATTENTION_NAMES).register_forward_hook(self._hook(self.attention[index])))
            self._hooks.append(_child(layer, FEED_FORWARD_NAMES).register_forward_hook(
                self._hook(self.feed_forward[index])))

    @staticmethod
    def _hook(adapter: Adapter):
        def apply(module, inputs, output):
            if isinstance(output, tuple):
                return (adapter(output[0]), *output[1:])
            return adapter(output)

        return apply

    def remove(self) -> None:
        for hook in self._hooks:
            hook.remove()
        self._hooks = []
