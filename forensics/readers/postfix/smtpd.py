"""smtpd's lines -> inbound sessions: each one numbered, with its connect and
disconnect events."""

from __future__ import annotations

import polars as pl

from forensics.core.lineparse import Engine
from forensics.readers.postfix.event_rows import inbound, peer
from forensics.readers.postfix.fields import on
from grammars import postfix as g


def smtpd_sessions(df: pl.DataFrame) -> pl.DataFrame:
    """smtpd's rows, each with ``_session``, the session it belongs to."""
    # An smtpd process (file family, host, program, pid) serves one client at a time:
    # its n-th "connect from" opens its n-th session.
    smtpd = df.filter(pl.col("daemon") == "smtpd")
    smtpd = smtpd.with_columns(
        pl.col("msg")
        .str.starts_with("connect from ")
        .cast(pl.Int32)
        .cum_sum()
        .over("_fam", "host", "prog", "pid")
        .alias("_n")
    )
    return smtpd.with_columns(
        pl.concat_str(
            [
                pl.col("_fam"),
                pl.lit(" "),
                pl.col("prog"),
                pl.lit("|"),
                pl.col("pid").fill_null(""),
                pl.lit("#"),
                pl.col("_n").cast(pl.String),
            ]
        ).alias("_session")
    )


def connections(smtpd: pl.DataFrame, engine: Engine) -> list[pl.DataFrame]:
    """Each session's connect (with the client) and disconnect."""
    connects = on(smtpd, ("smtpd",), g.CONNECT, engine)
    disconnects = on(smtpd, ("smtpd",), g.DISCONNECT, engine)
    return [
        inbound(connects, sub=0, kind="connect", arg=peer()),
        inbound(disconnects, sub=9, kind="disconnect"),
    ]


def implied_connects(smtpd: pl.DataFrame, engine: Engine) -> pl.DataFrame:
    """A connect for each session whose "connect from" line is not in the log (it
    began before the log did, or the log was cut), from the first of its lines that
    names the client (a reject, client=, disconnect): the client's address is never
    left unknown when a line carries it. Only such sessions' lines are parsed again."""
    connected = smtpd.filter(pl.col("msg").str.starts_with("connect from "))["_session"]
    orphans = smtpd.filter(~pl.col("_session").is_in(connected.unique().implode()))
    columns = ["_session", "_g", "source", "line", "ts", "name", "addr"]
    named = [
        on(orphans, ("smtpd",), grammar, engine).select(columns)
        for grammar in (g.REJECT, g.CLIENT, g.DISCONNECT)
    ]
    first = pl.concat(named).sort("_g").unique("_session", keep="first", maintain_order=True)
    return inbound(first, sub=0, kind="connect", arg=peer())
