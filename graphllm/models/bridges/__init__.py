"""Bridges from graph tokens to the LLM. Each takes `GraphTokens` and returns a `BridgeOutput` (input-layer
tokens and/or a per-layer KV prefix) and registers itself (`registry.register_bridge`); every module of this
package is imported here, so `REGISTRY` holds them all."""

import importlib
import pkgutil

from graphllm.models.bridges.base import BridgeOutput
from graphllm.models.bridges.graph_prefix import GraphPrefixBridge
from graphllm.models.bridges.peft_prompt import PeftPromptBridge
from graphllm.models.bridges.registry import REGISTRY
from graphllm.models.bridges.soft_tokens import SoftTokenBridge

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["REGISTRY", "BridgeOutput", "GraphPrefixBridge", "PeftPromptBridge", "SoftTokenBridge"]
