"""Exchange 2007-2019 SMTP protocol logs -> the ``events`` frame.

Each data row is one protocol step of one session (``session-id``); the file's
``#Log-type`` says the direction: a Receive log holds inbound sessions (``<`` the
client's commands, ``>`` our replies), a Send log outbound ones (``>`` our
commands, ``<`` the remote's replies). ``#`` lines are the header; a data row the
line grammar does not take is unparsed, with its file and line.

Rows copied without their header (out of a SIEM, a ticket, an Elastic or CrowdSec
pipeline) are recognised by their shape and read in the standard field order of
``knowledge/fieldorders.toml``; without ``#Log-type``, a session's direction comes
from who sent its 220 greeting or its EHLO. The inputs table's note and the
assumptions rows say so. A ``#Fields`` line in the file gives the order of the rows
below it.
"""

from __future__ import annotations

import polars as pl

from forensics.core import frames
from forensics.core.evidence import Evidence
from forensics.core.lineparse import Engine, extract
from forensics.core.text import lines_frame
from forensics.core.timeparse import timestamps
from forensics.knowledge import load
from forensics.readers.base import Format, FormatReader, Reading, ReadOptions
from forensics.readers.common import (
    LogResult,
    csv_unquote,
    iso_parts,
    log_reading,
    per_file,
    read_by_layout,
)
from grammars import exchange as g
from grammars import smtp


def standard_order(log: str) -> list[tuple[str, str]]:
    """The standard field orders of ``log`` ("protocol" or "tracking") as (title,
    fields), from ``knowledge/fieldorders.toml``."""
    return [(o["title"], o["fields"]) for o in load("fieldorders")["order"] if o["log"] == log]


def _is_fields(text: pl.Expr) -> pl.Expr:
    """A field line: ``#Fields: ...``, or the same names as a plain CSV header row."""
    return text.str.starts_with("#Fields:") | text.str.starts_with("date-time,")


def read(items: list[Evidence], *, engine: Engine = "fast") -> LogResult:
    n = len(items)
    kinds = [g.log_type(item.text or "") for item in items]
    ((title, order),) = standard_order("protocol")
    lines = lines_frame(items, release=True).with_columns(
        pl.lit(pl.Series([i.source for i in items], dtype=pl.String))
        .gather(pl.col("fid"))
        .alias("source"),
        pl.lit(pl.Series(kinds, dtype=pl.String)).gather(pl.col("fid")).alias("_log_type"),
    )
    text = pl.col("text")
    fields_of = text.str.strip_prefix("#Fields:").str.strip_chars(" \t")
    lines = lines.with_columns(
        pl.when(_is_fields(text)).then(fields_of).forward_fill().over("fid").alias("_fields")
    )
    headed = set(lines.filter(_is_fields(text))["fid"].unique().to_list())
    header = text.str.starts_with("#") | _is_fields(text)
    blank = text.str.strip_chars(" \t") == ""
    # Rows without a field line above them: the standard order (fieldorders.toml).
    rows = lines.filter(~header & ~blank).with_columns(pl.col("_fields").fill_null(order))
    good, bad = read_by_layout(
        rows,
        lambda layout: g.line_grammar(tuple(layout.split(","))),
        engine,
        before="a row before any field line",
        mismatch="not an Exchange protocol log row (date-time,connector-id,session-id,...)",
    )
    unparsed = (
        frames.conform(bad, frames.UNPARSED).with_columns(pl.col("text").str.slice(0, 200))
        if bad is not None
        else frames.empty(frames.UNPARSED)
    )
    if good is not None:
        good = _with_direction(_with_groups(good))
    events = _events(good, engine) if good is not None else frames.empty(frames.EVENTS)
    assumed = _assumptions(items, kinds, headed, title, order, good)
    return LogResult(
        events,
        unparsed.sort("source", "line"),
        per_file(good, n),
        per_file(bad, n),
        per_file(lines, n),
        assumptions=assumed,
    )


# The groups of the standard order's grammar: a layout without one of them has it null.
_GROUPS = (
    *("y", "mo", "d", "hh", "mi", "ss"),
    *("connector", "session", "seq", "local", "remote", "event", "data", "context"),
)


