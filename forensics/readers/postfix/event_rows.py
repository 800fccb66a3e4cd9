"""Rows of the ``events`` frame built from the rows of a fact: one SMTP event each,
with the session it belongs to and its place in that session."""

from __future__ import annotations

from functools import partial

import polars as pl


def event(
    frame: pl.DataFrame,
    *,
    session: pl.Expr,
    direction: str,
    order: pl.Expr,
    sub: int | pl.Expr,
    kind: str,
    verb: str | pl.Expr | None = None,
    arg: pl.Expr | None = None,
    code: pl.Expr | None = None,
    status: pl.Expr | None = None,
    text: pl.Expr | None = None,
    ts: pl.Expr | None = None,
) -> pl.DataFrame:
    """One event per row of ``frame``; ``order`` and ``sub`` place it in its session
    (the ``_o`` and ``_sub`` columns the events are sorted by)."""
    actor = {"command": "client", "reply": "server", "connect": None}.get(kind)
    return frame.select(
        "source",
        "line",
        (ts if ts is not None else pl.col("ts")).alias("ts"),
        session.alias("session"),
        pl.lit(direction).alias("direction"),
        pl.lit(actor, pl.String).alias("actor"),
        pl.lit(kind).alias("kind"),
        (verb if isinstance(verb, pl.Expr) else pl.lit(verb, pl.String)).alias("verb"),
        (arg if arg is not None else pl.lit(None, pl.String)).alias("arg"),
        (code if code is not None else pl.lit(None, pl.UInt16)).cast(pl.UInt16).alias("code"),
        (status if status is not None else pl.lit(None, pl.String)).alias("status"),
        (text if text is not None else pl.lit(None, pl.String)).alias("text"),
        order.cast(pl.Int64).alias("_o"),
        (sub if isinstance(sub, pl.Expr) else pl.lit(sub)).cast(pl.Int64).alias("_sub"),
    )


# An inbound event belongs to its smtpd session and sorts by its line.
inbound = partial(event, session=pl.col("_session"), direction="inbound", order=pl.col("_g"))


def peer() -> pl.Expr:
    """The client as Postfix names it: ``name[addr]``."""
    return pl.concat_str([pl.col("name"), pl.lit("["), pl.col("addr"), pl.lit("]")])


def mail_from(address: pl.Expr) -> pl.Expr:
    return pl.concat_str([pl.lit("FROM:<"), address, pl.lit(">")])


def rcpt_to(address: pl.Expr) -> pl.Expr:
    return pl.concat_str([pl.lit("TO:<"), address, pl.lit(">")])
