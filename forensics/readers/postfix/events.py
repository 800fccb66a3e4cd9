"""Postfix's own lines -> the ``events`` frame: each step's events (inbound sessions,
refusals, accepted messages, outbound attempts) gathered, in session order."""

from __future__ import annotations

import polars as pl

from forensics.core import frames
from forensics.core.lineparse import Engine
from forensics.readers.postfix.accepted import accepted_messages
from forensics.readers.postfix.outbound import outbound_attempts
from forensics.readers.postfix.queue import deliveries, senders
from forensics.readers.postfix.rejects import rejections
from forensics.readers.postfix.smtpd import connections, implied_connects, smtpd_sessions


def events(df: pl.DataFrame, engine: Engine) -> pl.DataFrame:
    smtpd = smtpd_sessions(df)
    sender_of = senders(df, engine)
    delivered = deliveries(df, engine)
    parts = [
        *connections(smtpd, engine),
        implied_connects(smtpd, engine),
        *rejections(smtpd, engine),
        *accepted_messages(smtpd, sender_of, delivered, engine),
        *outbound_attempts(delivered.join(sender_of, on="qid", how="left"), engine),
    ]
    found = [
        frames.conform(p, frames.EVENTS).with_columns(p.select("_o", "_sub"))
        for p in parts
        if p.height
    ]
    if not found:  # no Postfix line made any SMTP fact
        return frames.empty(frames.EVENTS)
    # Sessions in the order they begin in the log, each one's events in line order.
    # Sorting by the session's text costs twice as much as by numbers: its first
    # line number stands for it (every line belongs to one session only, so no two
    # sessions share one).
    gathered = pl.concat(found)
    first = pl.col("_o").min().over("session").alias("_first")
    return gathered.with_columns(first).sort("_first", "_o", "_sub").drop("_first", "_o", "_sub")
