"""Timestamps from the date and time parts the shared tokens capture
(``d1 d2 d3 hh mi ss ampm``): day/month order is a setting, two-digit years pivot
as Python's ``%y`` does (69-99 -> 19xx, 00-68 -> 20xx), 12-hour clocks carry AM/PM.
Impossible dates and times (month 13, 30 February, 25:00) give null, never an error.

Computed with integer calendar arithmetic rather than by formatting and re-parsing
strings: it runs over every line of every log."""

from __future__ import annotations

from typing import Literal

import polars as pl

from forensics.core.frames import TS

DateOrder = Literal["mdy", "dmy", "ymd"]
DATE_ORDERS: tuple[DateOrder, ...] = ("mdy", "dmy", "ymd")


def _int(name: str) -> pl.Expr:
    return pl.col(name).cast(pl.Int64, strict=False)


def timestamps(parts: pl.DataFrame, order: DateOrder = "mdy") -> pl.Series:
    """A ``Datetime("us")`` series from the columns d1, d2, d3, hh, mi, ss, ampm.

    Staged column by column so that each value is computed once (an eager select
    does not share the common parts of one large expression)."""
    month_c, day_c, year_c = {
        "mdy": ("d1", "d2", "d3"),
        "dmy": ("d2", "d1", "d3"),
        "ymd": ("d2", "d3", "d1"),
    }[order]
    marker = pl.col("ampm").str.to_uppercase().str.slice(0, 1)
    f = parts.select(
        _int(month_c).alias("m"),
        _int(day_c).alias("d"),
        _int(year_c).alias("y"),
        (pl.col(year_c).str.len_chars() <= 2).alias("short"),
        _int("hh").alias("h"),
        marker.alias("p"),
        _int("mi").alias("mi"),
        _int("ss").fill_null(0).alias("s"),
    )
    f = f.with_columns(
        pl.when(pl.col("short"))
        .then(pl.when(pl.col("y") >= 69).then(pl.col("y") + 1900).otherwise(pl.col("y") + 2000))
        .otherwise(pl.col("y"))
        .alias("y"),
        pl.when(pl.col("p") == "P")
        .then(pl.col("h") % 12 + 12)
        .when(pl.col("p") == "A")
        .then(pl.col("h") % 12)
        .otherwise(pl.col("h"))
        .alias("h"),
    )
    y, m, d = pl.col("y"), pl.col("m"), pl.col("d")
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    month_days = (
        pl.when(m == 2)
        .then(28 + leap.cast(pl.Int64))
        .when(m.is_in([4, 6, 9, 11]))
        .then(30)
        .otherwise(31)
    )
    f = f.with_columns(
        (
            m.is_between(1, 12)
            & d.is_between(1, month_days)
            & pl.col("h").is_between(0, 23)
            & pl.col("mi").is_between(0, 59)
            & pl.col("s").is_between(0, 59)
            & y.is_between(1, 9999)
        ).alias("ok"),
        # Days since 1970-01-01 (H. Hinnant's days_from_civil), on a March-based year.
        (y - (m <= 2).cast(pl.Int64)).alias("ya"),
        pl.when(m > 2).then(m - 3).otherwise(m + 9).alias("mp"),
    ).with_columns((pl.col("ya") // 400).alias("era"))
    f = f.with_columns((pl.col("ya") - pl.col("era") * 400).alias("yoe"))
    days = (
        pl.col("era") * 146097
        + pl.col("yoe") * 365
        + pl.col("yoe") // 4
        - pl.col("yoe") // 100
        + (153 * pl.col("mp") + 2) // 5
        + d
        - 1
        - 719468
    )
    micros = (days * 86400 + pl.col("h") * 3600 + pl.col("mi") * 60 + pl.col("s")) * 1_000_000
    return f.select(pl.when(pl.col("ok")).then(micros).cast(TS)).to_series().alias("ts")
