"""The message-passing layers a GNN encoder can stack, one module each; every module of this package is imported
here, so `CONVOLUTIONS` holds them all."""

import importlib
import pkgutil

from graphllm.models.convolutions.registry import CONVOLUTIONS, Convolution, register_convolution

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["CONVOLUTIONS", "Convolution", "register_convolution"]
