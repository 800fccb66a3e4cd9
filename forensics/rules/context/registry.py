"""The Internet Mail Service's registry parameters: which snapshot shows them, and the
value of one of them in force at a given time (RelayFlags above all)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

PARAMETERS = "MSExchangeIMC\\Parameters\\"


def parameters(config: pl.DataFrame) -> pl.DataFrame:
    """The registry rows of the IMS parameters, with ``name`` (the value's name)."""
    return config.filter(
        (pl.col("origin") == "registry") & pl.col("key").str.starts_with(PARAMETERS)
    ).with_columns(pl.col("key").str.strip_prefix(PARAMETERS).alias("name"))


def first_snapshot(registry: pl.DataFrame) -> str | None:
    """The first registry snapshot of the IMS parameters, when there is one: a
    value missing from it is absent (for RelayFlags: no restriction)."""
    first = registry.sort("ts", "source", "line")
    return str(first["source"][0]) if first.height else None


def value_at(registry: pl.DataFrame, name: str, at: dt.datetime | None) -> dict[str, Any] | None:
    """The registry row of value ``name`` in force at ``at``: the latest snapshot
    at or before it, else the first one after it (snapshots are often taken after
    the incident, and the relay values seldom change). None without a snapshot."""
    rows = registry.filter(pl.col("name") == name).sort("ts", "source", "line")
    if rows.height == 0:
        return None
    if at is not None:
        before = rows.filter(pl.col("ts") <= at)
        if before.height:
            return before.row(-1, named=True)
    return rows.row(0, named=True)


def relayflags(
    registry: pl.DataFrame, at: dt.datetime | None
) -> tuple[int | None, dict[str, Any] | None]:
    """RelayFlags in force at ``at`` (None when absent or unreadable) and its row."""
    row = value_at(registry, "RelayFlags", at)
    if row is None or row["new"] is None:
        return None, row
    try:
        return int(row["new"], 0), row
    except ValueError:
        return None, row
