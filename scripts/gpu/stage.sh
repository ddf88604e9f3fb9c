#!/usr/bin/env bash
# Call 1 on the GPU machine: keep load one where the next call on the same (warm) machine finds it.
set -euo pipefail
mkdir -p /tmp/gpu-stage && cp -r .gpu/one/. /tmp/gpu-stage/
ls -la /tmp/gpu-stage; nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true
