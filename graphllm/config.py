"""Settings that several parts read: a leaf module, so that models, recipes and the training loop share them
without importing one another."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ConfigDict


@dataclass
class TrainConfig:
    # a recipe's `train:` is validated as this dataclass: a misspelt setting is an error, not a default
    __pydantic_config__ = ConfigDict(extra="forbid")

    steps: int = 200
    batch_size: int = 8
    accumulation: int = 1
    lr: float = 1e-3
    weight_decay: float = 0.0
    warmup: int = 20
    grad_clip: float = 1.0
    eval_every: int = 50
    patience: int | None = None  # validations without improvement before stopping early
    checkpoint_every: int = 50
    seed: int = 0
    bf16: bool = True  # autocast on CUDA only
    schedule: str = "cosine"  # after warmup: "cosine" decays to zero at `steps`, "constant" keeps `lr`

    def __post_init__(self):
        if self.schedule not in ("cosine", "constant"):
            raise ValueError(f"schedule must be 'cosine' or 'constant', not {self.schedule!r}")
