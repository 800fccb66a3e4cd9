"""The master daemon's lines -> service events: starting, rereading main.cf
(``postfix reload``) or stopping; a change to main.cf is in effect from the next."""

from __future__ import annotations

import polars as pl

from forensics.core import frames
from forensics.core.lineparse import Engine
from forensics.readers.postfix.fields import on
from grammars import postfix as g


def service_events(df: pl.DataFrame, engine: Engine) -> pl.DataFrame:
    master = on(df, ("master",), g.MASTER, engine)
    return frames.conform(
        master.with_columns(
            pl.col("prog").alias("event_source"),
            pl.lit("Information").alias("type"),
            pl.col("host").alias("computer"),
            pl.col("msg").alias("message"),
        ),
        frames.SERVICE_EVENTS,
    )
