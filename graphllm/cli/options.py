"""Command-line options shared by several commands."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# (here, not in graphllm.devices: importing that imports torch, which `graphllm catalog` must not wait for)
DEVICE_HELP = "cpu, cuda, cuda:N or auto (default: auto, the GPU when torch sees one)"


def device_type(text: str):
    """`--device`: checked while the command line is parsed, before minutes go into loading a model."""
    from graphllm.devices import DeviceError, resolve_device

    try:
        return resolve_device(text)
    except DeviceError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


class Parser(argparse.ArgumentParser):
    """An argument parser that can leave some options to be declared when its command is parsed or its help shown
    (`defer`): options that come from a registry which imports torch, which other commands should not wait for.
    Subcommands' parsers are of the class of the parser that made them, so the top-level parser is one of these."""

    _declare = None

    def defer(self, declare) -> None:
        """Call `declare(self)` before this parser first parses its arguments."""
        self._declare = declare

    def parse_known_args(self, args=None, namespace=None):
        if self._declare is not None:
            declare, self._declare = self._declare, None
            declare(self)
        return super().parse_known_args(args, namespace)


class RegistryHelp(str):
    """A `--help` text made from a registry when help is printed, not when the parser is built: the registries of
    drafts and layers import torch, which a command's start-up should not wait for. `HelpFormatter` renders it."""

    def __new__(cls, render):
        text = super().__new__(cls, "(from the registry)")
        text.render = render
        return text


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Raw descriptions and epilogs, and `RegistryHelp` texts rendered."""

    def _get_help_string(self, action):
        return action.help.render() if isinstance(action.help, RegistryHelp) else super()._get_help_string(action)


def draft_help(lead: str) -> RegistryHelp:
    """`lead`, then one line per registered draft (`graphllm.inference.drafts`)."""

    def render() -> str:
        from graphllm.inference.drafts import usage

        return f"{lead}: {usage()}. Join several with + for one merged tree."

    return RegistryHelp(render)


def model_source(parser: argparse.ArgumentParser, run: str = "a run directory from `graphllm train`",
                 recipe: str = "an untrained recipe (zero-shot, few-shot: the graph goes in as text)") -> None:
    """`--run RUN | --recipe NAME`, one of them required: the model a command loads."""
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--run", type=Path, help=run)
    group.add_argument("--recipe", help=recipe)


def print_report(report, json_path: Path | None) -> int:
    """A bench report's table on stdout and, with --json, its file (`graphllm.results.files.ReportFile`)."""
    print(report.text())
    if json_path:
        report.write(json_path)
        print(f"written: {json_path}", file=sys.stderr)
    return 0
