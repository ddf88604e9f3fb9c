"""`graphllm links ...`: parse, call graphllm.links, print."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _links_check(args) -> int:
    from graphllm.fileio import atomic_write_text
    from graphllm.links import check, load_config
    from graphllm.links.model import Verdict

    overrides = {"user_agent": args.user_agent, "timeout": args.timeout, "per_host": args.per_host,
                 "concurrency": args.concurrency, "retries": args.retries}
    if args.fail_on:
        overrides["fail_on"] = [v.strip() for v in args.fail_on.split(",") if v.strip()]
    config = load_config(args.config, **overrides)
    if args.cache:
        config.cache.path = args.cache
    report = check(args.inputs, config, progress=not args.quiet and sys.stderr.isatty(), use_cache=not args.no_cache)
    if args.json:
        atomic_write_text(args.json, report.to_json())
    if args.markdown:
        atomic_write_text(args.markdown, report.to_markdown())
    if not args.quiet:
        for result in report.results:
            if result.verdict not in (Verdict.OK, Verdict.SKIPPED):
                where = result.sources[0] if result.sources else ""
                print(f"{result.verdict:>10}  {result.url}  [{result.evidence()}]  {where}")
    print(report.summary())
    failed = report.failed(config.fail_on)
    if failed:
        print(f"{len(failed)} link(s) with verdict {', '.join(sorted({str(r.verdict) for r in failed}))}",
              file=sys.stderr)
        return 1
    return 0


def register(commands) -> None:
    links = commands.add_parser("links", help="the link-validating crawler",
                                description="Check links politely and report verdicts with their evidence.")
    links_commands = links.add_subparsers(dest="links_command", metavar="ACTION", required=True)
    chk = links_commands.add_parser(
        "check", help="check the links of the catalog, Markdown files or a built site",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Check every link once and give each a verdict with evidence:\n"
                    "  ok, redirected (final URL, permanent or not), broken (404/410, unknown host, refused,\n"
                    "  TLS failure, redirect loop, missing anchor), blocked (401/403/429 after retries, bot wall),\n"
                    "  timeout, error (5xx after retries), skipped (excluded).\n"
                    "HEAD first, GET when HEAD is refused; Retry-After honoured; per-host limits; a SQLite cache\n"
                    "of ok/redirected verdicts. Exit 1 only for the verdicts in fail_on (default: broken).",
        epilog="examples:\n  graphllm links check                         # the catalog\n"
               "  graphllm links check LIST.md README.md\n"
               "  graphllm links check site/ --markdown report.md --json report.json")
    chk.add_argument("inputs", nargs="*", type=Path,
                     help="catalog directory, built site directory or Markdown files (default: the catalog)")
    chk.add_argument("--config", type=Path, help="YAML settings (see graphllm/links/config.py)")
    chk.add_argument("--json", type=Path, help="write the JSON report here")
    chk.add_argument("--markdown", type=Path, help="write the Markdown report (issue/PR body) here")
    chk.add_argument("--user-agent", help="User-Agent header")
    chk.add_argument("--timeout", type=float, help="seconds per request (default 20)")
    chk.add_argument("--per-host", type=int, help="requests in flight per host (default 4)")
    chk.add_argument("--concurrency", type=int, help="requests in flight overall (default 256)")
    chk.add_argument("--retries", type=int, help="retries for 5xx, 429, resets, timeouts (default 3)")
    chk.add_argument("--fail-on", help="comma-separated verdicts that make the exit status 1 (default: broken)")
    chk.add_argument("--cache", type=Path, help="SQLite cache file (default .cache/links.sqlite)")
    chk.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    chk.add_argument("--quiet", action="store_true", help="print only the summary")
    chk.set_defaults(func=_links_check)
