"""What the reader counts per file (records read, lines unparsed, lines in all), in
the order the files were given, and the unparsed lines themselves."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from forensics.core import frames
from forensics.readers.common import per_file


@dataclass
class Accounts:
    unparsed: pl.DataFrame
    records: list[int]
    unparsed_counts: list[int]
    lines: list[int]


def account(df: pl.DataFrame, order: list[int]) -> Accounts:
    """The counts of ``df``'s lines (read in ``order``), per file as given."""
    blank = pl.col("text").str.strip_chars(" \t") == ""
    # Filtered narrow: a filter copies every column it is given, a million rows each.
    unparsed = df.select("fid", "source", "line", "text", "_header").filter(
        ~pl.col("_header") & ~blank
    )
    n = len(order)
    read_counts = per_file(df.select("fid", "_header").filter(pl.col("_header")), n)
    bad_counts = per_file(unparsed, n)
    line_counts = per_file(df, n)
    unparsed_frame = frames.conform(
        unparsed.select(
            "source",
            "line",
            pl.lit("not a syslog line (no 'Mon dd hh:mm:ss host program[pid]:' header)").alias(
                "reason"
            ),
            pl.col("text").str.slice(0, 200),
        ),
        frames.UNPARSED,
    )
    return Accounts(
        unparsed_frame,
        _as_given(read_counts, order),
        _as_given(bad_counts, order),
        _as_given(line_counts, order),
    )


def _as_given(counts: list[int], order: list[int]) -> list[int]:
    """Counts per file in reading order -> in the order the files were given."""
    given = [0] * len(order)
    for fid, i in enumerate(order):
        given[i] = counts[fid]
    return given
