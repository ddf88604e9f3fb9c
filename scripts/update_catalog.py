#!/usr/bin/env python3
"""Update the catalog: `add <arXiv id or URL>`, `refresh`, `sync`. Thin entry point: the logic is in
graphllm/catalog; this is `graphllm catalog ...` with the same arguments.

    python scripts/update_catalog.py add 2310.04560 --code google-research/talk-like-a-graph
    python scripts/update_catalog.py refresh --report refresh.md
    python scripts/update_catalog.py sync --dry-run
"""

import sys

from graphllm.cli import main

if __name__ == "__main__":
    sys.exit(main(["catalog", *sys.argv[1:]]))
