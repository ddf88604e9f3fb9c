"""Models: the embedded default LLM and its tokenizer (more in the experiment issues)."""
