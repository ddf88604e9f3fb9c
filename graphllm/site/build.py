"""Building the site: `mkdocs build --strict` on mkdocs.yml, warnings surfaced as one error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from graphllm import paths
from graphllm.errors import GraphLLMError


def build_site(strict: bool = True, site_dir: Path | None = None) -> Path:
    site_dir = site_dir or paths.REPO_ROOT / "site"
    command = [sys.executable, "-m", "mkdocs", "build", "--clean", "-f", str(paths.REPO_ROOT / "mkdocs.yml"),
               "-d", str(site_dir)]
    if strict:
        command.append("--strict")
    env = {**os.environ, "GRAPHLLM_CATALOG": str(paths.catalog_dir()), "NO_MKDOCS_2_WARNING": "1",
           "GRAPHLLM_RESULTS": str(paths.results_dir())}
    done = subprocess.run(command, cwd=paths.REPO_ROOT, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        log = done.stderr.strip().splitlines() or ["unknown error"]
        warnings = [line for line in log if line.startswith(("WARNING", "ERROR"))]
        reason = log[-1].strip() if "Traceback" in done.stderr else (warnings or log)[0].strip()
        raise GraphLLMError(f"mkdocs build failed: {reason} (run `mkdocs build --strict` for the full log)")
    return site_dir
