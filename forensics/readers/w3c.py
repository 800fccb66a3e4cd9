"""W3C extended logs -> the ``events`` frame, for the SMTP service's records.

Every record is read under the ``#Fields`` in force (web server records too, so that
every line of an IIS log is accounted for); only SMTP records make events. Exchange
2000/2003 log a received command as one record: the verb (``cs-method``), its
argument (``cs-uri-query``, ``+`` for spaces) and our reply code (``sc-status``) but
not the reply's text, so a relay refusal there is a bare 550 that the reply table
cannot tell from an unknown recipient: the NDRs or the protocol logs of another
server must say which. Outbound records carry ``OutboundConnectionCommand`` or
``OutboundConnectionResponse`` in ``cs-username``. A session is one client address
from its HELO or EHLO on (the format has no session id). Times are as logged
(IIS writes UTC).
"""

from __future__ import annotations

import polars as pl

from forensics.core import frames
from forensics.core.evidence import Evidence
from forensics.core.lineparse import Engine, extract
from forensics.core.text import lines_frame
from forensics.readers.base import Format, FormatReader, Reading, ReadOptions
from forensics.readers.common import (
    LogResult,
    column_or_null,
    log_reading,
    per_file,
    read_by_layout,
)
from grammars import smtp, tokens
from grammars import w3c as g

SMTP_VERBS = sorted(tokens.SMTP_VERBS)


def read(items: list[Evidence], *, engine: Engine = "fast") -> LogResult:
    n = len(items)
    lines = lines_frame(items, release=True).with_columns(
        pl.lit(pl.Series([i.source for i in items], dtype=pl.String))
        .gather(pl.col("fid"))
        .alias("source")
    )
    fields = (
        pl.when(pl.col("text").str.starts_with("#Fields:"))
        .then(pl.col("text").str.strip_prefix("#Fields:").str.strip_chars(" \t"))
        .forward_fill()
        .over("fid")
    )
    # The #Date: directive in force (its date part), for layouts without a date field.
    stamped = (
        pl.when(pl.col("text").str.starts_with("#Date:"))
        .then(pl.col("text").str.extract(r"^#Date:[ \t]*([0-9]{4}-[0-9]{2}-[0-9]{2})", 1))
        .forward_fill()
        .over("fid")
    )
    block = pl.col("text").str.starts_with("#Date:").cast(pl.Int32).cum_sum().over("fid")
    lines = lines.with_columns(
        fields.alias("_fields"), stamped.alias("_directive_date"), block.alias("_block")
    )
    data = lines.filter(
        ~pl.col("text").str.starts_with("#") & (pl.col("text").str.strip_chars(" \t") != "")
    )
    good, bad = read_by_layout(
        data,
        lambda layout: g.fields_grammar(tuple(layout.split())),
        engine,
        before="a record before any #Fields line",
        mismatch="not as many fields as #Fields names",
    )
    unparsed = (
        frames.conform(bad, frames.UNPARSED).with_columns(pl.col("text").str.slice(0, 200))
        if bad is not None
        else frames.empty(frames.UNPARSED)
    )
    if good is not None:
        good = _with_times(good)
        events = smtp_events(good, engine)
        assumed = _date_assumptions(good, items)
    else:
        events, assumed = frames.empty(frames.EVENTS), None
    return LogResult(
        events,
        unparsed.sort("source", "line"),
        per_file(good, n),
        per_file(bad, n),
        per_file(lines, n),
        assumptions=assumed,
    )


