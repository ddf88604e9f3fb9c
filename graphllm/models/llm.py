"""Loading causal LMs: the embedded default, any Hugging Face id or local path, and tiny random models.

The code around the LLM reads its shape through `LLMShape` only, so nothing assumes one architecture's
attribute names (Llama, Qwen2, OPT, GPT-2 and Bloom are tested).
"""

from __future__ import annotations

import inspect
import shutil
from dataclasses import dataclass

import torch

from graphllm.embedded import SMOLLM2, ModelFilesError, cache_dir, load_tokenizer, smollm2_gguf

TINY_ARCHS = ("llama", "qwen2", "opt", "gpt2", "bloom")


@dataclass(frozen=True)
class LLMShape:
    layers: int
    hidden: int
    heads: int
    kv_heads: int
    head_dim: int

    @staticmethod
    def of(config) -> LLMShape:
        layers = _first(config, "num_hidden_layers", "n_layer", "num_layers")
        hidden = _first(config, "hidden_size", "n_embd", "d_model")
        heads = _first(config, "num_attention_heads", "n_head")
        kv_heads = getattr(config, "num_key_value_heads", None) or heads
        head_dim = getattr(config, "head_dim", None) or hidden // heads
        return LLMShape(layers, hidden, heads, kv_heads, head_dim)


def _first(config, *names):
    for name in names:
        value = getattr(config, name, None)
        if value is not None:
            return value
    raise ValueError(f"{type(config).__name__} has none of {names}")


def cache_argument(model) -> str:
    """transformers 5 calls the KV cache `cache`; earlier versions `past_key_values`."""
    params = inspect.signature(model.forward).parameters
    return "cache" if "cache" in params else "past_key_values"


def _convert_smollm2(target) -> None:
    """De-quantise the GGUF once and save ordinary safetensors (save_pretrained refuses a GGUF-loaded model,
    so the weights are copied into a fresh model of the same config)."""
    from transformers import AutoConfig, AutoModelForCausalLM

    gguf = smollm2_gguf()
    loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    config = AutoConfig.from_pretrained(gguf.parent, gguf_file=gguf.name)
    fresh = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    missing, unexpected = fresh.load_state_dict(loaded.state_dict(), strict=False)
    if unexpected or [k for k in missing if "lm_head" not in k]:
        raise ModelFilesError(f"converting {gguf.name}: missing {missing[:3]}, unexpected {unexpected[:3]}")
    fresh.tie_weights()
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    fresh.save_pretrained(tmp)
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)


def load_llm(name: str = SMOLLM2, dtype: torch.dtype = torch.float32, device: str = "cpu"):
    """(model, tokenizer). `smollm2-135m` is converted from its GGUF on first use (~15 s) and cached."""
    from transformers import AutoModelForCausalLM

    if name == SMOLLM2:
        target = cache_dir() / SMOLLM2 / "model"
        if not (target / "model.safetensors").exists():
            _convert_smollm2(target)
        path = target
    else:
        path = name
    try:
        model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype)
    except OSError as exc:
        raise ModelFilesError(f"cannot load {name!r}: {exc}".splitlines()[0]) from None
    tokenizer = load_tokenizer(name)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model.to(device).eval(), tokenizer


def tiny_llm(arch: str = "llama", vocab_size: int = 49_152, seed: int = 0, hidden: int = 32, layers: int = 2):
    """A small random model of a given layout, for tests."""
    import transformers as tf

    torch.manual_seed(seed)
    common = {"vocab_size": vocab_size}
    configs = {
        "llama": lambda: tf.LlamaConfig(hidden_size=hidden, intermediate_size=2 * hidden, num_hidden_layers=layers,
                                        num_attention_heads=4, num_key_value_heads=2, **common),
        "qwen2": lambda: tf.Qwen2Config(hidden_size=hidden, intermediate_size=2 * hidden, num_hidden_layers=layers,
                                        num_attention_heads=4, num_key_value_heads=2, **common),
        "opt": lambda: tf.OPTConfig(hidden_size=hidden, ffn_dim=2 * hidden, num_hidden_layers=layers,
                                    num_attention_heads=4, word_embed_proj_dim=hidden, **common),
        "gpt2": lambda: tf.GPT2Config(n_embd=hidden, n_layer=layers, n_head=4, bos_token_id=0, eos_token_id=0,
                                      **common),
        "bloom": lambda: tf.BloomConfig(hidden_size=hidden, n_layer=layers, n_head=4, **common),
    }
    if arch not in configs:
        raise ValueError(f"unknown tiny architecture {arch!r}; choose from {', '.join(configs)}")
    return tf.AutoModelForCausalLM.from_config(configs[arch]()).eval()
