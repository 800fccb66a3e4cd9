"""The time window a run is restricted to (``--since`` / ``--until``), applied to a frame."""

from __future__ import annotations

import datetime as dt

import polars as pl


def within(
    frame: pl.DataFrame, column: str, since: dt.datetime | None, until: dt.datetime | None
) -> pl.DataFrame:
    """The rows of ``frame`` whose ``column`` lies in the window (bounds included)."""
    if since is not None:
        frame = frame.filter(pl.col(column) >= since)
    if until is not None:
        frame = frame.filter(pl.col(column) <= until)
    return frame
