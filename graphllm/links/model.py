"""What the crawler reports: a verdict per URL, with the evidence behind it. Data first, text second."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Verdict(StrEnum):
    OK = "ok"
    REDIRECTED = "redirected"  # loads, but from another URL: the link could be updated
    BROKEN = "broken"  # 404/410, unknown host, refused connection, TLS failure, redirect loop, missing file/anchor
    BLOCKED = "blocked"  # 401/403/429 that survives retries, bot challenge: unknown, not broken
    TIMEOUT = "timeout"
    ERROR = "error"  # 5xx that survives retries: the server is failing now, the link may be fine
    SKIPPED = "skipped"  # excluded by configuration


@dataclass(frozen=True)
class Target:
    """A URL to check and where it was found."""

    url: str
    source: str  # e.g. "catalog/prompting.yaml: structgpt" or "docs/index.md:12"


@dataclass
class Hop:
    url: str
    method: str
    status: int


@dataclass
class Result:
    url: str
    verdict: Verdict
    chain: list[Hop] = field(default_factory=list)
    final_url: str | None = None
    permanent: bool | None = None  # for redirects: every hop was 301/308
    error: str | None = None
    sources: list[str] = field(default_factory=list)
    from_cache: bool = False
    seconds: float = 0.0

    @property
    def status(self) -> int | None:
        return self.chain[-1].status if self.chain else None

    def evidence(self) -> str:
        """One line: the status chain, the final URL and the error, whichever apply."""
        parts = []
        if self.chain:
            parts.append(" → ".join(f"{hop.method} {hop.status}" for hop in self.chain))
        if self.final_url and self.final_url != self.url:
            parts.append(f"final {self.final_url}")
        if self.error:
            parts.append(self.error)
        if self.from_cache:
            parts.append("(cached)")
        return "; ".join(parts) or "-"

    def to_dict(self) -> dict:
        # By hand: `dataclasses.asdict` deep-copies recursively and took a fifth of a 2,000-link run.
        return {"url": self.url, "verdict": str(self.verdict),
                "chain": [{"url": hop.url, "method": hop.method, "status": hop.status} for hop in self.chain],
                "final_url": self.final_url, "permanent": self.permanent, "error": self.error,
                "sources": list(self.sources), "from_cache": self.from_cache, "seconds": self.seconds}