def _with_groups(rows: pl.DataFrame) -> pl.DataFrame:
    return rows.with_columns(
        pl.lit(None, pl.String).alias(name) for name in _GROUPS if name not in rows.columns
    )


def _with_direction(rows: pl.DataFrame) -> pl.DataFrame:
    """``direction``: the file's ``#Log-type`` says it (Receive: inbound); without
    one, each session's own rows: who sent the 220 greeting or the EHLO/HELO (the
    server sends the greeting, the client the EHLO). ``_guessed``: a session that
    shows neither, taken for inbound."""
    payload = csv_unquote(pl.col("data").fill_null(""))
    greet = payload.str.contains(r"^220( |-|$)")
    hello = payload.str.contains(r"^(?i:ehlo|helo)( |$)")
    event = pl.col("event")
    ours_first = ((event == ">") & greet) | ((event == "<") & hello)
    theirs_first = ((event == "<") & greet) | ((event == ">") & hello)
    key = ("fid", "session")
    inbound_seen = ours_first.any().over(key)
    outbound_seen = theirs_first.any().over(key)
    inferred = (
        pl.when(inbound_seen)
        .then(pl.lit("inbound"))
        .when(outbound_seen)
        .then(pl.lit("outbound"))
        .otherwise(pl.lit("inbound"))
    )
    kind = pl.col("_log_type")
    return rows.with_columns(
        pl.when(kind == "Receive")
        .then(pl.lit("inbound"))
        .when(kind == "Send")
        .then(pl.lit("outbound"))
        .otherwise(inferred)
        .alias("direction"),
        (kind.is_null() & ~inbound_seen & ~outbound_seen).alias("_guessed"),
    )


def _assumptions(
    items: list[Evidence],
    kinds: list[str | None],
    headed: set[int],
    title: str,
    order: str,
    good: pl.DataFrame | None,
) -> pl.DataFrame | None:
    """Per file without a field line: the order assumed; per file without a
    ``#Log-type``: how its sessions got their direction. The inputs table's note
    says the same in short."""
    guessed: set[int] = set()
    if good is not None:
        guessed = set(good.filter(pl.col("_guessed"))["fid"].unique().to_list())
    rows = []
    for fid, item in enumerate(items):
        said = []
        if fid not in headed:
            said.append(f"no #Fields header: read in the standard field order of the {title}")
            rows.append(
                {
                    "what": f"the rows of {item.source} are in the standard field order of the "
                    f"{title}: {order}",
                    "why": "the file has no #Fields line (rows copied without their header) "
                    "and its rows have that order's shape: an ISO time, the connector, a "
                    "16-digit session id, a sequence number, two endpoints, an event + - < > *",
                    "override": "put the log's own #Fields: line above its rows",
                    "source": item.source,
                }
            )
        if kinds[fid] is None:
            said.append("no #Log-type: each session's direction from who sent its 220 or EHLO")
            rows.append(
                {
                    "what": f"the sessions of {item.source} are inbound or outbound as their "
                    "220 greeting and EHLO/HELO show"
                    + (
                        " (sessions showing neither are taken for inbound)"
                        if fid in guessed
                        else ""
                    ),
                    "why": "the file has no #Log-type line (SMTP Receive or Send Protocol Log)",
                    "override": "put the log's #Log-type: line above its rows",
                    "source": item.source,
                }
            )
        if said:
            item.note = "; ".join(x for x in (item.note, *said) if x)
    return pl.DataFrame(rows, schema=frames.ASSUMPTIONS) if rows else None


