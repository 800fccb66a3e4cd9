"""Postfix configuration (``postconf -n`` output, main.cf) -> the ``config`` frame.

One row per parameter set: key ``postfix\\<name>``, the value as ``new``. A
configuration pasted into a ticket is a snapshot of what was in force when it was
taken: its time is the file's modification time (``ts_quality`` mtime), unless the
file name carries a date. Comments and blank lines are read and are not records; a
line that starts with white space continues the value above it, as in main.cf; any
other line is unparsed, with its file and line.
"""

from __future__ import annotations

import polars as pl

from forensics.core import frames
from forensics.core.evidence import Evidence
from forensics.core.lineparse import extract
from forensics.core.text import lines_frame
from forensics.readers.base import Format, FormatReader, Reading, ReadOptions, counted
from forensics.readers.common import per_file, unparsed_rows
from forensics.readers.regexport import snapshot_time
from grammars import postconf as g

ORIGIN = "postconf"
KEY_PREFIX = "postfix\\"


def read_files(items: list[Evidence], options: ReadOptions) -> Reading:
    n = len(items)
    stamps = [snapshot_time(item.source, item.mtime) for item in items]
    lines = lines_frame(items, release=True).with_columns(
        pl.lit(pl.Series([i.source for i in items], dtype=pl.String))
        .gather(pl.col("fid"))
        .alias("source"),
    )
    text = pl.col("text")
    blank = text.str.strip_chars(" \t") == ""
    comment = text.str.strip_chars_start(" \t").str.starts_with("#")
    continued = text.str.contains(r"^[ \t]") & ~blank & ~comment
    body = lines.filter(~blank & ~comment)
    parsed = pl.concat(
        [body, extract(body["text"], g.LINE, options.engine).drop("error")], how="horizontal"
    )
    parsed = parsed.with_columns(continued.alias("_cont"))
    # A setting owns the continuation lines after it, in the same file.
    parsed = parsed.with_columns(
        pl.when(pl.col("matched") & ~pl.col("_cont"))
        .then(pl.col("line"))
        .forward_fill()
        .over("fid")
        .alias("_owner")
    )
    owned = parsed.filter(pl.col("_cont") & pl.col("_owner").is_not_null())
    settings = parsed.filter(pl.col("matched") & ~pl.col("_cont"))
    tails = owned.group_by("fid", "_owner", maintain_order=True).agg(
        pl.col("text").str.strip_chars(" \t").str.join(" ").alias("_tail")
    )
    settings = settings.join(
        tails, left_on=["fid", "line"], right_on=["fid", "_owner"], how="left"
    ).sort("fid", "line")
    value = pl.concat_str(
        [pl.col("value").str.strip_chars(" \t"), pl.col("_tail")], separator=" ", ignore_nulls=True
    )
    ts = pl.Series([s[0] for s in stamps], dtype=frames.TS)
    quality = pl.Series([s[1] for s in stamps], dtype=pl.String)
    config = frames.conform(
        settings.with_columns(
            pl.lit(ORIGIN).alias("origin"),
            (pl.lit(KEY_PREFIX) + pl.col("name")).alias("key"),
            value.alias("new"),
            pl.lit(ts).gather(pl.col("fid")).alias("ts"),
            pl.lit(quality).gather(pl.col("fid")).alias("ts_quality"),
        ),
        frames.CONFIG,
    )
    bad = parsed.filter(~pl.col("matched") & ~(pl.col("_cont") & pl.col("_owner").is_not_null()))
    unparsed = frames.conform(
        unparsed_rows(bad, "not a Postfix 'name = value' setting"), frames.UNPARSED
    )
    return counted(
        items,
        per_file(settings, n),
        per_file(bad, n),
        per_file(lines, n),
        frames={"config": config},
        unparsed_rows=unparsed,
    )


READER = FormatReader(
    formats=(Format("postfix-config", 105, g.looks_like),),
    frames=("config",),
    read_files=read_files,
)
