"""`graphllm catalog ...` and `graphllm site ...`: parse, call graphllm.catalog / graphllm.site, print."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from graphllm import paths


def _print_merge(report) -> None:
    """Per list: read, matched to an entry already there, new, skipped (and why); then what could not be read."""
    for problem in report.problems:
        print(f"not parsed: {problem}", file=sys.stderr)
    for source, count in report.per_source.items():
        skipped = report.skipped.get(source, {})
        why = "; ".join(f"{n} {reason}" for reason, n in skipped.items())
        print(f"{source}: {count} read, {report.matched[source]} matched, {report.new[source]} new, "
              f"{sum(skipped.values())} skipped" + (f" ({why})" if why else ""))
    for source, groups in report.duplicates_within.items():
        print(f"{source}: {len(groups)} papers listed twice within the list")
    print(f"papers found in more than one list: {report.overlaps}")
    print(f"unique entries in these lists: {report.groups}")
    for conflict in report.venue_conflicts:
        print(f"venue conflict: {conflict}")
    for note in report.venue_notes:
        print(f"venue differs for {note.entry!r}: catalog has {note.current}, {note.source} says {note.upstream}")


def _catalog_import(args) -> int:
    from graphllm.catalog.upstream import import_upstream

    outcome = import_upstream(args.catalog, args.data, dry_run=args.dry_run)
    report = outcome.report
    _print_merge(report)
    print(f"new entries: {len(report.added)}, updated: {len(report.updated)}")
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

    outcome = sync_upstream(args.catalog, args.source, args.data, list_name_=args.list, dry_run=args.dry_run,
                            latest=args.latest)
    report = outcome.report
    _print_merge(report)
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


def _catalog_bibtex(args) -> int:
    from graphllm.catalog.bibtex import bibliography
    from graphllm.catalog.store import load_catalog
    from graphllm.fileio import write_if_changed

    catalog = load_catalog(args.catalog)
    changed = write_if_changed(args.output, bibliography(catalog))
    print(f"{'wrote' if changed else 'unchanged:'} {args.output} ({len(catalog.entries())} entries)")
    return 0


def _site_build(args) -> int:
    from graphllm.site.build import build_site

    site_dir = build_site(strict=not args.no_strict)
    print(f"site built: {site_dir}/index.html (serve it with `python -m http.server -d {site_dir}`)")
    return 0


def register(commands) -> None:
    catalog = commands.add_parser("catalog", help="the curated list: import, validate, render",
                                  description="Work with the curated catalog in catalog/ (YAML, one file per section).")
    catalog_commands = catalog.add_subparsers(dest="catalog_command", metavar="ACTION", required=True)
    catalog_dir = argparse.ArgumentParser(add_help=False)
    catalog_dir.add_argument("--catalog", type=Path, default=paths.catalog_dir(),
                             help="catalog directory (default: %(default)s; env GRAPHLLM_CATALOG)")

    imp = catalog_commands.add_parser(
        "import", parents=[catalog_dir], help="merge the upstream lists into the catalog",
        description="Read every list named in catalog/upstreams.yaml from its snapshot, merge them to one entry per "
                    "paper (arXiv id, DOI, normalised title or paper URL) and write catalog/. Prints per list how "
                    "many entries were read, matched, new and skipped (and why), and every line that could not "
                    "be read as file:line. Existing entries only gain what they lack: curated fields are never "
                    "overwritten. Re-running changes nothing.")
    imp.add_argument("--data", type=Path, default=paths.shared_data_dir(),
                     help="folder holding the upstream lists (default: %(default)s; env GRAPHLLM_DATA)")
    imp.add_argument("--dry-run", action="store_true", help="print the diff, write nothing")
    imp.set_defaults(func=_catalog_import)

    add = catalog_commands.add_parser(
        "add", parents=[catalog_dir], help="add a paper by arXiv id or URL",
        description="Fetch title, authors and first-version date from the arXiv API and add the paper. Refuses a "
                    "paper already in the catalog (same arXiv id or title) and names the entry it matches.",
        epilog="example: graphllm catalog add 2310.04560 --code google-research/talk-like-a-graph "
               "--section graph-reasoning")
    add.add_argument("paper", help="arXiv id (2310.04560) or URL (https://arxiv.org/abs/2310.04560)")
    add.add_argument("--code", help="code repository as OWNER/REPO")
    add.add_argument("--section", default="other-applications",
                     help="section id from catalog/taxonomy.yaml (default: %(default)s)")
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
        description="Re-read the upstream lists, or any awesome list's Markdown from --from FILE|URL, add the "
                    "papers the catalog lacks and report venue differences. Bullets, numbered items, tables and "
                    "<details> blocks are read in any of the field's formats; a list nobody configured is placed "
                    "by title keywords. Never deletes or overwrites curated fields. A list that yields no entry, or "
                    "far fewer than it has entry-like lines, is an error (exit 1).",
        epilog="examples: graphllm catalog sync --from README.md --dry-run; "
               "graphllm catalog sync --list awesome-graphrag (a list of catalog/upstreams.yaml, from its snapshot)")
    syn.add_argument("--from", dest="source", help="an awesome list's Markdown, as a file or an http(s) URL")
    syn.add_argument("--list", metavar="NAME",
                     help="a list named in catalog/upstreams.yaml: read --from with its settings, or its snapshot")
    syn.add_argument("--latest", action="store_true",
                     help="fetch every list of catalog/upstreams.yaml (or --list NAME) from its raw_url; papers new "
                          "there are added with today's date")
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

    bib = catalog_commands.add_parser(
        "bibtex", parents=[catalog_dir], help="write every entry's BibTeX to one .bib file",
        description="Write a BibTeX record per entry (@inproceedings, @article, or @misc with the arXiv eprint), "
                    "keyed by the entry's id and built from its fields alone. Byte-identical on re-run.",
        epilog="example: graphllm catalog bibtex --output graph-llm.bib")
    bib.add_argument("--output", type=Path, default=Path("catalog.bib"), help="default: %(default)s")
    bib.set_defaults(func=_catalog_bibtex)

    site = commands.add_parser("site", help="the static mkdocs-material site")
    site_commands = site.add_subparsers(dest="site_command", metavar="ACTION", required=True)
    build = site_commands.add_parser("build", help="build the site into site/ (mkdocs build --strict)")
    build.add_argument("--no-strict", action="store_true", help="do not fail on mkdocs warnings")
    build.set_defaults(func=_site_build)