def _with_times(rows: pl.DataFrame) -> pl.DataFrame:
    """Adds ``ts``: the record's date and time, or, without a date field, the date of
    the ``#Date:`` directive in force, a day later for each time the clock went back
    since that directive (``_dated``: whether the record had a date of its own)."""
    rows = rows.sort("fid", "line")  # the layouts were read apart
    time = column_or_null(rows, "time")
    own = column_or_null(rows, "date")
    clock = time.str.to_time("%H:%M:%S", strict=False)
    went_back = (clock < clock.shift(1).over("fid", "_block")).fill_null(False)
    days = went_back.cast(pl.Int64).cum_sum().over("fid", "_block")
    from_directive = pl.concat_str([pl.col("_directive_date"), pl.lit(" "), time]).str.to_datetime(
        "%Y-%m-%d %H:%M:%S", strict=False, time_unit="us"
    ) + pl.duration(days=days)
    from_record = pl.concat_str([own, pl.lit(" "), time]).str.to_datetime(
        "%Y-%m-%d %H:%M:%S", strict=False, time_unit="us"
    )
    return rows.with_columns(
        pl.when(own.is_not_null()).then(from_record).otherwise(from_directive).alias("ts"),
        own.is_not_null().alias("_dated"),
    )


def _date_assumptions(rows: pl.DataFrame, items: list[Evidence]) -> pl.DataFrame | None:
    """One row per file with records dated by its ``#Date:`` directives."""
    undated = (
        rows.filter(~pl.col("_dated") & pl.col("ts").is_not_null())
        .group_by("fid")
        .agg(pl.len().alias("n"), pl.col("_block").n_unique().alias("blocks"))
        .sort("fid")
    )
    if undated.height == 0:
        return None
    return pl.DataFrame(
        {
            "what": [
                f"the {n} records of {items[fid].source} without a date field are of the "
                f"date of the #Date: directive above them ({blocks} such block"
                f"{'' if blocks == 1 else 's'}), one day later each time the clock goes back"
                for fid, n, blocks in undated.iter_rows()
            ],
            "why": "the file's #Fields name no date: the #Date: directive says when its block "
            "of records began",
            "override": None,
            "source": [items[fid].source for fid in undated["fid"]],
        },
        schema=frames.ASSUMPTIONS,
    )


def smtp_events(rows: pl.DataFrame, engine: Engine) -> pl.DataFrame:
    """Records under W3C field names (``c_ip``, ``cs_username``, ``cs_method``,
    ``cs_uri_query``, ``sc_status``, ``s_sitename``, ``cs_version``; the columns
    ``fid``, ``source``, ``line`` and ``ts``) -> the ``events`` frame, SMTP records
    only, in session and line order."""
    rows = _smtp_records(rows)
    if rows.height == 0:
        return frames.empty(frames.EVENTS)
    rows = _with_sessions(_record_columns(rows))
    base = ["source", "line", "ts", "session", "direction"]
    parts = [
        _connects(rows),
        _commands(rows, base),
        _inbound_replies(rows, base),
        _outbound_replies(rows, base, engine),
    ]
    # ``_k`` orders a record's events: connect, then command, then reply.
    events = pl.concat(
        [
            frames.conform(p, frames.EVENTS).with_columns(p["_k"].cast(pl.Int32))
            for p in parts
            if p.height
        ]
    )
    return events.sort("session", "line", "_k").drop("_k")


def _smtp_records(rows: pl.DataFrame) -> pl.DataFrame:
    """The SMTP service's records: web server records share the file but make no events."""
    method = column_or_null(rows, "cs_method").str.to_uppercase()
    user = column_or_null(rows, "cs_username")
    is_smtp = (
        column_or_null(rows, "s_sitename").str.starts_with("SMTPSVC").fill_null(False)
        | (column_or_null(rows, "cs_version").str.to_uppercase() == "SMTP").fill_null(False)
        | method.is_in(SMTP_VERBS).fill_null(False)
        | user.is_in(["OutboundConnectionCommand", "OutboundConnectionResponse"]).fill_null(False)
    )
    return rows.filter(is_smtp)


