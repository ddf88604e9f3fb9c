"""Default locations, overridable by flags or environment variables."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def catalog_dir() -> Path:
    return Path(os.environ.get("GRAPHLLM_CATALOG", REPO_ROOT / "catalog"))


def shared_data_dir() -> Path:
    """The upstream lists: $GRAPHLLM_DATA, else ../shared/data beside the checkout."""
    return Path(os.environ.get("GRAPHLLM_DATA", REPO_ROOT.parent / "shared" / "data"))


def list_file() -> Path:
    return REPO_ROOT / "LIST.md"


def results_dir() -> Path:
    """Where experiment results (JSON) live; the site's leaderboard reads them. $GRAPHLLM_RESULTS overrides."""
    return Path(os.environ.get("GRAPHLLM_RESULTS", REPO_ROOT / "results"))


def local_results_dir() -> Path:
    """Results of runs made in this checkout (`make demo` among them): untracked, shown on a locally built site
    beside the published ones in results/. $GRAPHLLM_LOCAL_RESULTS overrides."""
    return Path(os.environ.get("GRAPHLLM_LOCAL_RESULTS", REPO_ROOT / "runs" / "results"))


def link_report() -> Path:
    """A `graphllm links check --json` report the site shows as link health: $GRAPHLLM_LINK_REPORT, else
    results/links/report.json (absent: the site shows no health marks)."""
    return Path(os.environ.get("GRAPHLLM_LINK_REPORT", results_dir() / "links" / "report.json"))
