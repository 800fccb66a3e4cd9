"""Exim's lines -> the ``events`` frame and the lines no grammar took: each step's
events (inbound sessions, refusals, logins, messages, outbound attempts) gathered,
in session order."""

from __future__ import annotations

import polars as pl

from forensics.core import frames
from forensics.core.lineparse import Engine
from forensics.readers.exim import inbound as ib
from forensics.readers.exim.fields import on, opened
from forensics.readers.exim.messages import arrivals, deliveries, messages
from forensics.readers.exim.outbound import attempts
from forensics.readers.exim.service import is_panic_log
from forensics.readers.mta import unknown_rows
from grammars import exim as g

UNKNOWN_REASON = "an Exim line none of this reader's grammars takes"


def events(rows: pl.DataFrame, engine: Engine) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The events, and the ``_g`` of the lines that gave none and are not known."""
    every = opened(rows, engine)
    rows = _without_copies(every)
    lines = ib.client_lines(rows, engine)
    received = arrivals(lines["arrival"])
    delivered = deliveries(rows, engine)
    # Every message's sender, also of mail submitted locally (no client): its
    # outbound deliveries say MAIL FROM it.
    senders = (
        on(rows, g.ARRIVAL, engine)
        .unique("qid", keep="first", maintain_order=True)
        .select("qid", pl.col("sender").alias("_from"))
    )
    parts = [
        *ib.clients(lines),
        *ib.refusals(lines),
        *ib.logins(lines, engine),
        *ib.notes(lines),
        *messages(received, delivered),
        *attempts(delivered, senders, engine),
    ]
    found = [
        frames.conform(p, frames.EVENTS).with_columns(p.select("_o", "_sub"))
        for p in parts
        if p.height
    ]
    # A panic log's lines are service events (of type Error), each one read; so is
    # every later part of an entry syslog split (read with its first).
    panics = every.filter(is_panic_log() | pl.col("_cont")).select("_g")
    read = pl.concat([_read_lines(every, delivered, engine), _copies(every), panics])
    unknown = unknown_rows(every.join(read, on="_g", how="anti"), UNKNOWN_REASON)
    if not found:
        return frames.empty(frames.EVENTS), unknown
    gathered = pl.concat(found)
    first = pl.col("_o").min().over("session").alias("_first")
    ordered = gathered.with_columns(first).sort("_first", "_o", "_sub")
    return ordered.drop("_first", "_o", "_sub"), unknown


# Every grammar a line of Exim's is read by, but DELIVERY (its blank flag is read
# only with "defer").
_GRAMMARS = (
    *(grammar for grammar, _, _ in ib.CLIENT_LINES.values()),
    g.DAEMON,
    g.KNOWN,
)


def _read_lines(rows: pl.DataFrame, delivered: pl.DataFrame, engine: Engine) -> pl.DataFrame:
    """The ``_g`` of every line one of the grammars takes."""
    taken = [on(rows, grammar, engine).select("_g") for grammar in _GRAMMARS]
    return pl.concat([*taken, delivered.select("_g")]).unique()


def _is_reject_log() -> pl.Expr:
    return pl.col("_fam").fill_null("").str.contains(r"(?i)reject[^/]*$")


def _copies(rows: pl.DataFrame) -> pl.DataFrame:
    """The ``_g`` of the reject log's lines that copy a line of the main log read
    beside it: Exim writes each refusal to both, and it must count once."""
    main = rows.filter(~_is_reject_log()).select("ts", "msg")
    return rows.filter(_is_reject_log()).join(main, on=["ts", "msg"], how="semi").select("_g")


def _without_copies(rows: pl.DataFrame) -> pl.DataFrame:
    return rows.join(_copies(rows), on="_g", how="anti")