def _record_columns(rows: pl.DataFrame) -> pl.DataFrame:
    """Adds each record's direction and its underscored pieces (verb, argument,
    whether it is an outbound reply, status, peer) under names the next steps share."""
    method = column_or_null(rows, "cs_method").str.to_uppercase()
    user = column_or_null(rows, "cs_username")
    query = (
        column_or_null(rows, "cs_uri_query")
        .str.replace_all("+", " ", literal=True)
        .str.strip_chars(" ")
    )
    query = pl.when(query == "-").then(None).otherwise(query)
    outbound_reply = user == "OutboundConnectionResponse"
    outbound = user.str.starts_with("OutboundConnection").fill_null(False)
    return rows.with_columns(
        pl.when(outbound).then(pl.lit("outbound")).otherwise(pl.lit("inbound")).alias("direction"),
        method.alias("_verb"),
        query.alias("_arg"),
        outbound_reply.fill_null(False).alias("_oreply"),
        column_or_null(rows, "sc_status").cast(pl.UInt16, strict=False).alias("_status"),
        column_or_null(rows, "c_ip").alias("_peer"),
    )


def _with_sessions(rows: pl.DataFrame) -> pl.DataFrame:
    """Adds ``session``: the format has no session id, so one is made from the file,
    direction, peer and the number of session starts seen for them so far."""
    # A session starts at the client's HELO or EHLO, or, outbound, at the remote's
    # greeting, which comes before our EHLO.
    greeting = pl.col("_oreply") & pl.col("_arg").str.starts_with("220").fill_null(False)
    hello = (
        pl.col("_verb").is_in(["HELO", "EHLO"])
        & ~pl.col("_oreply")
        & (pl.col("direction") == "inbound")
    ) | greeting
    return rows.with_columns(
        hello.cast(pl.Int32).cum_sum().over("fid", "_peer", "direction").alias("_n")
    ).with_columns(
        pl.concat_str(
            [
                pl.col("source"),
                pl.lit("#"),
                pl.col("direction"),
                pl.lit("#"),
                pl.col("_peer").fill_null("?"),
                pl.lit("#"),
                pl.col("_n").cast(pl.String),
            ]
        ).alias("session")
    )


def _commands(rows: pl.DataFrame, base: list[str]) -> pl.DataFrame:
    """A command event for every record that is not an outbound reply."""
    return rows.filter(~pl.col("_oreply")).select(
        *base,
        pl.lit("client").alias("actor"),
        pl.lit("command").alias("kind"),
        pl.col("_verb").alias("verb"),
        pl.col("_arg").alias("arg"),
        pl.lit(1).alias("_k"),
    )


def _inbound_replies(rows: pl.DataFrame, base: list[str]) -> pl.DataFrame:
    """Inbound: our reply's code is in the command's own record (no text)."""
    return rows.filter(~pl.col("_oreply") & (pl.col("direction") == "inbound")).select(
        *base,
        pl.lit("server").alias("actor"),
        pl.lit("reply").alias("kind"),
        pl.col("_status").alias("code"),
        pl.lit(2).alias("_k"),
    )


def _outbound_replies(rows: pl.DataFrame, base: list[str], engine: Engine) -> pl.DataFrame:
    """Outbound: the remote's reply is a record of its own, its text in cs-uri-query,
    read by the SMTP reply grammar every log reader shares."""
    answered = rows.filter(pl.col("_oreply"))
    reply = extract(answered["_arg"], smtp.REPLY, engine)
    return answered.select(
        *base,
        pl.lit("server").alias("actor"),
        pl.lit("reply").alias("kind"),
        reply["code"].cast(pl.UInt16, strict=False).alias("code"),
        reply["status"].alias("status"),
        reply["text"].alias("text"),
        pl.lit(2).alias("_k"),
    )


def _connects(rows: pl.DataFrame) -> pl.DataFrame:
    """A connect event at each session's first record, naming the peer."""
    return (
        rows.sort("line")
        .group_by("session", maintain_order=True)
        .agg(
            pl.col("source").first(),
            pl.col("line").first(),
            pl.col("ts").first(),
            pl.col("direction").first(),
            pl.col("_peer").first().alias("arg"),
        )
        .with_columns(pl.lit("connect").alias("kind"), pl.lit(0).alias("_k"))
    )


def read_files(items: list[Evidence], options: ReadOptions) -> Reading:
    return log_reading(items, read(items, engine=options.engine))


READER = FormatReader(
    formats=(Format("w3c", 80, g.looks_like),),
    frames=("events",),
    read_files=read_files,
)
