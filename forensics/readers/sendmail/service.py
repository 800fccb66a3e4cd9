"""The daemon's lines -> service events: starting, restarting (on SIGHUP it reads
sendmail.cf again) or stopping."""

from __future__ import annotations

import polars as pl

from forensics.core import frames
from forensics.core.lineparse import Engine
from forensics.readers.sendmail.fields import on
from grammars import sendmail as g


def service_events(rows: pl.DataFrame, engine: Engine) -> pl.DataFrame:
    daemon = on(rows, g.DAEMON, engine)
    return frames.conform(
        daemon.with_columns(
            pl.col("prog").alias("event_source"),
            pl.lit("Information").alias("type"),
            pl.col("host").alias("computer"),
            pl.col("msg").alias("message"),
        ),
        frames.SERVICE_EVENTS,
    )
