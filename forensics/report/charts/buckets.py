"""Time buckets: how wide the bins of a chart are, given the time it covers."""

from __future__ import annotations

import datetime as dt
from typing import cast

import polars as pl

BUCKETS = ["1m", "5m", "15m", "1h", "3h", "6h", "1d", "7d"]
_BUCKET_SECONDS = {"m": 60, "h": 3600, "d": 86400}
_HOURLY_UP_TO = dt.timedelta(days=14)  # refusals per hour up to this span, else per day


def span(times: pl.Series) -> dt.timedelta:
    """The time from the first to the last of ``times`` (a column without nulls)."""
    return cast(dt.timedelta, times.max() - times.min())  # type: ignore[operator]


def bucket(span: dt.timedelta, target: int = 300) -> str:
    """The narrowest of BUCKETS that cuts ``span`` into at most ``target`` bins."""
    for every in BUCKETS:
        seconds = int(every[:-1]) * _BUCKET_SECONDS[every[-1]]
        if span.total_seconds() / seconds <= target:
            return every
    return BUCKETS[-1]


def hour_or_day(span: dt.timedelta) -> str:
    """Hours for a span of up to two weeks, else days."""
    return "1h" if span <= _HOURLY_UP_TO else "1d"
