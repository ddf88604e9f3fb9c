"""Per-row output bookkeeping: new tokens, and when each row is finished (stop token, stop string, length)."""

from __future__ import annotations

from graphllm.inference.config import GenerationConfig


class Outputs:
    def __init__(self, rows: int, config: GenerationConfig, tokenizer=None) -> None:
        if config.stop_strings and tokenizer is None:
            raise ValueError("stop strings need the tokenizer to read the text back")
        self.config = config
        self.tokenizer = tokenizer
        self.tokens: list[list[int]] = [[] for _ in range(rows)]
        self.done = [False] * rows
        self._stops = set(config.stop_ids)

    def add(self, row: int, tokens: list[int]) -> bool:
        """Append tokens to a row up to its first stop; True once the row is finished."""
        out = self.tokens[row]
        for token in tokens:
            if token in self._stops:
                self.done[row] = True
                break
            out.append(token)
            if len(out) >= self.config.max_new_tokens or self._hit_stop_string(out):
                self.done[row] = True
                break
        return self.done[row]

    def _hit_stop_string(self, out: list[int]) -> bool:
        if not self.config.stop_strings:
            return False
        # A stop string can end only in the text of the last few tokens; decoding them alone is enough.
        tail = self.tokenizer.decode(out[-16:], skip_special_tokens=False)
        return any(s in tail for s in self.config.stop_strings)
