"""What every SMTP log reader returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from forensics.core.evidence import Evidence
from forensics.core.lineparse import Engine, extract
from forensics.readers.base import Reading, reading_of
from grammars.twin import LineGrammar


@dataclass
class LogResult:
    """The events of the files given, their unparsed lines, and per file (in the
    order given): records read, lines unparsed, lines in all."""

    events: pl.DataFrame
    unparsed: pl.DataFrame
    records: list[int]
    unparsed_counts: list[int]
    lines: list[int]
    # The service's own starts and stops, where the log has them (Postfix's master).
    service_events: pl.DataFrame | None = None
    # What the reader had to assume (the year of yearless stamps), as assumptions rows.
    assumptions: pl.DataFrame | None = None


def log_reading(items: list[Evidence], found: LogResult) -> Reading:
    """An SMTP log reader's result as the registry's :class:`Reading`."""
    frames_read = {"events": found.events}
    if found.service_events is not None:
        frames_read["service_events"] = found.service_events
    if found.assumptions is not None:
        frames_read["assumptions"] = found.assumptions
    return reading_of(items, found, frames_read)


def per_file(frame: pl.DataFrame | None, n: int) -> list[int]:
    """Rows of ``frame`` per file number ``fid`` 0..n-1 (0 for a file with none)."""
    if frame is None or frame.height == 0:
        return [0] * n
    # Grouped on the one column: a group_by of a wide frame in many chunks (the
    # parallel regex passes leave them) rechunks every column first (the Postfix
    # reader's 28 columns of a million lines: 0.09 s, against 0.001 s).
    counts = dict(frame.select("fid").group_by("fid").len().iter_rows())
    return [int(counts.get(fid, 0)) for fid in range(n)]


def column_or_null(frame: pl.DataFrame, name: str) -> pl.Expr:
    """A column the layout in force may lack (a #Fields line names what it names)."""
    return pl.col(name) if name in frame.columns else pl.lit(None, pl.String)


def unparsed_rows(rows: pl.DataFrame, reason: str) -> pl.DataFrame:
    """``rows`` as lines not read, with why (the columns the unparsed frame needs)."""
    return rows.select("fid", "source", "line", "text", pl.lit(reason).alias("reason"))


def csv_unquote(field: pl.Expr) -> pl.Expr:
    """An RFC 4180 field as its value: the quotes off, ``""`` back to ``"``."""
    quoted = field.str.starts_with('"') & field.str.ends_with('"') & (field.str.len_chars() >= 2)
    return (
        pl.when(quoted)
        .then(field.str.slice(1).str.strip_suffix('"').str.replace_all('""', '"'))
        .otherwise(field)
    )


def iso_parts(found: pl.DataFrame) -> pl.DataFrame:
    """The parts of :func:`grammars.tokens.iso_stamp` (y mo d hh mi ss) as the
    columns :func:`forensics.core.timeparse.timestamps` reads, in year-month-day order."""
    return found.select(
        pl.col("y").alias("d1"),
        pl.col("mo").alias("d2"),
        pl.col("d").alias("d3"),
        "hh",
        "mi",
        "ss",
        pl.lit(None, pl.String).alias("ampm"),
    )


def read_by_layout(
    data: pl.DataFrame,
    grammar_of: Callable[[str], LineGrammar],
    engine: Engine,
    *,
    before: str,
    mismatch: str,
) -> tuple[pl.DataFrame | None, pl.DataFrame | None]:
    """Records read under the field list in force (the ``_fields`` column, forward
    filled from the file's field lines): one grammar per layout, one pass each.
    Returns (matched rows with their fields, unparsed rows with a ``reason``):
    ``before`` for rows above any field line, ``mismatch`` for rows of another shape."""
    parsed, bad = [], []
    for (layout,), rows in data.partition_by("_fields", as_dict=True, include_key=True).items():
        if layout is None:
            bad.append(unparsed_rows(rows, before))
            continue
        found = extract(rows["text"], grammar_of(layout), engine)
        rows = pl.concat([rows, found.drop("error")], how="horizontal")
        parsed.append(rows.filter(pl.col("matched")))
        bad.append(unparsed_rows(rows.filter(~pl.col("matched")), mismatch))
    good = pl.concat(parsed, how="diagonal_relaxed") if parsed else None
    return good, (pl.concat(bad) if bad else None)
