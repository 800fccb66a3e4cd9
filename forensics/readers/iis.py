"""IIS NCSA and Microsoft IIS log format files -> the ``events`` frame, for the SMTP
service's records (grammars in :mod:`grammars.iis`; docs/formats/iis.md).

Exchange 2000/2003's SMTP virtual server and IIS's own SMTP service may log in
either format instead of W3C. Both are fixed layouts; their fields are renamed to
the W3C names they stand for, and the W3C reader's :func:`~forensics.readers.w3c.
smtp_events` makes the events and sessions (one client address from its HELO or
EHLO on; outbound records carry ``OutboundConnectionCommand``/``...Response`` in
the user field). Web records share the files: they are read and counted, and make
no events. NCSA times are the server's local time as written (the GMT offset the
line gives is not applied); the Microsoft IIS format's dates follow the server's
locale (``--date-order``).
"""

from __future__ import annotations

import polars as pl

from forensics.core import frames
from forensics.core.evidence import Evidence
from forensics.core.lineparse import Engine, extract
from forensics.core.text import lines_frame
from forensics.core.timeparse import DateOrder, timestamps
from forensics.readers.base import Format, FormatReader, Reading, ReadOptions
from forensics.readers.common import LogResult, log_reading, per_file, unparsed_rows
from forensics.readers.w3c import smtp_events
from grammars import iis as g

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def _null_dash(column: pl.Expr) -> pl.Expr:
    value = column.str.strip_chars(" ")
    return pl.when((value != "") & (value != "-")).then(value)


def _ncsa_records(good: pl.DataFrame, engine: Engine) -> pl.DataFrame:
    """NCSA fields under W3C names, with ``ts``."""
    request = extract(good["request"], g.NCSA_REQUEST, engine)
    month = (
        pl.col("mon")
        .str.to_lowercase()
        .replace_strict(list(_MONTHS), [str(i + 1) for i in range(12)], default=None)
    )
    parts = good.select(
        month.alias("d1"),
        pl.col("day").alias("d2"),
        pl.col("year").alias("d3"),
        "hh",
        "mi",
        "ss",
        pl.lit(None, pl.String).alias("ampm"),
    )
    return good.with_columns(
        timestamps(parts, "mdy").alias("ts"),
        pl.col("host").alias("c_ip"),
        _null_dash(pl.col("user")).alias("cs_username"),
        request["verb"].alias("cs_method"),
        request["target"].alias("cs_uri_stem"),
        request["params"].alias("cs_uri_query"),
        request["proto"].alias("cs_version"),
        pl.col("status").alias("sc_status"),
    )


def _msiis_records(good: pl.DataFrame, date_order: DateOrder) -> pl.DataFrame:
    """Microsoft IIS format fields under W3C names, with ``ts``."""
    parts = good.select("d1", "d2", "d3", "hh", "mi", "ss", pl.lit(None, pl.String).alias("ampm"))
    # "MAIL FROM", "RCPT TO" in Microsoft's examples, "MAIL" as W3C logs write it: the
    # verb is the first word; the parameters hold the argument either way.
    operation = pl.col("operation").str.strip_chars(" ")
    params = pl.col("params").str.strip_chars(" \t").str.strip_suffix(",").str.strip_chars(" ")
    return good.with_columns(
        timestamps(parts, date_order).alias("ts"),
        pl.col("client").str.strip_chars(" ").alias("c_ip"),
        _null_dash(pl.col("user")).alias("cs_username"),
        pl.col("service").str.strip_chars(" ").alias("s_sitename"),
        operation.str.extract(r"^([^ ]+)", 1).alias("cs_method"),
        pl.col("target").str.strip_chars(" ").alias("cs_uri_stem"),
        pl.when(params != "").then(params).alias("cs_uri_query"),
        pl.col("status").str.strip_chars(" ").alias("sc_status"),
    )


_REASONS = {
    "ncsa": 'not an NCSA log line (host ident user [date] "request" status bytes)',
    "msiis": "not a Microsoft IIS log format line (client, user, date, time, service, ... "
    "fifteen comma-separated fields)",
}


def read(
    items: list[Evidence], *, date_order: DateOrder = "mdy", engine: Engine = "fast"
) -> LogResult:
    """``items``: files sniffed as ``ncsa`` or ``msiis``, in any mix."""
    n = len(items)
    lines = lines_frame(items, release=True).with_columns(
        pl.lit(pl.Series([i.source for i in items], dtype=pl.String))
        .gather(pl.col("fid"))
        .alias("source"),
        pl.lit(pl.Series([i.format for i in items], dtype=pl.String))
        .gather(pl.col("fid"))
        .alias("_format"),
    )
    blank = pl.col("text").str.strip_chars(" \t") == ""
    data = lines.filter(~blank)
    records, good_rows, bad_rows = [], [], []
    for (name,), part in data.partition_by("_format", as_dict=True, include_key=True).items():
        grammar = g.NCSA_LINE if name == "ncsa" else g.MSIIS_LINE
        found = extract(part["text"], grammar, engine)
        part = pl.concat([part, found.drop("error")], how="horizontal")
        good = part.filter(pl.col("matched"))
        bad_rows.append(unparsed_rows(part.filter(~pl.col("matched")), _REASONS[str(name)]))
        good_rows.append(good.select("fid"))
        records.append(
            _ncsa_records(good, engine) if name == "ncsa" else _msiis_records(good, date_order)
        )
    bad = pl.concat(bad_rows) if bad_rows else None
    unparsed = (
        frames.conform(bad, frames.UNPARSED).with_columns(pl.col("text").str.slice(0, 200))
        if bad is not None
        else frames.empty(frames.UNPARSED)
    )
    read_rows = pl.concat(records, how="diagonal_relaxed") if records else None
    events = (
        smtp_events(read_rows, engine) if read_rows is not None else frames.empty(frames.EVENTS)
    )
    return LogResult(
        events,
        unparsed.sort("source", "line"),
        per_file(pl.concat(good_rows) if good_rows else None, n),
        per_file(bad, n),
        per_file(lines, n),
    )


def read_files(items: list[Evidence], options: ReadOptions) -> Reading:
    return log_reading(items, read(items, date_order=options.date_order, engine=options.engine))


READER = FormatReader(
    formats=(
        # After w3c (whose files have # directives) and before the event logs, whose
        # NT4 text is comma-delimited too (but starts with a date, not a client).
        Format("ncsa", 84, g.looks_like_ncsa),
        Format("msiis", 86, g.looks_like_msiis),
    ),
    frames=("events",),
    read_files=read_files,
)
