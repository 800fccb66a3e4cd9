"""Exchange 2007-2019 SMTP protocol logs -> the ``events`` frame.

Each data row is one protocol step of one session (``session-id``); the file's
``#Log-type`` says the direction: a Receive log holds inbound sessions (``<`` the
client's commands, ``>`` our replies), a Send log outbound ones (``>`` our
commands, ``<`` the remote's replies). ``#`` lines are the header; a data row the
line grammar does not take is unparsed, with its file and line.
"""

from __future__ import annotations

import polars as pl

from forensics.core import frames
from forensics.core.evidence import Evidence
from forensics.core.lineparse import Engine, extract
from forensics.core.text import lines_frame
from forensics.core.timeparse import timestamps
from forensics.readers.base import Format, FormatReader, Reading, ReadOptions
from forensics.readers.common import LogResult, csv_unquote, iso_parts, log_reading, per_file
from grammars import exchange as g
from grammars import smtp


def read(items: list[Evidence], *, engine: Engine = "fast") -> LogResult:
    n = len(items)
    kinds = [g.log_type(item.text or "") or "Receive" for item in items]
    lines = lines_frame(items, release=True).with_columns(
        pl.lit(pl.Series([i.source for i in items], dtype=pl.String))
        .gather(pl.col("fid"))
        .alias("source"),
        pl.lit(
            pl.Series(["inbound" if k == "Receive" else "outbound" for k in kinds], dtype=pl.String)
        )
        .gather(pl.col("fid"))
        .alias("direction"),
    )
    header = pl.col("text").str.starts_with("#")
    blank = pl.col("text").str.strip_chars(" \t") == ""
    rows = lines.filter(~header & ~blank)
    parsed = extract(rows["text"], g.LINE, engine)
    rows = pl.concat([rows, parsed.drop("error")], how="horizontal")
    bad = rows.filter(~pl.col("matched"))
    good = rows.filter(pl.col("matched"))
    unparsed = frames.conform(
        bad.select(
            "source",
            "line",
            pl.lit(
                "not an Exchange protocol log row (date-time,connector-id,session-id,...)"
            ).alias("reason"),
            pl.col("text").str.slice(0, 200),
        ),
        frames.UNPARSED,
    )
    events = _events(good, engine)
    return LogResult(
        events,
        unparsed,
        per_file(good, n),
        per_file(bad, n),
        per_file(lines, n),
    )


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
    return frames.conform(events.sort("session", "_seq", "source", "line"), frames.EVENTS)


def read_files(items: list[Evidence], options: ReadOptions) -> Reading:
    return log_reading(items, read(items, engine=options.engine))


READER = FormatReader(
    formats=(Format("exchange", 50, g.looks_like),),
    frames=("events",),
    read_files=read_files,
)
