"""A SQLite cache of verdicts between runs. Only `ok` and `redirected` are stored: failures are always
re-checked, so a fixed link never stays reported as broken."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from graphllm.links.model import Hop, Result, Verdict

CACHEABLE = {Verdict.OK, Verdict.REDIRECTED}


class VerdictCache:
    def __init__(self, path: str | Path, max_age_hours: float) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.max_age = max_age_hours * 3600
        self.db = sqlite3.connect(self.path)
        self.db.execute("CREATE TABLE IF NOT EXISTS verdicts (url TEXT PRIMARY KEY, verdict TEXT NOT NULL, "
                        "final_url TEXT, permanent INTEGER, chain TEXT NOT NULL, checked_at REAL NOT NULL)")
        self.db.commit()

    def get(self, url: str, now: float | None = None) -> Result | None:
        now = time.time() if now is None else now
        row = self.db.execute("SELECT verdict, final_url, permanent, chain, checked_at FROM verdicts WHERE url = ?",
                              (url,)).fetchone()
        if row is None or now - row[4] > self.max_age:
            return None
        chain = [Hop(*hop) for hop in json.loads(row[3])]
        permanent = None if row[2] is None else bool(row[2])
        return Result(url, Verdict(row[0]), chain, row[1], permanent, from_cache=True)

    def put_many(self, results: list[Result], now: float | None = None) -> None:
        now = time.time() if now is None else now
        rows = [(r.url, str(r.verdict), r.final_url, None if r.permanent is None else int(r.permanent),
                 json.dumps([[h.url, h.method, h.status] for h in r.chain]), now)
                for r in results if r.verdict in CACHEABLE and not r.from_cache]
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO verdicts VALUES (?, ?, ?, ?, ?, ?)", rows)
            # A link that failed now must not be answered from an older success next time.
            self.db.executemany("DELETE FROM verdicts WHERE url = ?",
                                [(r.url,) for r in results if r.verdict not in CACHEABLE])

    def close(self) -> None:
        self.db.close()
