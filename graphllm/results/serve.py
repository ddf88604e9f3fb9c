"""What `graphllm bench serve` reports, as data first: a row per method and client count (answers, tokens,
seconds, latencies), the ratios they are read by, the text table, and the JSON file (`--json`). Needs no torch."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from graphllm.results.files import ReportFile

FORMAT = 1
SERVER = "ours: graphllm serve"
SERIAL = "ours: graphllm serve --max-batch 1"  # the same server deciding one request at a time: the latency baseline
ONE_AT_A_TIME = "ours: generate, one request at a time"  # the throughput baseline
PEER = "transformers: generate, one request at a time"


@dataclass
class ServeRow:
    method: str
    clients: int  # concurrent clients (1 for a loop)
    answers: int = 0
    tokens: int = 0
    seconds: float = 0.0  # wall time of the whole run of this row
    latencies: list[float] = field(default_factory=list)  # per answered request, seconds
    refused: int = 0  # 503 answers (a full queue)
    error: str = ""

    @property
    def answers_per_second(self) -> float:
        return self.answers / self.seconds if self.seconds else 0.0

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds else 0.0

    def latency(self, share: float) -> float:
        """The nearest-rank percentile (`share` 0.5: the median, 0.99: p99) of the latencies."""
        if not self.latencies:
            return math.nan
        ranked = sorted(self.latencies)
        return ranked[max(0, math.ceil(share * len(ranked)) - 1)]


@dataclass
class ServeBenchReport(ReportFile):
    COMMAND, FORMAT = "graphllm bench serve", FORMAT

    date: str
    device: str
    settings: dict  # the bench's configuration (clients, requests, max_new_tokens, draft, ...)
    rows: list[ServeRow]
    format: int = FORMAT

    def row(self, method: str, clients: int = 1) -> ServeRow | None:
        return next((r for r in self.rows if r.method == method and r.clients == clients and not r.error), None)

    def ratios(self, row: ServeRow) -> tuple[float | None, float | None]:
        """(answers/s over our one-request-at-a-time loop's; p99 latency over that of the server decoding one
        request at a time for as many clients, whose requests queue as they would for such a loop)."""
        loop, serial = self.row(ONE_AT_A_TIME), self.row(SERIAL, row.clients)
        if not row.answers:
            return None, None
        throughput = row.answers_per_second / loop.answers_per_second if loop and loop.answers_per_second else None
        latency = row.latency(0.99) / serial.latency(0.99) if serial and serial.answers else None
        return throughput, latency

    def text(self) -> str:
        lines = [f"graphllm bench serve on {self.device}, {self.date}: {self.settings}",
                 f"{'method':<52}{'clients':>8}{'answers':>8}{'answers/s':>10}{'tokens/s':>10}{'p50 s':>8}"
                 f"{'p99 s':>8}{'503s':>6}{'x thru':>8}{'x p99':>7}"]
        for r in self.rows:
            if r.error:
                lines.append(f"{r.method:<52}{r.clients:>8}  failed: {r.error}")
                continue
            thru, p99 = self.ratios(r)
            lines.append(f"{r.method:<52}{r.clients:>8}{r.answers:>8}{r.answers_per_second:>10.3f}"
                         f"{r.tokens_per_second:>10.1f}{r.latency(0.5):>8.2f}{r.latency(0.99):>8.2f}{r.refused:>6}"
                         f"{_ratio(thru):>8}{_ratio(p99):>7}")
        lines.append("x thru: answers/s over our generate one request at a time; x p99: p99 latency over the "
                     "server decoding one request at a time (--max-batch 1) for as many clients; same questions, "
                     "same run")
        return "\n".join(lines)





def _ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"
