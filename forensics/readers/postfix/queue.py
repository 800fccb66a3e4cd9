"""What the queue manager and the delivery agents say of each queued message: its
sender, and each delivery attempt to each recipient."""

from __future__ import annotations

import polars as pl

from forensics.core.lineparse import Engine
from forensics.readers.postfix.fields import on
from grammars import postfix as g

DELIVERY_AGENTS = ("smtp", "lmtp", "local", "virtual", "pipe", "error", "discard")


def senders(df: pl.DataFrame, engine: Engine) -> pl.DataFrame:
    """``qid`` and ``_sender``: the first ``from=`` the queue manager logged for it."""
    return (
        on(df, ("qmgr",), g.QMGR_FROM, engine)
        .unique("qid", keep="first", maintain_order=True)
        .select("qid", pl.col("from_addr").alias("_sender"))
    )


def deliveries(df: pl.DataFrame, engine: Engine) -> pl.DataFrame:
    """Every delivery agent's ``status=`` line, with its fields."""
    return on(df, DELIVERY_AGENTS, g.DELIVERY, engine)
