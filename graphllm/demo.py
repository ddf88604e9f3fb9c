"""`graphllm demo` / `make demo`: the main job on the embedded default.

Until the experiment half lands this is the catalog half of the job: validate the catalog, render the
awesome list, and build the site.
"""

from __future__ import annotations

import time

from graphllm import paths
from graphllm.catalog.render import render_list
from graphllm.catalog.validate import validate_catalog
from graphllm.errors import CatalogError
from graphllm.fileio import write_if_changed
from graphllm.site.build import build_site


def run_demo() -> int:
    start = time.perf_counter()
    report = validate_catalog(paths.catalog_dir())
    if not report.ok:
        for problem in report.problems:
            print(problem)
        raise CatalogError(f"{len(report.problems)} problem(s) in the catalog; fix them and run `make demo` again")
    entries = report.catalog.entries()
    print(f"[1/3] catalog valid: {len(entries)} unique entries in {len(report.catalog.taxonomy.sections)} sections")
    changed = write_if_changed(paths.list_file(), render_list(report.catalog))
    print(f"[2/3] awesome list {'written' if changed else 'up to date'}: {paths.list_file()}")
    site = build_site(strict=True)
    print(f"[3/3] site built in {time.perf_counter() - start:.1f} s: {site / 'index.html'}")
    print(f"      browse it with: python -m http.server -d {site} 8000  ->  http://127.0.0.1:8000/")
    return 0
