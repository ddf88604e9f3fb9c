"""Linear layers on packed oneDNN weights (graphllm/inference/packed.py): the same numbers as `F.linear`, only
inside the block, never with gradients, repacked when a weight changes; decoding gives the same tokens."""

from __future__ import annotations

import copy
import dataclasses
import time
import types

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from graphllm.inference import packed
from graphllm.inference.packed import packed_linears

pytestmark = pytest.mark.skipif(not packed.available(), reason="this PyTorch build has no oneDNN linear")


@pytest.fixture(autouse=True)
def packed_is_faster(monkeypatch, request):
    """oneDNN chosen for every row count (which one is faster is measured on the machine, and tiny test layers
    would make the choice a coin toss), except in the tests of that measurement."""
    if "measure" not in request.node.name:
        monkeypatch.setattr(packed, "_packed_faster", lambda module, rows: True)


def _counting(monkeypatch) -> list[int]:
    """Count the calls of the packed kernel."""
    calls = []
    kernel = torch.ops.mkldnn._linear_pointwise

    class Ops:
        @staticmethod
        def _linear_pointwise(*args):
            calls.append(1)
            return kernel(*args)

        _reorder_linear_weight = staticmethod(torch.ops.mkldnn._reorder_linear_weight)

    monkeypatch.setattr(packed.torch.ops, "mkldnn", Ops)
    return calls


@pytest.mark.parametrize("rows", [1, 2, 3, 8, 40])
@pytest.mark.parametrize("bias", [True, False])
def test_same_numbers_as_linear(rows, bias, monkeypatch):
    torch.manual_seed(0)
    layer = nn.Linear(48, 80, bias=bias)
    x = torch.randn(2, rows, 48)
    calls = _counting(monkeypatch)
    with torch.no_grad():
        expected = layer(x)
        with packed_linears(layer):
            got = layer(x)
    assert calls, "the packed kernel was not used"
    assert got.shape == expected.shape
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


def test_only_inside_the_block_and_without_gradients(monkeypatch):
    layer = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 4))
    calls = _counting(monkeypatch)
    x = torch.randn(3, 8)
    with packed_linears(layer):
        out = layer(x)  # gradients enabled: the plain path, so backward works
        out.sum().backward()
        assert not calls and layer[0].weight.grad is not None
        with torch.no_grad():
            layer(x)
        assert len(calls) == 2
        with torch.no_grad(), packed_linears(layer):  # nested: patched once, restored by the outer block only
            layer(x)
        assert len(calls) == 4 and "forward" in layer[0].__dict__
    assert all("forward" not in m.__dict__ for m in layer.modules())
    with torch.no_grad():
        layer(x)
    assert len(calls) == 4


def test_long_inputs_and_other_dtypes_run_as_before(monkeypatch):
    layer = nn.Linear(8, 8)
    calls = _counting(monkeypatch)
    with torch.no_grad(), packed_linears(layer):
        layer(torch.randn(packed.MAX_ROWS + 1, 8))
        layer.double()
        layer(torch.randn(2, 8, dtype=torch.float64))
    assert not calls


def test_disabled_does_nothing(monkeypatch):
    layer = nn.Linear(8, 8)
    calls = _counting(monkeypatch)
    with torch.no_grad(), packed_linears(layer, enabled=False):
        layer(torch.randn(2, 8))
    assert not calls and "forward" not in layer.__dict__


def test_a_changed_weight_is_packed_again():
    torch.manual_seed(0)
    layer = nn.Linear(16, 16)
    x = torch.randn(2, 16)
    with torch.no_grad(), packed_linears(layer):
        layer(x)
        layer.weight.mul_(2)  # in place, as an optimizer step does
        torch.testing.assert_close(layer(x), F.linear(x, layer.weight, layer.bias), rtol=1e-5, atol=1e-5)
        layer.load_state_dict({"weight": torch.zeros(16, 16), "bias": torch.ones(16)})
        torch.testing.assert_close(layer(x), torch.ones(2, 16))


