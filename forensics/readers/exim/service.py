"""The daemon's starts -> service events: Exim reads its configuration when its
daemon starts (a SIGHUP restarts it, and it logs its start again)."""

from __future__ import annotations

import polars as pl

from forensics.core import frames
from forensics.core.lineparse import Engine
from forensics.readers.exim.fields import on
from grammars import exim as g


def service_events(rows: pl.DataFrame, engine: Engine) -> pl.DataFrame:
    daemon = on(rows, g.DAEMON, engine)
    return frames.conform(
        daemon.with_columns(
            pl.col("prog").alias("event_source"),
            pl.lit("Information").alias("type"),
            pl.col("host").alias("computer"),
            pl.col("_rest").alias("message"),
        ),
        frames.SERVICE_EVENTS,
    )
