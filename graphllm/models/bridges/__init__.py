"""Bridges from graph tokens to the LLM, found through one registry. Each takes `GraphTokens` and returns a
`BridgeOutput` (input-layer tokens and/or a per-layer KV prefix); adding one touches no other."""

from graphllm.models.bridges.base import BridgeOutput
from graphllm.models.bridges.graph_prefix import GraphPrefixBridge
from graphllm.models.bridges.peft_prompt import PeftPromptBridge
from graphllm.models.bridges.soft_tokens import SoftTokenBridge

BRIDGES = {"soft-tokens": SoftTokenBridge, "graph-prefix": GraphPrefixBridge}

__all__ = ["BRIDGES", "BridgeOutput", "GraphPrefixBridge", "PeftPromptBridge", "SoftTokenBridge"]
