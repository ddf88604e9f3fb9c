"""The feature draft (EAGLE), one folder: `model.py` (the layer, saving and loading), `draft.py` (decoding with it,
registered as `--draft feature`), `config.py` and `training.py` (`graphllm distill --draft feature`, on the
project's one training loop)."""

from graphllm.inference.drafts.feature import training  # noqa: F401 (registers its trainer)
from graphllm.inference.drafts.feature.draft import FeatureDraft
from graphllm.inference.drafts.feature.model import (
    CONFIG,
    WEIGHTS,
    FeatureDraftModel,
    load_feature_draft,
    save_feature_draft,
)

__all__ = ["CONFIG", "WEIGHTS", "FeatureDraft", "FeatureDraftModel", "load_feature_draft", "save_feature_draft"]
