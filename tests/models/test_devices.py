"""Device choice: `auto` follows what torch sees; a device that is not there is one clear line, not a crash."""

from __future__ import annotations

import pytest
import torch

from graphllm.cli import main
from graphllm.devices import DeviceError, resolve_device, resolve_dtype


def test_auto_takes_the_gpu_only_when_there_is_one():
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_dtype("auto", torch.device("cpu")) is torch.float32
    assert resolve_dtype("auto", torch.device("cuda")) is torch.bfloat16
    assert resolve_dtype("float16", torch.device("cpu")) is torch.float16


@pytest.mark.parametrize(("name", "says"), [("tpu", "unknown device"), ("meta", "not supported"),
                                            ("cuda:99", "(?i)cuda")])
def test_devices_that_cannot_run_are_named(name, says):
    with pytest.raises(DeviceError, match=says):
        resolve_device(name)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_asking_for_a_missing_gpu_says_what_to_do(capsys):
    with pytest.raises(DeviceError, match="use --device cpu"):
        resolve_device("cuda")
    with pytest.raises(SystemExit) as exit_:  # refused while parsing, before any model loads
        main(["train", "--recipe", "graph-prefix", "--device", "cuda"])
    assert exit_.value.code == 2
    assert "use --device cpu" in capsys.readouterr().err
    with pytest.raises(DeviceError):
        resolve_dtype("int8", torch.device("cpu"))
