"""Graph tasks for LLMs: GraphQA regenerated exactly, text-attributed graph readers, and collation."""
