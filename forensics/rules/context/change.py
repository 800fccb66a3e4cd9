"""The change a finding is tied to: read from a recorded change, or inferred from a flip."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import polars as pl

from forensics.core.findings import span


@dataclass
class Change:
    """A change a finding can be tied to."""

    time: dt.datetime
    text: str
    origin: str  # changelog | registry | eventlog | inferred
    ts_quality: str
    source: str | None = None
    line: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "time": self.time.isoformat(timespec="seconds"),
            "text": self.text,
            "origin": self.origin,
            "ts_quality": self.ts_quality,
            "source": self.source,
            "line": self.line,
        }

    def cite(self) -> str:
        where = f" ({self.source}:{self.line})" if self.source else ""
        return f"the change at {self.time:%Y-%m-%d %H:%M}, {self.text}{where}"


def as_change(row: dict[str, Any]) -> Change:
    """A ``config`` row that records a change, as a Change."""
    what = row["key"] or "setting"
    if row.get("old") is not None or row.get("new") is not None:
        what += f": {row.get('old') or '(none)'} -> {row.get('new') or '(none)'}"
    if row.get("note"):
        what += f" ({row['note']})"
    return Change(
        time=row["ts"],
        text=what,
        origin=row["origin"],
        ts_quality=row["ts_quality"] or "unknown",
        source=row["source"],
        line=row["line"],
    )


def change_before(at: dt.datetime | None, frame: pl.DataFrame) -> Change | None:
    """The latest row of ``frame`` at or before ``at`` as a Change."""
    if at is None or frame.height == 0:
        return None
    before = frame.filter(pl.col("ts") <= at)
    if before.height == 0:
        return None
    return as_change(before.row(-1, named=True))


def flip(ok: pl.DataFrame, bad: pl.DataFrame, what: str) -> Change | None:
    """Without a logged change, the moment behaviour flipped: ``ok`` rows (e.g.
    accepted) until some time, ``bad`` rows (refused) from a later time on, and no
    ``ok`` row after the first ``bad`` one. Reported as an inferred change."""
    if ok.height == 0 or bad.height == 0:
        return None
    first_bad, last_ok = span(bad)[0], span(ok)[1]
    if last_ok is None or first_bad is None or last_ok >= first_bad:
        return None
    return Change(
        time=first_bad,
        text=f"behaviour changed between {last_ok:%Y-%m-%d %H:%M} and "
        f"{first_bad:%Y-%m-%d %H:%M}: {what}",
        origin="inferred",
        ts_quality="inferred",
    )
