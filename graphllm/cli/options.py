"""Command-line options shared by several commands."""

from __future__ import annotations

import argparse

# (here, not in graphllm.devices: importing that imports torch, which `graphllm catalog` must not wait for)
DEVICE_HELP = "cpu, cuda, cuda:N or auto (default: auto, the GPU when torch sees one)"


def device_type(text: str):
    """`--device`: checked while the command line is parsed, before minutes go into loading a model."""
    from graphllm.devices import DeviceError, resolve_device

    try:
        return resolve_device(text)
    except DeviceError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
