"""Where models run. `auto` takes the GPU when torch sees one; asking for one that is not there is an error
that says so, rather than a silent fall back to a CPU run a hundred times slower."""

from __future__ import annotations

import torch

from graphllm.errors import GraphLLMError

_CHOICES = "cpu, cuda, cuda:N or auto"
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


class DeviceError(GraphLLMError):
    """A device or dtype this machine cannot run."""


def resolve_device(name: str | torch.device | None = "auto") -> torch.device:
    if isinstance(name, torch.device):
        return name
    if name in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise DeviceError(f"unknown device {name!r}: use {_CHOICES}") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            build = "built without CUDA" if torch.version.cuda is None else f"built for CUDA {torch.version.cuda}"
            raise DeviceError(f"no CUDA device here (torch {torch.__version__}, {build}); use --device cpu") from None
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise DeviceError(f"{name}: this machine has {torch.cuda.device_count()} CUDA device(s), "
                              f"cuda:0 to cuda:{torch.cuda.device_count() - 1}")
    elif device.type != "cpu":
        raise DeviceError(f"device {name!r} is not supported: use {_CHOICES}")
    return device


def resolve_dtype(name: str | None, device: torch.device) -> torch.dtype:
    """`auto`: bfloat16 on a GPU, float32 on a CPU (whose bf16 matmuls are slow without AVX-512 BF16)."""
    if name in (None, "auto"):
        return torch.bfloat16 if device.type == "cuda" else torch.float32
    if name not in DTYPES:
        raise DeviceError(f"unknown dtype {name!r}: use one of {', '.join(DTYPES)} or auto")
    return DTYPES[name]


def synchronize(device: torch.device) -> None:
    """Wait for queued GPU work, so that a timer read next measures it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
