"""Two CPU processes (accelerate, gloo) train to the same weights as one process with twice the accumulation."""

import os
import subprocess
import sys

import torch
from safetensors.torch import load_file

from tests.conftest import REPO

WORKER = REPO / "tests" / "ddp_worker.py"


def test_two_processes_match_one_with_matching_accumulation(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    one = subprocess.run([sys.executable, str(WORKER), str(tmp_path / "one"), "1"], env=env, capture_output=True,
                         text=True, timeout=600)
    assert one.returncode == 0, one.stderr[-2000:]
    # torchrun starts the processes; accelerate's Accelerator inside them sets up gloo (MULTI_CPU).
    two = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port",
                          str(_free_port()), str(WORKER), str(tmp_path / "two"), "2"],
                         env=env, capture_output=True, text=True, timeout=600)
    assert two.returncode == 0, two.stderr[-2000:]
    assert "process 1 of 2, DistributedType.MULTI_CPU" in two.stderr
    a = load_file(str(tmp_path / "one" / "trainable.safetensors"))
    b = load_file(str(tmp_path / "two" / "trainable.safetensors"))
    assert set(a) == set(b) and a
    for name in a:  # summation order aside, the same numbers
        assert torch.allclose(a[name], b[name], atol=1e-6, rtol=0), name


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
