"""A saved telnet test session -> the ``events`` frame: one inbound session per file
(the tester is the client; the analysed server answers).

A transcript has no times. Its steps are dated by the file's modification time, one
second apart in the order typed, so that the session has a place on the timeline;
the note of its inputs row says so. Lines that are neither a command nor a reply
(the terminal's own) are kept as notes.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from forensics.core import frames
from forensics.core.evidence import Evidence
from forensics.core.lineparse import Engine, extract
from forensics.core.text import lines_frame
from forensics.readers.base import Format, FormatReader, Reading, ReadOptions
from forensics.readers.common import LogResult, log_reading, per_file
from grammars import transcript as g

NOTE = "a transcript has no times: dated by the file's modification time"


def read(items: list[Evidence], *, engine: Engine = "fast") -> LogResult:
    n = len(items)
    starts = [
        dt.datetime.fromtimestamp(item.mtime) if item.mtime else dt.datetime(1970, 1, 1)
        for item in items
    ]
    for item in items:
        item.note = item.note or NOTE
    lines = lines_frame(items, release=True).with_columns(
        pl.lit(pl.Series([i.source for i in items], dtype=pl.String))
        .gather(pl.col("fid"))
        .alias("source"),
        pl.lit(pl.Series(starts, dtype=pl.Datetime("us"))).gather(pl.col("fid")).alias("_t0"),
    )
    total = per_file(lines, n)
    lines = lines.filter(pl.col("text").str.strip_chars(" \t") != "")
    parsed = extract(lines["text"], g.LINE, engine, fallback=False)
    rows = pl.concat([lines, parsed.drop("error")], how="horizontal")
    kind = (
        pl.when(pl.col("code").is_not_null())
        .then(pl.lit("reply"))
        .when(pl.col("verb").is_not_null())
        .then(pl.lit("command"))
        .otherwise(pl.lit("note"))
    )
    code = pl.col("code").cast(pl.UInt16, strict=False)
    rows = rows.with_columns(kind.alias("kind"))
    steps = rows.with_columns(
        (pl.col("_t0") + pl.duration(seconds=pl.col("line"))).alias("ts"),
        pl.concat_str([pl.col("source"), pl.lit("#1")]).alias("session"),
        pl.lit("inbound").alias("direction"),
        pl.when(pl.col("kind") == "command")
        .then(pl.lit("client"))
        .when(pl.col("kind") == "reply")
        .then(pl.lit("server"))
        .alias("actor"),
        pl.col("verb").str.to_uppercase(),
        pl.when(pl.col("kind") == "reply").then(code).alias("code"),
        pl.when(pl.col("kind") == "reply")
        .then(pl.col("reply_text"))
        .when(pl.col("kind") == "note")
        .then(pl.col("text"))
        .alias("text"),
    )
    # A transcript opens with the connection: its first step is the connect event.
    connect = (
        steps.group_by("session", maintain_order=True)
        .agg(pl.col("source").first(), pl.col("line").first(), pl.col("ts").first())
        .with_columns(
            pl.lit("inbound").alias("direction"),
            pl.lit("connect").alias("kind"),
            (pl.col("ts") - pl.duration(seconds=1)).alias("ts"),
        )
    )
    events = pl.concat(
        [frames.conform(connect, frames.EVENTS), frames.conform(steps, frames.EVENTS)]
    ).sort("session", "ts", "line")
    return LogResult(
        events,
        frames.empty(frames.UNPARSED),
        per_file(rows, n),
        [0] * n,
        total,
    )


def read_files(items: list[Evidence], options: ReadOptions) -> Reading:
    return log_reading(items, read(items, engine=options.engine))


READER = FormatReader(
    formats=(Format("transcript", 90, g.looks_like),),
    frames=("events",),
    read_files=read_files,
)
