"""Each line's time stamp. Traditional headers have no year: it runs on across a log
family's files, from the newest file's modification time (the year of its last line)
or from the year given (that of the first line), rolling back over each New Year."""

from __future__ import annotations

import datetime as dt

import polars as pl

from forensics.core import frames
from forensics.core.evidence import Evidence
from forensics.core.timeparse import timestamps
from forensics.readers.syslog.stream import family

_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTHS = {m: i + 1 for i, m in enumerate(_MONTH_NAMES)}


def with_timestamps(df: pl.DataFrame, ordered: list[Evidence], year: int | None) -> pl.DataFrame:
    """``df`` (the header fields of the lines of ``ordered``) with ``ts``, and ``_fam``:
    the log family of each line's file."""
    # A family of rotated files is one stream: the year runs on across its files.
    families = [family(e.source) for e in ordered]
    df = df.with_columns(
        pl.col("mon").replace_strict(_MONTHS, default=None, return_dtype=pl.Int32).alias("_month"),
        pl.lit(pl.Series(families, dtype=pl.String)).gather(pl.col("fid")).alias("_fam"),
    )
    month = pl.col("_month")
    df = df.with_columns(month.forward_fill().over("_fam").alias("_mff"))
    df = df.with_columns(_years(families, ordered, year).alias("_year"))
    traditional = pl.col("mon").is_not_null()
    parts = df.select(
        pl.when(traditional)
        .then(pl.col("_year").cast(pl.String))
        .otherwise(pl.col("ry"))
        .alias("d1"),
        pl.when(traditional).then(month.cast(pl.String)).otherwise(pl.col("rmo")).alias("d2"),
        pl.when(traditional).then(pl.col("day")).otherwise(pl.col("rd")).alias("d3"),
        pl.coalesce("hh", "rhh").alias("hh"),
        pl.coalesce("mi", "rmi").alias("mi"),
        pl.coalesce("ss", "rss").alias("ss"),
        pl.lit(None, pl.String).alias("ampm"),
    )
    return df.with_columns(timestamps(parts, "ymd").alias("ts"))


def _years(families: list[str], ordered: list[Evidence], year: int | None) -> pl.Expr:
    """The year of each traditional line: one more after each month that goes back."""
    month = pl.col("_month")
    wraps = (
        (month < pl.col("_mff").shift(1).over("_fam"))
        .fill_null(False)
        .cast(pl.Int32)
        .cum_sum()
        .over("_fam")
    )
    if year is not None:
        return pl.lit(year, pl.Int32) + wraps
    newest = {name: _mtime(e) for name, e in zip(families, ordered, strict=True)}
    # The newest file's year and month for each family (a mapping, not a join:
    # a join would copy every column of a million rows).
    end_my = pl.col("_fam").replace_strict(
        {f: t.year for f, t in newest.items()}, return_dtype=pl.Int32
    )
    end_mm = pl.col("_fam").replace_strict(
        {f: t.month for f, t in newest.items()}, return_dtype=pl.Int32
    )
    last_month = month.drop_nulls().last().over("_fam")
    end_year = end_my - (last_month > end_mm).cast(pl.Int32)
    return end_year - (wraps.max().over("_fam") - wraps)


def _mtime(item: Evidence) -> dt.datetime:
    return dt.datetime.fromtimestamp(item.mtime) if item.mtime else dt.datetime.now()


def year_assumptions(df: pl.DataFrame, ordered: list[Evidence], year: int | None) -> pl.DataFrame:
    """One ``assumptions`` row per file with yearless stamps: the year its first line
    was given, and from what."""
    first = (
        df.filter(pl.col("mon").is_not_null())
        .group_by("fid")
        .agg(pl.col("_year").first())
        .sort("fid")
    )
    families = [family(e.source) for e in ordered]
    newest = {name: _mtime(e) for name, e in zip(families, ordered, strict=True)}
    rows = []
    for fid, first_year in first.iter_rows():
        item = ordered[fid]
        if year is not None:
            why = "given with --year (the year of the first line)"
        else:
            taken = newest[families[fid]].date().isoformat()
            why = (
                "syslog stamps carry no year: the last line is taken for the year of the "
                f"modification time of the newest file of its rotation ({taken}), and the "
                "years counted back over each New Year to the first line"
            )
        rows.append(
            {
                "what": f"the first line of {item.source} is of {first_year}",
                "why": why,
                "override": "--year",
                "source": item.source,
            }
        )
    return pl.DataFrame(rows, schema=frames.ASSUMPTIONS)
