"""Postfix messages -> their fields: the rows of some daemons whose message a grammar
matches, and the parts of a quoted SMTP reply."""

from __future__ import annotations

import polars as pl

from forensics.core.lineparse import Engine, extract, may_match
from grammars import smtp
from grammars.twin import LineGrammar


def on(
    df: pl.DataFrame, daemons: tuple[str, ...], grammar: LineGrammar, engine: Engine
) -> pl.DataFrame:
    """The rows of ``daemons`` whose message matches ``grammar``, with its fields."""
    # Rows that cannot match are not even copied.
    rows = df.filter(pl.col("daemon").is_in(daemons) & may_match(pl.col("msg"), grammar))
    # Most rows are other kinds of message: no fallback to pyparsing for them (that
    # would be a per-row loop); the differential tests hold the twin to pyparsing.
    found = extract(rows["msg"], grammar, engine, fallback=False)
    return pl.concat([rows, found.drop("error")], how="horizontal").filter(pl.col("matched"))


def reply_parts(frame: pl.DataFrame, column: str, engine: Engine) -> pl.DataFrame:
    """``frame`` with code, status, text read from the reply in ``column``."""
    parsed = extract(frame[column], smtp.REPLY, engine)
    return frame.with_columns(
        parsed["code"].cast(pl.UInt16, strict=False).alias("r_code"),
        parsed["status"].alias("r_status"),
        parsed["text"].alias("r_text"),
    )
