"""Settings of `graphllm distill --draft feature`."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from graphllm.config import TrainConfig


@dataclass
class FeatureDistillConfig:
    epochs: int = 10
    lr: float = 5e-4
    noise: float = 0.05  # std of the noise on input features
    # Chain steps trained (1: from the target's features only, as in EAGLE-1); 3 steps gave more tokens per
    # pass on held-out answers than 1, the more so for deeper chains (benchmark notes of the docs).
    unroll: int = 3
    # Weight of the cross-entropy against the target's tokens beside the feature loss (EAGLE: 0.1; 1.0 gave more
    # tokens per pass here, at both depths).
    token_weight: float = 1.0
    max_vocabulary: int = 16_384  # the draft proposes the most frequent tokens of the training text only
    held_out: float = 0.125  # share of the sequences kept out of training to measure the draft
    seed: int = 0

    def train_config(self, sequences: int) -> TrainConfig:
        """The one training loop's settings: one sequence per step at a constant rate, an epoch being `sequences`
        steps, measured and checkpointed at the end of each."""
        return TrainConfig(steps=self.epochs * sequences, batch_size=1, lr=self.lr, warmup=0, schedule="constant",
                           eval_every=sequences, checkpoint_every=sequences, seed=self.seed, bf16=False)

    def settings(self) -> dict:
        """What a resumed run must share with its checkpoint besides the loop's config (the epochs may grow)."""
        return {k: v for k, v in asdict(self).items() if k not in ("epochs", "lr", "seed")}
