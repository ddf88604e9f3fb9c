"""Settings of `graphllm distill` for the distilled draft."""

from __future__ import annotations

from dataclasses import dataclass

from graphllm.config import TrainConfig


@dataclass
class DistillConfig:
    layers: int = 4  # of the target's decoder layers the draft copies
    steps: int = 100
    batch_size: int = 4
    lr: float = 3e-4  # a constant rate
    seed: int = 0

    def train_config(self) -> TrainConfig:
        """The one training loop's settings for this distillation (checkpointed every 25 steps)."""
        return TrainConfig(steps=self.steps, batch_size=self.batch_size, lr=self.lr, warmup=0, schedule="constant",
                           eval_every=self.steps, checkpoint_every=25, seed=self.seed, bf16=False)
