"""Sendmail messages -> their fields: the rows whose message a grammar matches, the
client a ``relay=`` value (or the free text) names, and the session of each row."""

from __future__ import annotations

import polars as pl

from forensics.core.lineparse import Engine, extract, may_match
from grammars import sendmail as g
from grammars.twin import LineGrammar

# Within one process, a line this long after the one before it begins a new session:
# Sendmail forks one process per SMTP connection, and process ids come round again.
# An hour is Sendmail's own longest wait for a client's next command (Timeout.command).
SESSION_GAP = pl.duration(hours=1)


def on(rows: pl.DataFrame, grammar: LineGrammar, engine: Engine) -> pl.DataFrame:
    """The rows whose message matches ``grammar``, with its fields."""
    found_rows = rows.filter(may_match(pl.col("msg"), grammar))
    # Most rows are other kinds of message: no fallback to pyparsing for them (that
    # would be a per-row loop); the differential tests hold the twin to pyparsing.
    found = extract(found_rows["msg"], grammar, engine, fallback=False)
    return pl.concat([found_rows, found.drop("error")], how="horizontal").filter(pl.col("matched"))


def with_client(frame: pl.DataFrame, column: str, engine: Engine) -> pl.DataFrame:
    """``frame`` with ``_name`` and ``_addr``: the client ``column`` names as
    ``host [ip]`` (null where it names none, as ``relay=root@localhost``)."""
    parsed = extract(frame[column].fill_null(""), g.RELAY, engine)
    return frame.with_columns(
        parsed["rname"].alias("_name"),
        pl.when(parsed["matched"]).then(parsed["raddr"]).alias("_addr"),
    )


def peer() -> pl.Expr:
    """The client as the sessions read it: ``name[addr]`` (``[addr]`` when it has no
    name)."""
    return pl.concat_str([pl.col("_name").fill_null(""), pl.lit("["), pl.col("_addr"), pl.lit("]")])


def with_sessions(rows: pl.DataFrame) -> pl.DataFrame:
    """``rows`` with ``_session``: one process (file family, host, pid) serves one
    SMTP client; the n-th run of its lines with no hour's silence is its n-th
    session. The id names Sendmail, so it meets no other reader's."""
    process = ("_fam", "host", "pid")
    gap = (pl.col("ts").diff().over(process) > SESSION_GAP).fill_null(False)
    rows = rows.with_columns((gap.cast(pl.Int32).cum_sum().over(process) + 1).alias("_n"))
    return rows.with_columns(
        pl.concat_str(
            [
                pl.lit("sendmail:"),
                pl.col("_fam").fill_null(""),
                pl.lit(":"),
                pl.col("host").fill_null(""),
                pl.lit(":"),
                pl.col("pid").fill_null(""),
                pl.lit("#"),
                pl.col("_n").cast(pl.String),
            ]
        ).alias("_session"),
        # Where the session begins: its connect sits there.
        pl.col("_g").min().over(*process, "_n").alias("_first"),
    ).drop("_n")


def qid() -> pl.Expr:
    """The queue id, empty where the line has none (its transaction is then the one
    the session is in)."""
    return pl.col("qid").fill_null("")