def _events(rows: pl.DataFrame, engine: Engine) -> pl.DataFrame:
    if rows.height == 0:
        return frames.empty(frames.EVENTS)
    rows = rows.with_columns(
        timestamps(iso_parts(rows), "ymd").alias("ts"),
        csv_unquote(pl.col("data").fill_null("")).alias("payload"),
    )
    inbound = pl.col("direction") == "inbound"
    event = pl.col("event")
    # Who speaks: the client sends commands; on a Receive log that is '<', on a Send log '>'.
    is_command = (inbound & (event == "<")) | (~inbound & (event == ">"))
    is_reply = (inbound & (event == ">")) | (~inbound & (event == "<"))
    command = extract(
        rows.select(pl.when(is_command).then(pl.col("payload"))).to_series(), g.COMMAND, engine
    )
    reply = extract(
        rows.select(pl.when(is_reply).then(pl.col("payload"))).to_series(), smtp.REPLY, engine
    )
    # The peer's address: "203.0.113.7:51234" or "[2001:db8::7]:51234".
    peer = (
        pl.col("remote")
        .str.replace(r"^\[(.*)\]:[0-9]+$", "$1")
        .str.replace(r"^([0-9.]+):[0-9]+$", "$1")
    )
    kind = (
        pl.when(event == "+")
        .then(pl.lit("connect"))
        .when(event == "-")
        .then(pl.lit("disconnect"))
        .when(is_command & command["matched"])
        .then(pl.lit("command"))
        .when(is_reply & reply["matched"])
        .then(pl.lit("reply"))
        .otherwise(pl.lit("note"))
    )
    out = rows.with_columns(
        kind.alias("kind"),
        command["verb"].str.to_uppercase().alias("_verb"),
        command["arg"].alias("_arg"),
        reply["code"].cast(pl.UInt16, strict=False).alias("_code"),
        reply["status"].alias("_status"),
        reply["text"].alias("_text"),
        pl.col("seq").cast(pl.Int64, strict=False).alias("_seq"),
    )
    events = out.select(
        "source",
        "line",
        "ts",
        pl.col("session"),
        "direction",
        pl.when(pl.col("kind") == "command")
        .then(pl.lit("client"))
        .when(pl.col("kind") == "reply")
        .then(pl.lit("server"))
        .alias("actor"),
        "kind",
        pl.when(pl.col("kind") == "command").then(pl.col("_verb")).alias("verb"),
        pl.when(pl.col("kind") == "command")
        .then(pl.col("_arg"))
        .when(pl.col("kind") == "connect")
        .then(peer)
        .alias("arg"),
        pl.when(pl.col("kind") == "reply").then(pl.col("_code")).alias("code"),
        pl.when(pl.col("kind") == "reply").then(pl.col("_status")).alias("status"),
        pl.when(pl.col("kind") == "reply")
        .then(pl.col("_text"))
        .when(pl.col("kind") == "note")
        .then(pl.col("payload"))
        .alias("text"),
        "_seq",
    )
    events = pl.concat([events, _implied_connects(out, peer).select(events.columns)])
    return frames.conform(events.sort("session", "_seq", "source", "line"), frames.EVENTS)


def _implied_connects(out: pl.DataFrame, peer: pl.Expr) -> pl.DataFrame:
    """A connect for each session whose '+' row is not in the log (it began before
    the log did, or the rows were cut out of one): every row names the remote
    endpoint, so the client's address is never left unknown. It sits at the
    session's first row, before it."""
    opened = out.group_by("session").agg((pl.col("kind") == "connect").any().alias("_open"))
    first = (
        out.join(opened.filter(~pl.col("_open")), on="session", how="semi")
        .sort("session", "_seq", "source", "line", nulls_last=True)
        .unique("session", keep="first", maintain_order=True)
    )
    return first.select(
        "source",
        "line",
        "ts",
        "session",
        "direction",
        pl.lit(None, pl.String).alias("actor"),
        pl.lit("connect").alias("kind"),
        pl.lit(None, pl.String).alias("verb"),
        peer.alias("arg"),
        pl.lit(None, pl.UInt16).alias("code"),
        pl.lit(None, pl.String).alias("status"),
        pl.lit("(the connection began before the log's first row of it)").alias("text"),
        (pl.col("_seq") - 1).alias("_seq"),
    )


def read_files(items: list[Evidence], options: ReadOptions) -> Reading:
    return log_reading(items, read(items, engine=options.engine))


READER = FormatReader(
    formats=(Format("exchange", 50, g.looks_like),),
    frames=("events",),
    read_files=read_files,
)
