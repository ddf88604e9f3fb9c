"""The `graphllm` command line. It only parses arguments, calls the library and prints.

Heavy libraries (torch, transformers, torch_geometric) are imported inside the commands that need
them, so catalog and link commands start fast.
"""

from __future__ import annotations

import argparse
import sys

from graphllm import __version__
from graphllm.cli import catalog, experiments, links, serve
from graphllm.cli.options import Parser
from graphllm.errors import GraphLLMError

EPILOG = """examples:
  graphllm catalog import            merge the upstream lists into catalog/
  graphllm catalog validate          check every entry; prints the number of unique papers
  graphllm catalog render            write LIST.md, the awesome-style list
  graphllm links check               check every link of the catalog
  graphllm catalog add 2310.04560    add a paper by arXiv id (refresh, sync: keep the catalog current)
  graphllm site build                build the static site into site/
  graphllm data graphqa --stats      generate GraphQA and print its label statistics
  graphllm train --recipe graph-prefix --tasks cycle_check
                                     train and evaluate a method; results feed the leaderboard
  graphllm serve --recipe zero-shot  answer graph questions over HTTP (a page to try it at /)
  graphllm bench links               our link checker vs linkinator and markdown-link-check
  graphllm demo                      the main job on the embedded default
"""

def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="graphllm", description="Graph + LLM hub: the catalog, its site, and runnable experiments.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"graphllm {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    catalog.register(commands)
    links.register(commands)
    experiments.register(commands)
    serve.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except GraphLLMError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; files already written are complete, nothing is half-written", file=sys.stderr)
        return 130
