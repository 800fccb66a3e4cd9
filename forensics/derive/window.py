"""The time window of a run (``--since`` / ``--until``), applied to every frame before
the rules, the summary and the reports see them: what the report counts, charts and
lists is what happened in the window.

What happened is windowed: SMTP sessions (whole: a session is in the window when it
begins in it, and all its events and recipients stay with it), NDRs, tracking
records, message paths. What describes the server's state is kept whole, because a
finding in the window may rest on it: configuration snapshots, the change log and
the service's starts (a change made before the window is the cause of what the
window shows), the directory and local domains, the inputs and their accounting.
Rows without a time (bare syslog lines) cannot be placed and are kept; the
assumption says so.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import polars as pl

from forensics.core import frames as schemas
from forensics.core.frames import Frames

# The override of the assumption that names the window (the report finds it by it).
OVERRIDE = "--since / --until"
# Each windowed frame and the column that places a row in time.
_WHEN = {"ndrs": "ts", "tracking": "ts", "paths": "first_ts"}


def within(
    frame: pl.DataFrame, column: str, since: dt.datetime | None, until: dt.datetime | None
) -> pl.DataFrame:
    """The rows of ``frame`` whose ``column`` lies in the window (bounds included)."""
    if since is not None:
        frame = frame.filter(pl.col(column) >= since)
    if until is not None:
        frame = frame.filter(pl.col(column) <= until)
    return frame


def _placed(column: str, since: dt.datetime | None, until: dt.datetime | None) -> pl.Expr:
    """In the window, or without a time (which cannot be placed outside it)."""
    inside = pl.lit(True)
    if since is not None:
        inside = inside & (pl.col(column) >= since)
    if until is not None:
        inside = inside & (pl.col(column) <= until)
    return inside.fill_null(True)


def span(frames: Frames) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The first and last time of what happened (sessions, NDRs, tracking)."""
    times = pl.concat(
        [
            frames.sessions.select(pl.col("start").alias("t")),
            frames.sessions.select(pl.col("end").alias("t")),
            frames.ndrs.select(pl.col("ts").alias("t")),
            frames.tracking.select(pl.col("ts").alias("t")),
        ]
    )["t"]
    low, high = times.min(), times.max()
    return (
        low if isinstance(low, dt.datetime) else None,
        high if isinstance(high, dt.datetime) else None,
    )


def happened(frames: Frames) -> int:
    """How many rows of what happened the frames hold."""
    return frames.sessions.height + frames.ndrs.height + frames.tracking.height


def restrict(frames: Frames, since: dt.datetime | None, until: dt.datetime | None) -> Frames:
    """``frames`` with what happened outside the window left out, and an assumptions
    row that names the window."""
    if since is None and until is None:
        return frames
    start = pl.coalesce("start", "end")
    sessions = frames.sessions.with_columns(start.alias("_t")).filter(_placed("_t", since, until))
    sessions = sessions.drop("_t")
    # Events and recipients go with their session (one without a session stays).
    ours = pl.col("session").is_in(sessions["session"].implode()) | pl.col("session").is_null()
    windowed = {
        name: getattr(frames, name).filter(_placed(column, since, until))
        for name, column in _WHEN.items()
    }
    low = since.isoformat(sep=" ") if since else "the start of the evidence"
    high = until.isoformat(sep=" ") if until else "its end"
    said = pl.DataFrame(
        [
            {
                "what": f"only what happened between {low} and {high} is counted and shown",
                "why": (
                    "--since/--until: sessions that begin in the window (whole, with their "
                    "events and recipients), NDRs, tracking records and message paths; "
                    "configuration, the change log, service starts, the directory and the "
                    "inputs are kept whole (they describe the state the window starts in), "
                    "and rows without a time are kept (they cannot be placed)"
                ),
                "override": OVERRIDE,
                "source": None,
            }
        ],
        schema=schemas.ASSUMPTIONS,
    )
    return dataclasses.replace(
        frames,
        sessions=sessions,
        events=frames.events.filter(ours),
        recipients=frames.recipients.filter(ours),
        assumptions=pl.concat([frames.assumptions, said]),
        **windowed,
    )
