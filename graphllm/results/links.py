"""What `graphllm bench links` reports, as data first: one run per tool on the same farm (wall time, wrong verdicts
against the farm's truth), the floors that latency and the per-host limit set, the text table, and the JSON file
(`--json`). Needs no network and no npm: reading a result back only parses it."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

from graphllm.results.files import ReportFile

FORMAT = 1
OURS = "graphllm"
PEERS = {"linkinator": "7.6.1", "markdown-link-check": "3.15.0"}  # npm packages and the versions measured


@dataclass
class ToolRun:
    name: str
    seconds: float = math.nan  # the whole command, start-up included
    broken: dict[str, bool] = field(default_factory=dict)  # URL -> the tool's verdict (not written to JSON)
    wrong: int | None = None  # verdicts that differ from the farm's truth (None: the tool did not run)
    note: str = ""
    inner_seconds: float | None = None  # time spent checking, without interpreter start-up and imports

    def rate(self, n: int) -> float:
        return n / self.seconds if self.seconds == self.seconds and self.seconds > 0 else 0.0


@dataclass
class LinkBenchReport(ReportFile):
    COMMAND, FORMAT = "graphllm bench links", FORMAT

    urls: int
    hosts: int
    latency: float  # seconds per response
    faults: int
    per_host: int  # our per-host limit
    floor_seconds: float  # ceil(URLs per host / per-host limit) x latency
    fault_floor_seconds: float  # the same, counting the requests each fault needs at least
    runs: list[ToolRun]
    date: str = ""
    format: int = FORMAT

    def run(self, name: str) -> ToolRun | None:
        return next((r for r in self.runs if r.name == name), None)

    def text(self) -> str:
        n, ours = self.urls, self.run(OURS)
        peer_runs = [r for r in self.runs if r.name in PEERS and r.wrong is not None]
        fastest = max(peer_runs, key=lambda r: r.rate(n), default=None)
        lines = [f"{n} URLs over {self.hosts} hosts, {self.latency * 1000:.0f} ms per response, "
                 f"{self.faults} faults; per-host limit {self.per_host}",
                 f"{'tool':<22}{'wall s':>9}{'links/s':>10}{'wrong':>7}  notes"]
        for run in self.runs:
            wall = f"{run.seconds:9.2f}" if run.seconds == run.seconds else f"{'-':>9}"
            wrong = f"{run.wrong:7d}" if run.wrong is not None else f"{'-':>7}"
            lines.append(f"{run.name:<22}{wall}{run.rate(n):10.0f}{wrong}  {run.note}")
        for label, floor in (("floor set by latency and the per-host limit", self.floor_seconds),
                             ("the same, counting the requests each fault needs", self.fault_floor_seconds)):
            if floor and ours:
                inner = f", checking alone {ours.inner_seconds / floor:.2f}x" if ours.inner_seconds else ""
                lines.append(f"{label}: {floor:.2f} s; graphllm / floor = {ours.seconds / floor:.2f}x as a whole "
                             f"command{inner}")
        if fastest and ours:
            lines.append(f"graphllm throughput / fastest peer ({fastest.name}) = "
                         f"{ours.rate(n) / fastest.rate(n):.2f}x")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        for run in data["runs"]:
            del run["broken"]  # thousands of URLs; `wrong` is what they are read by
        return data
