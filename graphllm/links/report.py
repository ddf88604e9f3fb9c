"""Reports of a link-check run: JSON (data), Markdown (for an issue or PR body) and a terminal summary."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass

from graphllm.links.model import Result, Verdict

ORDER = [Verdict.BROKEN, Verdict.TIMEOUT, Verdict.ERROR, Verdict.BLOCKED, Verdict.REDIRECTED, Verdict.SKIPPED,
         Verdict.OK]
HEADINGS = {
    Verdict.BROKEN: "Broken", Verdict.TIMEOUT: "Timed out", Verdict.ERROR: "Server errors (may be temporary)",
    Verdict.BLOCKED: "Blocked (could not be verified: rate limit, login or bot wall)",
    Verdict.REDIRECTED: "Redirected (the link could point to the final URL)", Verdict.SKIPPED: "Skipped",
}


@dataclass
class LinkReport:
    inputs: list[str]
    results: list[Result]
    skipped_schemes: int
    seconds: float

    def counts(self) -> dict[str, int]:
        counts = Counter(str(r.verdict) for r in self.results)
        return {str(v): counts.get(str(v), 0) for v in ORDER}

    def failed(self, fail_on: list[Verdict]) -> list[Result]:
        return [r for r in self.results if r.verdict in fail_on]

    def to_json(self) -> str:
        """One result per line: diffable and greppable, and written by json's C encoder (`indent` falls back to
        the pure-Python one, which took longer than checking the links of a fast farm)."""
        summary = {**self.counts(), "links": len(self.results), "skipped_schemes": self.skipped_schemes,
                   "cached": sum(r.from_cache for r in self.results), "seconds": round(self.seconds, 3)}
        rows = ",\n".join("  " + json.dumps(r.to_dict(), ensure_ascii=False) for r in self.results)
        return (f'{{"inputs": {json.dumps(self.inputs, ensure_ascii=False)}, "summary": {json.dumps(summary)}, '
                f'"results": [\n{rows}{chr(10) if rows else ""}]}}\n')

    def summary(self) -> str:
        counts = self.counts()
        parts = [f"{n} {verdict}" for verdict, n in counts.items() if n]
        rate = len(self.results) / self.seconds if self.seconds else 0
        cached = sum(r.from_cache for r in self.results)
        return (f"{len(self.results)} links in {self.seconds:.1f} s ({rate:.0f}/s; {cached} from cache): "
                + ", ".join(parts))

    def to_markdown(self) -> str:
        counts = self.counts()
        lines = ["# Link check report", "",
                 f"Checked {len(self.results)} distinct links from {', '.join(f'`{i}`' for i in self.inputs)} "
                 f"in {self.seconds:.1f} s.", "",
                 "| Verdict | Links |", "|---|--:|"]
        lines += [f"| {verdict} | {n} |" for verdict, n in counts.items()]
        for verdict in ORDER:
            if verdict == Verdict.OK:
                continue
            rows = [r for r in self.results if r.verdict == verdict]
            if not rows:
                continue
            lines += ["", f"## {HEADINGS[verdict]}", "", "| Link | Evidence | Found in |", "|---|---|---|"]
            for r in sorted(rows, key=lambda r: (not r.permanent, r.url)):
                where = "<br>".join(_md(s) for s in r.sources[:3]) + (f" (+{len(r.sources) - 3})"
                                                                       if len(r.sources) > 3 else "")
                evidence = _md(r.evidence()) + (" **permanent**" if r.permanent else "")
                lines.append(f"| {_md(r.url)} | {evidence} | {where} |")
        return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
