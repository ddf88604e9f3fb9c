#!/usr/bin/env python3
"""Check every link of the catalog (or of the given inputs). Thin entry point: the logic is in
graphllm/links; this is `graphllm links check` with the same arguments."""

import sys

from graphllm.cli import main

if __name__ == "__main__":
    sys.exit(main(["links", "check", *sys.argv[1:]]))
