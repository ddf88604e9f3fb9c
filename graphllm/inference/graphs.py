"""Target passes on a static cache captured as CUDA graphs, one per block width, and replayed.

A graph records the kernels of one forward pass with the addresses of its inputs, outputs and cache buffers, so
each width n gets input buffers of its own (tokens, positions, the 4-D mask), which every replay first fills.
Where the next keys and values go is read from the layers' length tensors at replay time (`StaticLayer.update`
advances them inside the graph; `StaticDecodeState` sets them before each pass). All graphs share one memory pool,
since they never run at the same time. Capture follows PyTorch's recipe: warm-up passes on a side stream (which
also run the lazy initialisations a capture must not see), then the capture; the warm-ups' writes to the cache land
in the slots the real pass writes next, and the lengths they advanced are put back.
"""

from __future__ import annotations

import torch


class PassGraphs:
    """CUDA graphs of a model's full target pass on a static cache, keyed by block width and whether the last
    hidden states are kept. `can_replay` is False while the model runs a subset of its layers (an early-exit
    draft), which then runs eagerly."""

    def __init__(self, model, warmups: int = 2) -> None:
        from graphllm.inference.drafts.early_exit import decoder_layers

        # (the model itself is not kept: these graphs are kept in a pool that must not keep the model alive)
        self.parent, self.attribute = decoder_layers(model.llm)
        self.layers = getattr(self.parent, self.attribute)
        self.warmups = warmups
        self.graphs: dict[tuple[int, bool], tuple[torch.cuda.CUDAGraph, tuple, tuple]] = {}
        self.pool = None

    def can_replay(self) -> bool:
        return getattr(self.parent, self.attribute) is self.layers

    @staticmethod
    def _forward(model, tokens, positions, mask, cache, keep_hidden: bool):
        extra = {"output_hidden_states": True} if keep_hidden else {}
        out = model.run_llm(None, tokens, mask, positions, cache, **extra)
        return out.logits, out.hidden_states[-1] if keep_hidden else None

    def _capture(self, model, key, tokens, positions, mask, cache, lengths: torch.Tensor):
        inputs = (tokens.clone(), positions.clone(), mask.clone())
        before = lengths.clone()
        side = torch.cuda.Stream(device=tokens.device)
        side.wait_stream(torch.cuda.current_stream(tokens.device))
        with torch.cuda.stream(side):
            for _ in range(self.warmups):
                self._forward(model, *inputs, cache, key[1])
                lengths.copy_(before)
        torch.cuda.current_stream(tokens.device).wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph, pool=self.pool):
            outputs = self._forward(model, *inputs, cache, key[1])
        lengths.copy_(before)
        self.pool = graph.pool()
        self.graphs[key] = (graph, inputs, outputs)

    def run(self, model, tokens: torch.Tensor, positions: torch.Tensor, mask: torch.Tensor, cache,
            lengths: torch.Tensor, keep_hidden: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(logits [B, n, V], last hidden states [B, n, H] or None) of one pass; copies, since the graph's own
        outputs are overwritten by its next replay."""
        key = (tokens.shape[1], keep_hidden)
        if key not in self.graphs:
            self._capture(model, key, tokens, positions, mask, cache, lengths)
        graph, inputs, (logits, hidden) = self.graphs[key]
        for buffer, value in zip(inputs, (tokens, positions, mask), strict=True):
            buffer.copy_(value)
        graph.replay()
        return logits.clone(), hidden.clone() if hidden is not None else None
