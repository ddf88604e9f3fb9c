"""Models: the LLM (the embedded default or any Hugging Face causal LM), GNN encoders and their layers, the bridges
that hand a graph to the LLM, PEFT wiring, and the composed `GraphLLM`."""
