"""graphllm: a graph + LLM resource and experiment hub."""

__version__ = "0.1.0"
