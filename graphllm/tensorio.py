"""Tensors written atomically: checkpoints and drafts go through `fileio.atomic_write_bytes`, so a crash never
leaves half a file. Kept apart from `fileio` so that the catalog and the link checker never import torch."""

from __future__ import annotations

import os

from graphllm.fileio import atomic_write_bytes


def atomic_save_tensors(path: str | os.PathLike, tensors: dict) -> None:
    """A safetensors file of `tensors` (moved to the CPU), written atomically."""
    from safetensors.torch import save

    atomic_write_bytes(path, save({name: t.detach().cpu().contiguous() for name, t in tensors.items()}))


def atomic_torch_save(path: str | os.PathLike, obj) -> None:
    """`torch.save(obj)` written atomically (for optimizer and RNG state that `weights_only=True` reads back)."""
    import io

    import torch

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    atomic_write_bytes(path, buffer.getvalue())
