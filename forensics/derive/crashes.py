"""Crash times: the moment Dr. Watson says a service crashed, read from its event text."""

from __future__ import annotations

import re

import polars as pl

from forensics.core.lineparse import extract
from forensics.core.timeparse import timestamps
from grammars import evidence_csv as g


def crash_times(events: pl.DataFrame) -> pl.Series:
    """The crash time Dr. Watson writes inside its description ("The error occurred
    on 12/ 2/1997 @ 17:27:29.240"), null where there is none. Its day/month order is
    the system's, which the export does not say: of the readings, the one that falls
    on the event's own date is taken (none, when neither does)."""
    after = events["message"].str.extract("(?s)" + re.escape(g.CRASH_MARKER) + "(.*)$")
    parts = extract(after, g.CRASH_TIME)
    readings = [timestamps(parts, order) for order in ("mdy", "dmy", "ymd")]
    day = events["ts"].dt.date()
    chosen = pl.DataFrame({f"r{i}": r for i, r in enumerate(readings)} | {"day": day}).select(
        pl.coalesce(
            [
                pl.when(pl.col(f"r{i}").dt.date() == pl.col("day")).then(pl.col(f"r{i}"))
                for i in range(3)
            ]
        )
    )
    return chosen.to_series().alias("crash_time")
