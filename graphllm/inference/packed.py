"""Linear layers on packed (oneDNN) weights while decoding on a CPU.

A decoding pass multiplies a handful of rows (one token, or a token tree) by every weight matrix of the model.
MKL's `sgemm`, which `F.linear` calls on the CPU, is fast for one row and for many, but on some CPUs not for
2-64 rows: a pass over a few tokens then costs far more than a one-token step, and speculation cannot pay for
itself. oneDNN on weights reordered once into its blocked layout (what PyTorch's inductor does for frozen CPU
models) keeps the cost close to reading the weights once, whatever the row count.

Other CPUs rank the two otherwise (on some, MKL is faster for one or two rows of the small projections while
oneDNN wins on the LM head from a few rows on). So for up to `CALIBRATED_ROWS` rows the two are timed once per
weight shape and row count (rounded up to a power of two) on the machine itself, and MKL kept for the process
where it is clearly faster; above that oneDNN won on every CPU measured (and tiny weights, see
`CALIBRATED_SIZE`, run on it untimed). The figures per CPU are in the benchmark notes of the docs
(`graphllm bench decode` reports the packed and unpacked plain greedy side by side).

Inside `packed_linears(...)`, every `nn.Linear` of the given modules runs on a packed copy of its weight when
no gradient is needed, the input is float32 on the CPU, it has at most `MAX_ROWS` rows (longer prompts run
as before: there MKL is as fast) and oneDNN is the faster there. The packed copies are made on first use and
kept, per module, until its weight changes (an optimizer step or `load_state_dict` bumps the tensor's version)
or the module is freed.
"""

from __future__ import annotations

import statistics
import time
import types
import weakref
from contextlib import ExitStack, contextmanager

import torch
import torch.nn.functional as F
from torch import nn

MAX_ROWS = 512  # up to here oneDNN was at least as fast as MKL for every weight of SmolLM2 (64 rows: 0.73 vs 0.93 ms)
CALIBRATED_ROWS = 32  # up to here which of the two is faster depends on the CPU, so it is measured
# Weights smaller than this (tiny test models) run packed unmeasured: a timing of a few microseconds is a coin
# toss, and a coin toss would make which kernel's rounding a run gets differ from run to run.
CALIBRATED_SIZE = 1 << 16

# module -> ((weight's data pointer, version), packed weight); weak, so a freed model frees its packed copies
_PACKED: weakref.WeakKeyDictionary[nn.Linear, tuple[tuple[int, int], torch.Tensor]] = weakref.WeakKeyDictionary()
_SUPPORTED: bool | None = None
# (out features, in features, rows rounded up to a power of two) -> whether to run on oneDNN (see measure_packed_faster)
_PACKED_FASTER: dict[tuple[int, int, int], bool] = {}


def available() -> bool:
    """Whether this PyTorch build can run linear layers on packed oneDNN weights (checked once)."""
    global _SUPPORTED
    if _SUPPORTED is None:
        try:
            w = torch.ops.mkldnn._reorder_linear_weight(torch.ones(2, 3), None)
            out = torch.ops.mkldnn._linear_pointwise(torch.ones(1, 3), w, None, "none", [], "")
            _SUPPORTED = bool(torch.allclose(out, torch.full((1, 2), 3.0)))
        except (AttributeError, RuntimeError, NotImplementedError):
            _SUPPORTED = False
    return _SUPPORTED


def _packed_weight(module: nn.Linear) -> torch.Tensor:
    weight = module.weight
    key = (weight.data_ptr(), weight._version)
    cached = _PACKED.get(module)
    if cached is None or cached[0] != key:
        cached = (key, torch.ops.mkldnn._reorder_linear_weight(weight.detach(), None))
        _PACKED[module] = cached
    return cached[1]


def measure_packed_faster(weight: torch.Tensor, packed: torch.Tensor, rows: int, repeats: int = 7) -> bool:
    """Whether oneDNN on `packed` is the one to use for `rows` rows of `weight` on this machine: unless MKL is
    clearly faster (by a tenth, on the median of `repeats` interleaved timings each, after two warm-up runs), so
    that where the two are even (the LM head at one row on the Xeon) every run makes the same choice."""
    x = torch.randn(rows, weight.shape[1], dtype=weight.dtype)

    def mkl():
        return F.linear(x, weight)

    def onednn():
        return torch.ops.mkldnn._linear_pointwise(x, packed, None, "none", [], "")

    times = {mkl: [], onednn: []}
    for _ in range(repeats + 2):
        for fn, seen in times.items():
            start = time.perf_counter()
            fn()
            seen.append(time.perf_counter() - start)
    return not statistics.median(times[mkl][2:]) < 0.9 * statistics.median(times[onednn][2:])


def _packed_faster(module: nn.Linear, rows: int) -> bool:
    bucket = 1 << max(rows - 1, 0).bit_length()
    if bucket > CALIBRATED_ROWS or module.weight.numel() < CALIBRATED_SIZE:
        return True
    key = (*module.weight.shape, bucket)
    if key not in _PACKED_FASTER:
        _PACKED_FASTER[key] = measure_packed_faster(module.weight.detach(), _packed_weight(module), bucket)
    return _PACKED_FASTER[key]


def _forward(module: nn.Linear, x: torch.Tensor) -> torch.Tensor:
    weight = module.weight
    rows = x.numel() // x.shape[-1]
    if (torch.is_grad_enabled() or x.device.type != "cpu" or x.dtype != torch.float32
            or weight.dtype != torch.float32 or rows > MAX_ROWS or not _packed_faster(module, rows)):
        return F.linear(x, weight, module.bias)
    bias = module.bias.detach() if module.bias is not None else None
    return torch.ops.mkldnn._linear_pointwise(x, _packed_weight(module), bias, "none", [], "")


@contextmanager
def _patched(module: nn.Module):
    linears = [m for m in module.modules() if type(m) is nn.Linear and "forward" not in m.__dict__
               and m.weight.device.type == "cpu" and m.weight.dtype == torch.float32]
    for linear in linears:  # a bound method, so a deep copy of the module made inside the block stays its own
        linear.forward = types.MethodType(_forward, linear)
    try:
        yield
    finally:
        for linear in linears:
            del linear.forward


@contextmanager
def packed_linears(*modules: nn.Module | None, enabled: bool = True):
    """Run the float32 CPU `nn.Linear` layers of `modules` on packed weights inside the block (a no-op when not
    `enabled`, where the build has no oneDNN, on other devices and dtypes, and for layers an outer block
    patched)."""
    with ExitStack() as stack:
        if enabled and available():
            for module in modules:
                if module is not None:
                    stack.enter_context(_patched(module))
        yield
