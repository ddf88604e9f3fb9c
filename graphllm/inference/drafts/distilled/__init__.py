"""The distilled draft, one folder: `model.py` (the small copy of the target with its own bridge, saving and
loading), `draft.py` (decoding with it, registered as `--draft distilled`), `config.py` and `training.py`
(`graphllm distill`, on the project's one training loop)."""

from graphllm.inference.drafts.distilled import training  # noqa: F401 (registers its trainer)
from graphllm.inference.drafts.distilled.draft import DistilledDraft
from graphllm.inference.drafts.distilled.model import build_draft_model, load_draft, save_draft

__all__ = ["DistilledDraft", "build_draft_model", "load_draft", "save_draft"]
