"""Sendmail's lines -> the ``events`` frame and the lines no grammar took: each
step's events (inbound sessions, refusals, logins, messages, outbound attempts)
gathered, in session order."""

from __future__ import annotations

import polars as pl

from forensics.core import frames
from forensics.core.lineparse import Engine
from forensics.readers.mta import unknown_rows
from forensics.readers.sendmail import inbound as ib
from forensics.readers.sendmail.fields import on, with_sessions
from forensics.readers.sendmail.messages import deliveries, messages, senders
from forensics.readers.sendmail.outbound import attempts
from grammars import sendmail as g

UNKNOWN_REASON = "a Sendmail line none of this reader's grammars takes"


def events(rows: pl.DataFrame, engine: Engine) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The events, and the ``_g`` of the lines that gave none and are not known."""
    rows = with_sessions(rows)
    sent_by = senders(rows, engine)
    receipts = sent_by.filter(pl.col("_addr").is_not_null())
    delivered = deliveries(rows, engine)
    rejects = ib.rejects(rows, engine)
    ok, failed = ib.authentications(rows, engine)
    notes = ib.notes(rows, engine)
    refused_rcpts = ib.refused_recipients(rows, receipts, engine)
    rcpt_refusals = pl.concat(
        [
            rejects.filter(pl.col("_verb") == "RCPT").select("_session", "qid", "_g", *_CITE),
            refused_rcpts.select("_session", "qid", "_g", *_CITE),
        ]
    ).join(
        rejects.filter(pl.col("_verb") == "MAIL").select("_session", "qid"),
        on=["_session", "qid"],
        how="anti",
        nulls_equal=True,
    )
    parts = [
        ib.clients([rejects, receipts, ok, failed, *notes]),
        *ib.refusals(rejects),
        *ib.logins(ok, failed),
        *ib.session_notes(notes),
        *ib.milters(rows, engine),
        *ib.refused_recipient_events(refused_rcpts),
        *messages(receipts, delivered, rcpt_refusals),
        *attempts(delivered, sent_by, engine),
    ]
    found = [
        frames.conform(p, frames.EVENTS).with_columns(p.select("_o", "_sub"))
        for p in parts
        if p.height
    ]
    read = _read_lines(rows, engine)
    unknown = unknown_rows(rows.join(read, on="_g", how="anti"), UNKNOWN_REASON)
    if not found:
        return frames.empty(frames.EVENTS), unknown
    gathered = pl.concat(found)
    first = pl.col("_o").min().over("session").alias("_first")
    ordered = gathered.with_columns(first).sort("_first", "_o", "_sub")
    return ordered.drop("_first", "_o", "_sub"), unknown


_CITE = ("source", "line", "ts")

# Every grammar a line of Sendmail's may be read by.
_GRAMMARS = (
    g.FROM,
    g.TO,
    g.REJECT,
    g.MILTER,
    g.AUTH_SERVER,
    g.AUTH_FAILURE,
    g.ATTACK,
    g.EXPN_VRFY,
    g.NO_MAIL,
    g.LOST,
    g.PREGREET,
    g.TIMEOUT,
    g.RCPT_TEXT,
    g.DSN,
    g.DAEMON,
    g.KNOWN,
)


def _read_lines(rows: pl.DataFrame, engine: Engine) -> pl.DataFrame:
    """The ``_g`` of every line one of the grammars takes."""
    return pl.concat([on(rows, grammar, engine).select("_g") for grammar in _GRAMMARS]).unique()
