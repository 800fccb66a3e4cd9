"""The daemon's starts and the panic log -> service events. Exim reads its
configuration when its daemon starts (a SIGHUP re-executes it, and it logs its
start again); its panic log holds the serious errors, each an event of type Error
(Exim's specification: the panic log should be empty under normal circumstances)."""

from __future__ import annotations

import polars as pl

from forensics.core import frames
from forensics.core.lineparse import Engine
from forensics.readers.exim.fields import on
from grammars import exim as g


def is_panic_log() -> pl.Expr:
    """The lines of a panic log (``paniclog``, ``exim_paniclog``, ``panic.log``)."""
    return pl.col("_fam").fill_null("").str.contains(r"(?i)panic[^/]*$")


def service_events(rows: pl.DataFrame, engine: Engine) -> pl.DataFrame:
    daemon = on(rows.filter(~is_panic_log()), g.DAEMON, engine).with_columns(
        pl.lit("Information").alias("type")
    )
    panics = rows.filter(is_panic_log()).with_columns(pl.lit("Error").alias("type"))
    found = pl.concat([daemon.select(panics.columns), panics]).sort("_g")
    return frames.conform(
        found.with_columns(
            pl.col("prog").alias("event_source"),
            pl.col("host").alias("computer"),
            pl.col("_rest").alias("message"),
        ),
        frames.SERVICE_EVENTS,
    )
