#!/usr/bin/env bash
# Packs what a lent GPU machine lacks into .gpu/ (git-ignored), in two loads that each fit one `run` call's
# 64 MiB: the GPU image has torch, CUDA and most packages, but not the embedded model (98 MB GGUF), our
# pinned transformers, pydantic, gguf, peft, torch_geometric, nor the trained feature draft.
#
#   here:   scripts/gpu/pack.sh
#   call 1: run(command="bash scripts/gpu/stage.sh", carry=[".gpu/one"], timeout_s=120)
#   call 2: run(command="bash scripts/gpu/run.sh", carry=[".gpu/two"], timeout_s=600)   (at once: warm 30 s)
#
# The feature draft travels in bfloat16, the dtype the GPU run uses (fp32 weights would not fit).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=.venv/bin/python
GGUF=$($PY -c "from graphllm.embedded import smollm2_gguf; print(smollm2_gguf())")
DRAFT=${DRAFT:-runs/feature-draft-zero-shot}
grep -qx "/.gpu/" .git/info/exclude 2>/dev/null || { mkdir -p .git/info; echo "/.gpu/" >> .git/info/exclude; }
rm -rf .gpu/one .gpu/two && mkdir -p .gpu/one/wheels .gpu/two
# Versions as in this .venv; the image's python3 is 3.12. Pure-python wheels except pydantic-core.
$PY -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    -d .gpu/one/wheels $($PY - <<'PY'
from importlib.metadata import version
names = ["transformers", "gguf", "pydantic", "pydantic-core", "annotated-types", "typing-inspection",
         "typing-extensions", "peft", "torch-geometric"]
print(" ".join(f"{n}=={version(n)}" for n in names))
PY
)
if [ -f "$DRAFT/feature-draft.safetensors" ]; then
  mkdir -p .gpu/one/feature-draft
  cp "$DRAFT/feature-draft.json" .gpu/one/feature-draft/
  $PY - "$DRAFT" <<'PY'
import sys
from safetensors.torch import load_file, save_file
import torch
tensors = load_file(f"{sys.argv[1]}/feature-draft.safetensors")
save_file({k: v if k == "vocabulary" else v.to(torch.bfloat16) for k, v in tensors.items()},
          ".gpu/one/feature-draft/feature-draft.safetensors")
PY
fi
# The GGUF, split so that load one (wheels, draft, first part) and load two (the rest) each fit.
head -c 37000000 "$GGUF" > .gpu/one/gguf.part1
tail -c +37000001 "$GGUF" > .gpu/two/gguf.part2
sha256sum "$GGUF" | cut -d' ' -f1 > .gpu/two/gguf.sha256
du -sb .gpu/one .gpu/two
