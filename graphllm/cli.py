"""The `graphllm` command line. It only parses arguments, calls the library and prints.

Heavy libraries (torch, transformers, torch_geometric) are imported inside the commands that need
them, so catalog and link commands start fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from graphllm import __version__, paths
from graphllm.errors import GraphLLMError

EPILOG = """examples:
  graphllm catalog import            merge the upstream lists into catalog/
  graphllm catalog validate          check every entry; prints the number of unique papers
  graphllm catalog render            write LIST.md, the awesome-style list
  graphllm links check               check every link of the catalog
  graphllm site build                build the static site into site/
  graphllm demo                      the main job on the embedded default
"""


def _catalog_import(args) -> int:
    from graphllm.catalog.upstream import import_upstream

    outcome = import_upstream(args.catalog, args.data, dry_run=args.dry_run)
    report = outcome.report
    for problem in report.problems:
        print(f"not parsed: {problem}", file=sys.stderr)
    for source, count in report.per_source.items():
        print(f"{source}: {count} entries")
    for source, groups in report.duplicates_within.items():
        print(f"{source}: {len(groups)} duplicate groups within the list")
        for group in groups:
            lines = ", ".join(str(r.line) for r in group)
            print(f"  lines {lines}: {group[0].title}")
    print(f"papers found in more than one list: {report.overlaps}")
    print(f"unique entries after merging: {report.groups}")
    for note in report.venue_notes:
        print(f"venue differs for {note.entry!r}: catalog has {note.current}, {note.source} says {note.upstream}")
    print(f"new entries: {len(report.added)}, updated: {len(report.updated)}, new sections: {len(report.new_sections)}")
    if args.dry_run:
        print(outcome.diff or "dry run: nothing would change", end="" if outcome.diff else "\n")
    else:
        print(f"files written: {len(outcome.changed)}" + ("" if outcome.changed else " (catalog already up to date)"))
    return 0


def _catalog_add(args) -> int:
    from graphllm.catalog.add import add_paper
    from graphllm.catalog.clients.arxiv import ArxivClient

    outcome = add_paper(args.catalog, args.paper, code=args.code, section=args.section,
                        arxiv=ArxivClient(args.arxiv_api), dry_run=args.dry_run)
    verb = "would add" if args.dry_run else "added"
    print(f"{verb} to catalog/{outcome.section}.yaml:")
    print(outcome.entry_yaml(), end="")
    if args.dry_run:
        print(outcome.diff, end="")
    return 0


def _catalog_refresh(args) -> int:
    from tqdm import tqdm

    from graphllm.catalog.clients.github import GitHubClient
    from graphllm.catalog.clients.semantic_scholar import SemanticScholarClient
    from graphllm.catalog.refresh import refresh
    from graphllm.fileio import atomic_write_text

    with tqdm(unit="lookup", desc="refreshing", disable=not sys.stderr.isatty()) as bar:
        report = refresh(args.catalog, GitHubClient(args.github_api), SemanticScholarClient(args.s2_api),
                         dry_run=args.dry_run, do_github=not args.venues_only, do_venues=not args.github_only,
                         progress=bar.update)
    markdown = report.to_markdown()
    if args.report:
        atomic_write_text(args.report, markdown)
    print(markdown, end="")
    if args.dry_run:
        print(report.diff or "dry run: nothing would change", end="" if report.diff else "\n")
    return 0


def _catalog_sync(args) -> int:
    from graphllm.catalog.upstream import sync_upstream

    outcome = sync_upstream(args.catalog, args.source, args.data, list_name=args.list, dry_run=args.dry_run)
    report = outcome.report
    for problem in report.problems:
        print(f"not parsed: {problem}", file=sys.stderr)
    lines = ["# Upstream sync", ""]
    lines += [f"- new: `{e.id}` {e.title}" for e in report.added] or ["- no new entries"]
    lines += [f"- venue differs for `{n.entry}`: catalog has {n.current}, {n.source} says {n.upstream}"
              for n in report.venue_notes]
    print("\n".join(lines))
    if args.dry_run:
        print(outcome.diff or "dry run: nothing would change", end="" if outcome.diff else "\n")
    return 0


def _catalog_validate(args) -> int:
    from graphllm.catalog.validate import validate_catalog

    report = validate_catalog(args.catalog)
    for problem in report.problems:
        print(problem, file=sys.stderr)
    if not report.ok:
        print(f"{len(report.problems)} problem(s) in {args.catalog}; nothing was changed", file=sys.stderr)
        return 1
    catalog = report.catalog
    entries = catalog.entries()
    papers = sum(1 for e in entries if e.paper_url)
    print(f"catalog OK: {len(entries)} unique entries ({papers} papers with a paper link) "
          f"in {len(catalog.taxonomy.sections)} sections")
    return 0


def _catalog_render(args) -> int:
    from graphllm.catalog.render import render_list
    from graphllm.catalog.store import load_catalog
    from graphllm.fileio import write_if_changed

    text = render_list(load_catalog(args.catalog))
    output = Path(args.output)
    if args.check:
        current = output.read_text(encoding="utf-8") if output.exists() else None
        if current != text:
            print(f"{output} is out of date with the catalog; run `graphllm catalog render`", file=sys.stderr)
            return 1
        print(f"{output} is up to date")
        return 0
    changed = write_if_changed(output, text)
    print(f"{'wrote' if changed else 'unchanged:'} {output}")
    return 0


def _site_build(args) -> int:
    from graphllm.site.build import build_site

    site_dir = build_site(strict=not args.no_strict)
    print(f"site built: {site_dir}/index.html (serve it with `python -m http.server -d {site_dir}`)")
    return 0


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


def _bench_links(args) -> int:
    from graphllm.bench.links import bench_links, format_table
    from graphllm.fileio import atomic_write_text

    result = bench_links(args.urls, args.hosts, args.latency, args.faults, args.per_host, peers=not args.no_peers,
                         log=lambda msg: print(msg, file=sys.stderr))
    print(format_table(result))
    if args.json:
        runs = [{k: v for k, v in vars(run).items() if k != "broken"} for run in result["runs"]]
        atomic_write_text(args.json, json.dumps({**result, "runs": runs}, indent=2) + "\n")
    return 0


def _data_graphqa(args) -> int:
    from graphllm.data.graphqa import GraphQAConfig, format_statistics, generate, load, save, statistics

    if args.stats_only:
        print(format_statistics(statistics(load(args.out))))
        return 0
    config = GraphQAConfig(examples=args.examples, seed=args.seed)
    for name in ("tasks", "generators", "encoders"):
        chosen = getattr(args, name)
        if chosen:
            setattr(config, name, [c.strip() for c in chosen.split(",") if c.strip()])
    config.check()
    from tqdm import tqdm

    with tqdm(total=config.examples, unit="ex", desc="generating", disable=not sys.stderr.isatty()) as bar:
        examples = generate(config, workers=args.workers, progress=bar.update)
    counts = save(examples, args.out, config)
    print(f"wrote {len(examples)} examples to {args.out}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    if args.stats:
        print(format_statistics(statistics(examples)))
    return 0


def _bench_graphqa(args) -> int:
    from graphllm.bench.graphqa import bench_graphqa

    print(bench_graphqa(args.examples, args.workers))
    return 0


def _experiment_data(args):
    from graphllm.experiment import load_examples

    return load_examples(args.data, args.tasks, args.train_examples, args.val_examples, args.test_examples)


def _train(args) -> int:
    from graphllm.experiment import run

    run_dir = args.out or Path("runs") / f"{Path(args.recipe).stem}-{'+'.join(args.tasks)}"
    overrides = {"steps": args.steps, "batch_size": args.batch_size, "lr": args.lr, "seed": args.seed}
    result = run(args.recipe, args.tasks, _experiment_data(args), run_dir, llm_name=args.llm,
                 train_overrides=overrides, resume=not args.restart, progress=sys.stderr.isatty(),
                 results_dir=args.results)
    _print_result(result)
    print(f"run directory: {run_dir}")
    return 0


def _print_result(result: dict) -> None:
    print(f"{'task':<20}{'accuracy':>10}{'majority':>10}{'n':>6}")
    for task, accuracy in result["accuracy"].items():
        print(f"{task:<20}{accuracy:>10.3f}{result['majority'].get(task, float('nan')):>10.3f}{result['n'][task]:>6}")


def _eval(args) -> int:
    from graphllm.experiment import evaluate_run

    scores = evaluate_run(args.run, _experiment_data(args), llm_name=args.llm)
    for task, accuracy in scores["accuracy"].items():
        print(f"{task:<20}{accuracy:>10.3f}{scores['n'][task]:>6}")
    return 0


def _demo(args) -> int:
    from graphllm.demo import run_demo

    return run_demo()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="graphllm", description="Graph + LLM hub: the catalog, its site, and runnable experiments.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"graphllm {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    catalog = commands.add_parser("catalog", help="the curated list: import, validate, render",
                                  description="Work with the curated catalog in catalog/ (YAML, one file per section).")
    catalog_commands = catalog.add_subparsers(dest="catalog_command", metavar="ACTION", required=True)
    catalog_dir = argparse.ArgumentParser(add_help=False)
    catalog_dir.add_argument("--catalog", type=Path, default=paths.catalog_dir(),
                             help="catalog directory (default: %(default)s; env GRAPHLLM_CATALOG)")

    imp = catalog_commands.add_parser(
        "import", parents=[catalog_dir], help="merge the upstream lists into the catalog",
        description="Parse both upstream awesome lists and the seed toolbox, merge them to one entry per paper "
                    "(arXiv id, else normalised title) and write catalog/. Existing entries only gain what they "
                    "lack: curated fields are never overwritten. Re-running changes nothing.")
    imp.add_argument("--data", type=Path, default=paths.shared_data_dir(),
                     help="folder holding the upstream lists (default: %(default)s; env GRAPHLLM_DATA)")
    imp.add_argument("--dry-run", action="store_true", help="print the diff, write nothing")
    imp.set_defaults(func=_catalog_import)

    add = catalog_commands.add_parser(
        "add", parents=[catalog_dir], help="add a paper by arXiv id or URL",
        description="Fetch title, authors and first-version date from the arXiv API and add the paper. Refuses a "
                    "paper already in the catalog (same arXiv id or title) and names the entry it matches.",
        epilog="example: graphllm catalog add 2310.04560 --code google-research/talk-like-a-graph "
               "--section basic-graph-reasoning")
    add.add_argument("paper", help="arXiv id (2310.04560) or URL (https://arxiv.org/abs/2310.04560)")
    add.add_argument("--code", help="code repository as OWNER/REPO")
    add.add_argument("--section", default="others", help="section id from catalog/taxonomy.yaml (default: others)")
    add.add_argument("--dry-run", action="store_true", help="show the diff, write nothing")
    add.add_argument("--arxiv-api", help="arXiv API URL (default $GRAPHLLM_ARXIV_API or export.arxiv.org)")
    add.set_defaults(func=_catalog_add)

    ref = catalog_commands.add_parser(
        "refresh", parents=[catalog_dir], help="refresh stars, archived flags and venues",
        description="GitHub: stars, archived, last push and licence of every entry with a code repository "
                    "(GITHUB_TOKEN raises the rate limit). Semantic Scholar: the venue and year of arXiv "
                    "preprints once published. Honours 429/Retry-After and rate-limit headers; a failed lookup "
                    "leaves its entry as it was. Prints a Markdown report (for a PR body).")
    ref.add_argument("--dry-run", action="store_true", help="show the diff, write nothing")
    ref.add_argument("--github-only", action="store_true", help="skip the venue lookups")
    ref.add_argument("--venues-only", action="store_true", help="skip the GitHub lookups")
    ref.add_argument("--report", type=Path, help="also write the Markdown report to this file")
    ref.add_argument("--github-api", help="GitHub API URL (default $GRAPHLLM_GITHUB_API or api.github.com)")
    ref.add_argument("--s2-api", help="Semantic Scholar Graph API URL (default $GRAPHLLM_S2_API)")
    ref.set_defaults(func=_catalog_refresh)

    syn = catalog_commands.add_parser(
        "sync", parents=[catalog_dir], help="add entries new in the upstream lists",
        description="Re-import the upstream lists (or one list from --from FILE|URL), add the entries the catalog "
                    "lacks and report venue differences. Never deletes or overwrites curated fields.")
    syn.add_argument("--from", dest="source", help="one upstream README, as a file or an http(s) URL")
    syn.add_argument("--list", choices=["awesome-graph-llm", "lm-on-graphs", "seed-toolbox"],
                     help="the format of --from (detected when omitted)")
    syn.add_argument("--data", type=Path, default=paths.shared_data_dir(),
                     help="folder of the upstream lists when --from is not given (default: %(default)s)")
    syn.add_argument("--dry-run", action="store_true", help="show the diff, write nothing")
    syn.set_defaults(func=_catalog_sync)

    val = catalog_commands.add_parser(
        "validate", parents=[catalog_dir], help="check the catalog against its schema; never writes",
        description="Check YAML syntax, required and unknown fields, URLs, sections and duplicates (same arXiv id, "
                    "normalised title or paper URL). Each problem names file:line, entry and field. Exit 1 on any.")
    val.set_defaults(func=_catalog_validate)

    ren = catalog_commands.add_parser(
        "render", parents=[catalog_dir], help="write the awesome-style list (LIST.md)",
        description="Render the catalog to an awesome-style Markdown list. Byte-identical on re-run.")
    ren.add_argument("--output", type=Path, default=paths.list_file(), help="default: %(default)s")
    ren.add_argument("--check", action="store_true", help="exit 1 if the file differs from a fresh render")
    ren.set_defaults(func=_catalog_render)

    site = commands.add_parser("site", help="the static mkdocs-material site")
    site_commands = site.add_subparsers(dest="site_command", metavar="ACTION", required=True)
    build = site_commands.add_parser("build", help="build the site into site/ (mkdocs build --strict)")
    build.add_argument("--no-strict", action="store_true", help="do not fail on mkdocs warnings")
    build.set_defaults(func=_site_build)

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

    data = commands.add_parser("data", help="graph tasks: generate GraphQA")
    data_commands = data.add_subparsers(dest="data_command", metavar="WHAT", required=True)
    qa = data_commands.add_parser(
        "graphqa", help="generate GraphQA (Talk like a Graph) exactly, from a seed",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Random graphs (er, ba, sbm, sfn, complete, star, path; 5-19 nodes), twelve tasks, six text\n"
                    "encoders. Train/validation/test never share a graph, even relabelled. Written as JSON lines\n"
                    "(see graphllm/data/graphqa/dataset.py for the format).",
        epilog="example:\n  graphllm data graphqa --out data/graphqa --examples 12000 --tasks cycle_check,edge_count "
               "--stats")
    qa.add_argument("--out", type=Path, default=Path("data/graphqa"), help="output directory (default %(default)s)")
    qa.add_argument("--examples", type=int, default=12_000, help="total over all splits (default %(default)s)")
    qa.add_argument("--seed", type=int, default=0)
    qa.add_argument("--tasks", help="comma-separated (default: all twelve)")
    qa.add_argument("--generators", help="comma-separated (default: all seven)")
    qa.add_argument("--encoders", help="comma-separated (default: all six)")
    qa.add_argument("--workers", type=int, help="processes (default: the number of CPUs)")
    qa.add_argument("--stats", action="store_true",
                    help="print count, label distribution and majority accuracy per task")
    qa.add_argument("--stats-only", action="store_true",
                    help="print the statistics of the dataset in --out; generate nothing")
    qa.set_defaults(func=_data_graphqa)

    experiment = argparse.ArgumentParser(add_help=False)
    experiment.add_argument("--tasks", type=lambda s: [t.strip() for t in s.split(",") if t.strip()],
                            default=["cycle_check", "edge_existence"], help="comma-separated GraphQA tasks")
    experiment.add_argument("--data", type=Path, default=Path("data/graphqa"),
                            help="GraphQA directory from `graphllm data graphqa` (default %(default)s)")
    experiment.add_argument("--llm", default="smollm2-135m", help="embedded default, a Hugging Face id or a path")
    experiment.add_argument("--train-examples", type=int, default=1000, help="per task (default %(default)s)")
    experiment.add_argument("--val-examples", type=int, default=50, help="per task (default %(default)s)")
    experiment.add_argument("--test-examples", type=int, default=100, help="per task (default %(default)s)")

    tr = commands.add_parser(
        "train", parents=[experiment], help="train a recipe on GraphQA tasks and evaluate it",
        description="Train the trainable parts of a recipe (the LLM stays frozen unless the recipe adapts it), "
                    "checkpointing as it goes (a killed run resumes where it stopped), then evaluate on the test "
                    "split and write results JSON beside the majority baseline.",
        epilog="example: graphllm train --recipe graph-prefix --tasks cycle_check,edge_existence --steps 200")
    tr.add_argument("--recipe", required=True, help="a name from graphllm/recipes/ or a YAML path")
    tr.add_argument("--out", type=Path, help="run directory (default runs/<recipe>-<tasks>)")
    tr.add_argument("--steps", type=int)
    tr.add_argument("--batch-size", type=int)
    tr.add_argument("--lr", type=float)
    tr.add_argument("--seed", type=int)
    tr.add_argument("--restart", action="store_true", help="ignore an existing checkpoint in the run directory")
    tr.add_argument("--results", type=Path, default=Path("results"), help="where results/<run>.json goes")
    tr.set_defaults(func=_train)

    ev = commands.add_parser("eval", parents=[experiment], help="evaluate a trained run directory")
    ev.add_argument("--run", type=Path, required=True)
    ev.set_defaults(func=_eval)

    bench = commands.add_parser("bench", help="benchmarks against peers, measured in the same run")
    bench_commands = bench.add_subparsers(dest="bench_command", metavar="WHAT", required=True)
    bl = bench_commands.add_parser(
        "links", help="our crawler vs linkinator and markdown-link-check on a local link farm",
        description="Start a farm of HTTP hosts on 127.0.0.x with fixed latency and known faults, then time "
                    "each checker as a whole command on the same Markdown file and count its wrong verdicts "
                    "against the farm's ground truth. The npm peers are installed into .cache/npm if missing.")
    bl.add_argument("--urls", type=int, default=2000)
    bl.add_argument("--hosts", type=int, default=50)
    bl.add_argument("--latency", type=float, default=0.05, help="seconds per response (default 0.05)")
    bl.add_argument("--faults", type=float, default=0.05, help="share of faulty URLs (default 0.05)")
    bl.add_argument("--per-host", type=int, default=4, help="our per-host limit (default 4)")
    bl.add_argument("--no-peers", action="store_true", help="skip linkinator and markdown-link-check")
    bl.add_argument("--json", type=Path, help="also write the figures as JSON")
    bl.set_defaults(func=_bench_links)
    bq = bench_commands.add_parser("graphqa", help="GraphQA generation rate (examples/s, with PyG Data)")
    bq.add_argument("--examples", type=int, default=100_000)
    bq.add_argument("--workers", type=int, help="processes (default: the number of CPUs)")
    bq.set_defaults(func=_bench_graphqa)

    demo = commands.add_parser("demo", help="the main job on the embedded default",
                               description="Validate and render the catalog, then build the site.")
    demo.set_defaults(func=_demo)
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
