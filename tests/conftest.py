from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("GRAPHLLM_DATA", REPO.parent / "shared" / "data"))
CATALOG = REPO / "catalog"
FIXTURES = REPO / "tests" / "fixtures"  # small files of our own, shared by the tests of every part


def require_tool(ok: bool, what: str) -> None:
    """Skip when a system tool is missing on a developer machine; fail in CI (GRAPHLLM_REQUIRE_TOOLS=1)."""
    if ok:
        return
    if os.environ.get("GRAPHLLM_REQUIRE_TOOLS") == "1":
        pytest.fail(f"{what} is required in CI (.ci/run installs it)")
    pytest.skip(f"{what} not installed")


@pytest.fixture(scope="module")
def tokenizer():
    """The embedded SmolLM2 tokenizer (with its chat template)."""
    from graphllm.embedded import load_tokenizer

    return load_tokenizer()


@pytest.fixture(scope="module")
def questions():
    """Twelve GraphQA questions (connected nodes and node count) that the decoding tests answer."""
    from graphllm.data.graphqa import GraphQAConfig, generate, to_data

    rows = generate(GraphQAConfig(examples=12, tasks=["connected_nodes", "node_count"], seed=2), workers=1)
    return [to_data(r) for r in rows]


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "awesome-graph-llm" / "README.md").exists():
        pytest.fail(f"upstream lists not found in {SHARED_DATA}: ../shared/data must sit beside the checkout")
    return SHARED_DATA


@pytest.fixture
def catalog_copy(tmp_path: Path) -> Path:
    """A writable copy of the committed catalog."""
    target = tmp_path / "catalog"
    shutil.copytree(CATALOG, target)
    return target


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["graphllm", *args] if shutil.which("graphllm") else
                          [str(REPO / ".venv" / "bin" / "graphllm"), *args],
                          capture_output=True, text=True, cwd=cwd or REPO, env={**os.environ, **(env or {})})


@pytest.fixture(scope="session")
def built_site(tmp_path_factory) -> Path:
    """The site built once per test session with `mkdocs build --strict`."""
    from graphllm.site.build import build_site

    return build_site(strict=True, site_dir=tmp_path_factory.mktemp("site") / "site")


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    require_tool(bool(CHROMIUM and CHROMEDRIVER), "chromium and chromedriver (Debian packages)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-dev-shm-usage", "--disable-component-update", "--disable-sync", "--no-first-run",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium')}", "--window-size=1280,1600"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def losses_of_steps(model, batch, steps: int, lr: float) -> list[float]:
    """`steps` AdamW steps of `model` on one `batch`: the loss before each (what "it learns" tests read)."""
    import torch

    optimizer = torch.optim.AdamW(model.trainable_parameters().values(), lr=lr)
    losses = []
    for _ in range(steps):
        loss = model(batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(float(loss))
    return losses
