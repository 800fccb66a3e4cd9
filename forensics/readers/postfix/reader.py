"""The Postfix reader as the registry sees it: files of syslog, read as one stream
per log family -> the ``events`` and ``service_events`` frames and their counts."""

from __future__ import annotations

import polars as pl

from forensics.core.evidence import Evidence
from forensics.core.lineparse import Engine, extract
from forensics.core.text import lines_frame
from forensics.readers.base import Format, FormatReader, Reading, ReadOptions
from forensics.readers.common import LogResult, log_reading
from forensics.readers.postfix.accounting import account
from forensics.readers.postfix.events import events
from forensics.readers.postfix.service import service_events
from forensics.readers.postfix.stamps import with_timestamps, year_assumptions
from forensics.readers.postfix.stream import stream_order
from grammars import postfix as g


def read(items: list[Evidence], *, year: int | None = None, engine: Engine = "fast") -> LogResult:
    order = stream_order(items)
    ordered = [items[i] for i in order]
    df = with_timestamps(_headers(ordered, engine), ordered, year).with_columns(
        pl.col("prog").str.split("/").list.last().alias("daemon"),
        pl.col("prog").str.starts_with("postfix").fill_null(False).alias("_postfix"),
    )
    accounts = account(df, order, ordered)
    assumed = year_assumptions(df, ordered, year)
    # Only Postfix's own lines make sessions, and only the columns the events are made
    # of go on: the raw text, the stamp's parts and the year's helpers stay behind
    # (each later filter copies what it is given; memory is what a million lines cost).
    postfix_rows = df.filter(pl.col("_header") & pl.col("_postfix")).select(
        "source", "line", "_g", "ts", "_fam", "host", "prog", "pid", "daemon", "msg"
    )
    del df
    return LogResult(
        events(postfix_rows, engine),
        accounts.unparsed,
        accounts.records,
        accounts.unparsed_counts,
        accounts.lines,
        service_events(postfix_rows, engine),
        assumptions=assumed,
    )


def _headers(ordered: list[Evidence], engine: Engine) -> pl.DataFrame:
    """Every line of ``ordered`` (numbered ``_g`` through the stream) with its file's
    source and the syslog header's fields; ``_header``: whether the header parsed."""
    lines = lines_frame(ordered, release=True).with_row_index("_g")
    sources = pl.Series([e.source for e in ordered], dtype=pl.String)
    head = extract(lines["text"], g.LINE, engine)
    head = head.drop("error").rename({"matched": "_header"})
    return pl.concat([lines, head], how="horizontal").with_columns(
        pl.lit(sources).gather(pl.col("fid")).alias("source")
    )


def read_files(items: list[Evidence], options: ReadOptions) -> Reading:
    return log_reading(items, read(items, year=options.year, engine=options.engine))


READER = FormatReader(
    formats=(Format("postfix", 40, g.looks_like),),
    frames=(
        "events",
        "service_events",
    ),
    read_files=read_files,
)
