"""Timestamps from the date and time parts the shared tokens capture
(``d1 d2 d3 hh mi ss ampm``): day/month order is a setting, two-digit years pivot
as Python's ``%y`` does (69-99 -> 19xx, 00-68 -> 20xx), 12-hour clocks carry AM/PM.
Impossible dates (month 13, 30 February) give null, never an error."""

from __future__ import annotations

from typing import Literal

import polars as pl

from forensics.frames import TS

DateOrder = Literal["mdy", "dmy", "ymd"]
DATE_ORDERS: tuple[DateOrder, ...] = ("mdy", "dmy", "ymd")


def _year(part: pl.Expr) -> pl.Expr:
    n = part.cast(pl.Int32, strict=False)
    return (
        pl.when(part.str.len_chars() <= 2)
        .then(pl.when(n >= 69).then(n + 1900).otherwise(n + 2000))
        .otherwise(n)
    )


def timestamp(order: DateOrder = "mdy") -> pl.Expr:
    """A ``Datetime("us")`` expression over the columns d1, d2, d3, hh, mi, ss, ampm."""
    d1, d2, d3 = pl.col("d1"), pl.col("d2"), pl.col("d3")
    month, day, year = {"mdy": (d1, d2, d3), "dmy": (d2, d1, d3), "ymd": (d2, d3, d1)}[order]
    hour = pl.col("hh").cast(pl.Int32, strict=False)
    ampm = pl.col("ampm").str.to_uppercase().str.slice(0, 1)
    hour = (
        pl.when(ampm == "P").then(hour % 12 + 12).when(ampm == "A").then(hour % 12).otherwise(hour)
    )

    def two(e: pl.Expr) -> pl.Expr:
        return e.cast(pl.String).str.zfill(2)

    iso = pl.format(
        "{}-{}-{} {}:{}:{}",
        _year(year).cast(pl.String).str.zfill(4),
        two(month.cast(pl.Int32, strict=False)),
        two(day.cast(pl.Int32, strict=False)),
        two(hour),
        pl.col("mi"),
        pl.col("ss").fill_null("00"),
    )
    return iso.str.strptime(TS, "%Y-%m-%d %H:%M:%S", strict=False)
