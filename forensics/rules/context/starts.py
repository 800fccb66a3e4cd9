"""The moments the mail service started or reread its configuration (a change takes
effect then): the service events rules.toml names, and restarts the admin logged."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from forensics.rules.context.change_kinds import logged, says


def _is_start(mark: dict[str, Any]) -> pl.Expr:
    """A service event that ``mark`` (rules.toml start_events) describes."""
    return pl.col("event_source").str.contains(mark["source"]) & (
        pl.col("event_id") == mark["id"]
        if "id" in mark
        else pl.col("message").str.contains(mark["message"])
    )


def starts(
    service_events: pl.DataFrame, changes: pl.DataFrame, settings: dict[str, Any]
) -> pl.DataFrame:
    """Moments the mail service started or reread its configuration: the service
    events rules.toml names (MSExchangeIMC's start, Postfix's master starting or
    reloading), and restarts (or reloads) logged by the admin. Columns ts, source, line."""
    marks = [_is_start(mark) for mark in settings["start_events"]]
    events = service_events.filter(pl.any_horizontal(marks).fill_null(False)).select(
        "ts", "source", "line"
    )
    restarts = changes.filter(logged() & says(settings["service_start"])).select(
        "ts", "source", "line"
    )
    return pl.concat([events, restarts]).drop_nulls("ts").sort("ts")


def start_after(starts: pl.DataFrame, at: dt.datetime, minutes: float) -> dt.datetime | None:
    """The first start within ``minutes`` from ``at`` on, if any."""
    later = starts.filter(
        (pl.col("ts") >= at) & (pl.col("ts") <= at + dt.timedelta(minutes=minutes))
    )
    return later["ts"][0] if later.height else None
