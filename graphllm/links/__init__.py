"""The link-validating crawler: a library with a thin CLI (`graphllm links check`).

    from graphllm.links import check, load_config
    report = check([Path("catalog")], load_config(None))
    print(report.summary())
"""

from graphllm.links.config import LinkConfig, load_config
from graphllm.links.model import Result, Target, Verdict
from graphllm.links.report import LinkReport
from graphllm.links.run import check

__all__ = ["LinkConfig", "LinkReport", "Result", "Target", "Verdict", "check", "load_config"]
