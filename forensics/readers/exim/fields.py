"""Exim messages -> their fields: what opens each message (its stamp where the
header reader left it, the process id, the message id), the rows a grammar takes,
the client as the sessions read it, and the inbound session of each client line."""

from __future__ import annotations

import polars as pl

from forensics.core.lineparse import Engine, extract, may_match
from grammars import exim as g
from grammars.twin import LineGrammar

# Without a process id or a connection id to tell connections apart, the lines of one
# client address make one session until this long a silence: Exim's own default
# wait for a client's next command or data (smtp_receive_timeout) is five minutes.
SESSION_GAP = pl.duration(minutes=5)


def opened(rows: pl.DataFrame, engine: Engine) -> pl.DataFrame:
    """``rows`` with ``qid`` (the message id, null where the line has none), ``_rest``
    (the message after it), ``pid`` (the syslog's, else Exim's ``[pid]``) and
    ``_cont`` (a later part of an entry syslog split: read with its first part)."""
    rows = joined_parts(rows, engine)
    lead = extract(rows["msg"], g.LEAD, engine)
    return rows.with_columns(
        lead["qid"].alias("qid"),
        pl.when(~pl.col("_cont")).then(lead["rest"]).fill_null("").alias("_rest"),
        pl.coalesce(pl.col("pid"), lead["lpid"], lead["spid"]).alias("pid"),
    )


def joined_parts(rows: pl.DataFrame, engine: Engine) -> pl.DataFrame:
    r"""The parts of each entry syslog split (``[1/3] ...``, ``[2/3] ...``) joined: the
    first part's message becomes the entry's first line (its parts up to the first
    one cut at a newline, ``[n\m]``); the later parts are ``_cont`` (what follows
    the first line of a reject-log entry is the message's headers). Parts are told
    apart per process (file family, host, pid) and in line order."""
    marked = rows.filter(pl.col("msg").str.starts_with("["))
    found = extract(marked["msg"], g.PART, engine, fallback=False)
    parts = pl.concat([marked.select("_g", "_fam", "host", "pid"), found], how="horizontal")
    parts = parts.filter(pl.col("matched"))
    if parts.height == 0:
        return rows.with_columns(pl.lit(False).alias("_cont"))
    process = ["_fam", "host", "pid"]
    first_part = (pl.col("part") == "1").cast(pl.Int32)
    parts = parts.sort("_g").with_columns(first_part.cum_sum().over(process).alias("_entry"))
    entry = [*process, "_entry"]
    # Which line of the entry a part is on: the newlines cut before it.
    line_of = (pl.col("cut") == "\\").cast(pl.Int32).cum_sum().shift(1, fill_value=0)
    parts = parts.with_columns(line_of.over(entry).alias("_line_of"))
    heads = (
        parts.filter((pl.col("_entry") > 0) & (pl.col("_line_of") == 0))
        .group_by(entry, maintain_order=True)
        .agg(pl.col("_g").first(), pl.col("content").fill_null("").str.join(""))
        .select("_g", pl.col("content").alias("_joined"))
    )
    later = parts.join(heads, on="_g", how="anti").select("_g", pl.lit(True).alias("_c"))
    rows = rows.join(heads, on="_g", how="left", maintain_order="left").join(
        later, on="_g", how="left", maintain_order="left"
    )
    return rows.with_columns(
        pl.coalesce("_joined", "msg").alias("msg"),
        pl.col("_c").fill_null(False).alias("_cont"),
    ).drop("_joined", "_c")


def on(rows: pl.DataFrame, grammar: LineGrammar, engine: Engine) -> pl.DataFrame:
    """The rows whose message (after its id) ``grammar`` takes, with its fields."""
    found_rows = rows.filter(may_match(pl.col("_rest"), grammar))
    # Most rows are other kinds of message: no fallback to pyparsing for them (that
    # would be a per-row loop); the differential tests hold the twin to pyparsing.
    found = extract(found_rows["_rest"], grammar, engine, fallback=False)
    clash = [c for c in found.columns if c in found_rows.columns and c not in ("matched", "error")]
    found = found.rename({c: f"{c}_" for c in clash})
    return pl.concat([found_rows, found.drop("error")], how="horizontal").filter(pl.col("matched"))


def peer(name: str = "name", ip: str = "ip") -> pl.Expr:
    """The client as the sessions read it, ``name[ip]`` (Postfix's form): the name
    only where Exim verified it, ``unknown`` otherwise, as Postfix writes it."""
    return pl.concat_str([pl.col(name).fill_null("unknown"), pl.lit("["), pl.col(ip), pl.lit("]")])


def with_sessions(lines: pl.DataFrame) -> pl.DataFrame:
    """``lines`` (the lines naming a client: ``_g``, ``ts``, ``_fam``, ``pid``, ``ci``,
    ``ip``, ``_opens``, ``_ends``) with ``_session`` and ``_first`` (where it begins).

    A connection is told by Exim's connection id (``Ci=``, log_selector
    +connection_id) or its process id (+pid: one process serves one connection)
    where the line has one, and by the client's address: the lines of one such
    key belong to one session, which a new one follows after an ``SMTP connection
    from`` line, after a line that ends a connection (closed, lost, dropped, no
    MAIL) or after five minutes of silence. The id names Exim, so it meets no other
    reader's."""
    key = pl.concat_str(
        [
            pl.lit("exim:"),
            pl.col("_fam").fill_null(""),
            pl.lit(":"),
            pl.coalesce("ci", "pid").fill_null(""),
            pl.lit(":"),
            pl.col("ip"),
        ]
    ).alias("_key")
    lines = lines.sort("_g").with_columns(key)
    gap = (pl.col("ts").diff().over("_key") > SESSION_GAP).fill_null(False)
    after_end = pl.col("_ends").shift(1).over("_key").fill_null(False)
    starts = (pl.col("_opens") | gap | after_end).cast(pl.Int32)
    # Numbered from 1 in each key, whether its first line opens a connection or not.
    n = starts.cum_sum().over("_key") - starts.first().over("_key") + 1
    lines = lines.with_columns(n.alias("_n"))
    lines = lines.with_columns(
        pl.concat_str([pl.col("_key"), pl.lit("#"), pl.col("_n").cast(pl.String)]).alias("_session")
    )
    lines = _connects_joined(lines)
    return lines.with_columns(pl.col("_g").min().over("_session").alias("_first")).drop(
        "_key", "_n"
    )


def _connects_joined(lines: pl.DataFrame) -> pl.DataFrame:
    """Before 4.97 the daemon wrote ``SMTP connection from`` before it forked, with its
    own process id, not the one of the process that served the connection: each
    such line joins the session of the next line naming the same client address
    (if that comes within five minutes), whatever its process id."""
    client = ["_fam", "ip"]
    ordered = lines.sort("_g")
    served = pl.col("_kind") != "connect"
    nxt = ordered.select(
        pl.when(served).then(pl.col("_session")).backward_fill().over(client).alias("_next"),
        pl.when(served).then(pl.col("ts")).backward_fill().over(client).alias("_next_ts"),
    )
    joins = (
        ~served
        & nxt["_next"].is_not_null()
        & ((nxt["_next_ts"] - pl.col("ts")) <= SESSION_GAP).fill_null(False)
    )
    return ordered.with_columns(
        pl.when(joins).then(nxt["_next"]).otherwise(pl.col("_session")).alias("_session")
    )
