"""Text-attributed graphs in the formats G-Retriever (and PyG's GRetriever examples) use, a Karate-club
node task, and the sentence encoder that embeds node and edge texts."""

from graphllm.data.tag.textgraph import TagFormatError, TextGraph, to_data

__all__ = ["TagFormatError", "TextGraph", "to_data"]