def test_a_deep_copy_made_inside_the_block_uses_its_own_weights():
    layer = nn.Linear(4, 4)
    x = torch.randn(1, 4)
    with torch.no_grad(), packed_linears(layer):
        twin = copy.deepcopy(layer)
        twin.weight.zero_()
        twin.bias.zero_()
        assert torch.equal(twin(x), torch.zeros(1, 4))
        assert not torch.equal(layer(x), torch.zeros(1, 4))


def test_decoding_gives_the_same_tokens_packed_or_not():
    from graphllm.data.collate import GraphCollator
    from graphllm.data.graphqa import GraphQAConfig, to_data
    from graphllm.data.graphqa import generate as generate_graphqa
    from graphllm.embedded import load_tokenizer
    from graphllm.inference.config import GenerationConfig, TreeShape
    from graphllm.inference.drafts import make_draft
    from graphllm.inference.generate import generate
    from graphllm.inference.speculative import speculative_generate
    from graphllm.models.build import build_model, load_recipe
    from graphllm.models.llm import tiny_llm

    tokenizer = load_tokenizer()
    rows = generate_graphqa(GraphQAConfig(examples=4, tasks=["connected_nodes"], seed=3), workers=1)
    torch.manual_seed(0)
    model = build_model(load_recipe("graph-prefix"), tiny_llm("llama", layers=3)).eval()
    batch = GraphCollator(tokenizer, "generate")([to_data(r) for r in rows])
    config = GenerationConfig(max_new_tokens=16, stop_ids=[tokenizer.eos_token_id])
    plain = generate(model, batch, dataclasses.replace(config, packed_weights=False))
    assert generate(model, batch, config) == plain
    assert speculative_generate(model, batch, make_draft("early-exit:1"), config, TreeShape.parse("1,2,1")) == plain


def test_the_faster_kernel_is_measured_once_per_shape_and_row_count(monkeypatch):
    measured = []

    def measure(weight, packed_weight, rows):
        measured.append((*weight.shape, rows))
        return rows > 1  # as on the Xeon: MKL for one row, oneDNN from there on

    monkeypatch.setattr(packed, "measure_packed_faster", measure)
    monkeypatch.setattr(packed, "_PACKED_FASTER", {})
    torch.manual_seed(0)
    layer, tiny = nn.Linear(256, 320), nn.Linear(48, 80)
    calls = _counting(monkeypatch)
    with torch.no_grad(), packed_linears(layer, tiny):
        one = torch.randn(1, 1, 256)
        assert torch.equal(layer(one), F.linear(one, layer.weight, layer.bias)) and not calls  # MKL's own numbers
        layer(one)
        layer(torch.randn(3, 256))
        layer(torch.randn(2, 2, 256))  # 4 rows: the bucket of 3
        layer(torch.randn(packed.CALIBRATED_ROWS + 1, 256))  # above the calibrated rows: oneDNN, unmeasured
        tiny(torch.randn(1, 48))  # too small to time: oneDNN, unmeasured
    assert measured == [(320, 256, 1), (320, 256, 4)]
    assert len(calls) == 4


@pytest.mark.parametrize("slow", ["mkl", "onednn"])
def test_the_measurement_picks_the_kernel_that_runs_faster(slow, monkeypatch):
    def slowed(fn):
        def run(*args):
            time.sleep(0.002)
            return fn(*args)
        return run

    weight = torch.randn(16, 8)
    packed_weight = torch.ops.mkldnn._reorder_linear_weight(weight, None)
    if slow == "mkl":
        monkeypatch.setattr(packed, "F", types.SimpleNamespace(linear=slowed(F.linear)))
    else:
        ops = types.SimpleNamespace(_linear_pointwise=slowed(torch.ops.mkldnn._linear_pointwise))
        monkeypatch.setattr(packed.torch.ops, "mkldnn", ops)
    assert packed.measure_packed_faster(weight, packed_weight, 2) == (slow == "mkl")
