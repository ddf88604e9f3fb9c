"""Trains a tiny graph-prefix model for the multi-process test: `python tests/ddp_worker.py OUT 1` in one
process with accumulation 2, or under `torch.distributed.run --nproc_per_node 2` with accumulation 1."""

import sys

import torch

from graphllm.data.collate import GraphCollator
from graphllm.data.graphqa import GraphQAConfig, generate, to_data
from graphllm.embedded import load_tokenizer
from graphllm.experiment import accelerator_from_env
from graphllm.models.build import Recipe, build_model
from graphllm.models.llm import tiny_llm
from graphllm.train import TrainConfig, train


def main(out: str, processes: int) -> None:
    accelerator = accelerator_from_env() if processes > 1 else None
    if accelerator is not None:
        print(f"process {accelerator.process_index} of {accelerator.num_processes}, {accelerator.distributed_type}",
              file=sys.stderr)
    torch.manual_seed(1)
    # No Laplacian encodings: their random sign flips draw from each process's own RNG stream, which would make
    # the two runs equal in distribution but not number for number.
    recipe = Recipe(name="ddp", bridge="graph-prefix", gnn={"hidden": 32, "laplacian_pe": 0, "graph_tokens": 2})
    model = build_model(recipe, tiny_llm("llama", seed=1))
    data = [to_data(e) for e in generate(GraphQAConfig(examples=48, tasks=["cycle_check", "edge_existence"], seed=3),
                                         workers=1)]
    config = TrainConfig(steps=4, batch_size=4, accumulation=2 if processes == 1 else 1, lr=1e-2, warmup=1,
                         checkpoint_every=100, seed=5)
    train(model, data, [], GraphCollator(load_tokenizer(), "train"), config, out, resume=False, progress=False,
          accelerator=accelerator)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
