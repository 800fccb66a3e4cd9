"""Arrivals (``<=``) and the delivery lines of the same message id -> the dialogue of
each message an SMTP client gave: AUTH when it logged in (``A=``), MAIL with the
sender, one accepted RCPT per recipient the message's lines name (the dialogue
accepted them, whatever became of them later), DATA."""

from __future__ import annotations

import polars as pl

from forensics.core.lineparse import Engine
from forensics.readers.exim.fields import on
from forensics.readers.exim.inbound import inbound
from forensics.readers.postfix.event_rows import mail_from, rcpt_to
from grammars import exim as g

# How an accepted RCPT's reply names what took the message off the queue
# (knowledge/domains.toml proves a local domain from "delivered by local").
DELIVERED_BY = "queued; delivered by "
# DATA and its reply come after every RCPT, however many recipients there were.
_DATA_SUB = 1_000_000
# The flags of the lines that deliver, fail or defer one recipient of a message.
_DONE = {"=>": "delivered", "->": "delivered", ">>": "delivered", "**": "failed", "==": "deferred"}


def deliveries(rows: pl.DataFrame, engine: Engine) -> pl.DataFrame:
    """Every delivery line (``=> -> >> ** ==``; a blank flag only with ``defer``, as
    OSSEC's excerpts show old deferrals), with the recipient the client named
    (``_rcpt``: the original address where Exim gives one), the host it went to
    (``_hname``, ``_hip``, ``_hport``) and what became of it (``_done``)."""
    found = on(rows, g.DELIVERY, engine).with_columns(
        pl.when((pl.col("flag").fill_null("") == "") & pl.col("errno").is_not_null())
        .then(pl.lit("=="))
        .otherwise(pl.col("flag"))
        .alias("_flag")
    )
    found = found.filter(pl.col("_flag").is_in(list(_DONE)))
    host = pl.col("tail").str.extract_groups(g.HOST_IN_TAIL)
    found = found.with_columns(
        pl.coalesce(pl.col("orig"), pl.col("addr")).alias("_rcpt"),
        pl.col("_flag").replace_strict(_DONE, default=None).alias("_done"),
        host.struct.field("1").alias("_hname"),
        host.struct.field("2").alias("_hip"),
        host.struct.field("3").alias("_hport"),
        pl.col("tail").str.extract(g.HOST_NAMED, 1).alias("_hnamed"),
    )
    return found.with_columns(reply_text().alias("_reply"))


def arrivals(lines: pl.DataFrame) -> pl.DataFrame:
    """The arrivals of the client lines (``lines["arrival"]``) with the sender and
    the recipients Exim lists after ``for``."""
    return lines.filter(pl.col("flag") == "<=").with_columns(
        pl.col("sender").alias("_sender"),
        pl.col("more").str.extract(g.FOR_SPLIT, 1).str.split(" ").alias("_for"),
    )


def messages(received: pl.DataFrame, delivered: pl.DataFrame) -> list[pl.DataFrame]:
    """The events of each message received from a client (``received``, from
    :func:`arrivals`) and its recipients (``delivered``)."""
    at = received.select(
        "qid",
        "_session",
        pl.col("_g").alias("_ag"),
        pl.col("ts").alias("_ats"),
    ).unique("qid", keep="first", maintain_order=True)
    # Each RCPT cites the line that names it: its delivery line, else the arrival.
    # A filter's autoreply (">user") is mail the server sent, not a recipient of the
    # message it answers.
    by_line = (
        delivered.filter(~pl.col("addr").str.starts_with(">"))
        .select("qid", "_g", "source", "line", "_rcpt", pl.col("_reply").alias("_text"))
        .with_columns(pl.lit(0).alias("_from_for"))
    )
    listed = (
        received.select("qid", "_g", "source", "line", pl.col("_for").alias("_rcpt"))
        .explode("_rcpt")
        .filter(pl.col("_rcpt").is_not_null() & (pl.col("_rcpt") != ""))
        .with_columns(
            pl.concat_str([pl.lit("queued as "), pl.col("qid")]).alias("_text"),
            pl.lit(1).alias("_from_for"),
        )
    )
    # A recipient once, with what its first delivery line says (else "queued as").
    rcpts = (
        pl.concat([by_line, listed.select(by_line.columns)])
        .sort("_from_for", "_g")
        .unique(
            [pl.col("qid"), pl.col("_rcpt").str.to_lowercase().alias("_key")],
            keep="first",
            maintain_order=True,
        )
        .sort("_g")
        .join(at, on="qid", how="inner")
        .with_columns((pl.int_range(pl.len()).over("qid") * 2).alias("_k"))
    )
    authed = received.filter(pl.col("authenticator").is_not_null())
    ok = pl.lit(250)
    return [
        inbound(
            authed,
            sub=0,
            kind="command",
            verb="AUTH",
            arg=pl.concat_str([pl.lit("user="), pl.coalesce("auth_id", "authenticator")]),
        ),
        inbound(authed, sub=1, kind="reply", code=pl.lit(235), text=pl.lit("(authenticated)")),
        inbound(received, sub=2, kind="command", verb="MAIL", arg=mail_from(pl.col("_sender"))),
        inbound(received, sub=3, kind="reply", code=ok),
        inbound(
            rcpts,
            order=pl.col("_ag"),
            sub=pl.col("_k") + 10,
            kind="command",
            verb="RCPT",
            arg=rcpt_to(pl.col("_rcpt")),
            ts=pl.col("_ats"),
        ),
        inbound(
            rcpts,
            order=pl.col("_ag"),
            sub=pl.col("_k") + 11,
            kind="reply",
            code=ok,
            text=pl.col("_text"),
            ts=pl.col("_ats"),
        ),
        inbound(received, sub=_DATA_SUB, kind="command", verb="DATA"),
        inbound(received, sub=_DATA_SUB + 1, kind="reply", code=ok),
    ]


def reply_text() -> pl.Expr:
    """What an accepted RCPT's reply says became of it: delivered by a local
    transport (a transport and no host: the domain is this server's),
    handed to a host (``relay=name[ip]:port``, Postfix's form, so that a content
    filter on another port is told), or failed or deferred later."""
    transport = pl.col("transport").fill_null("")
    relay = pl.concat_str(
        [
            pl.lit(" relay="),
            pl.col("_hname"),
            pl.lit("["),
            pl.col("_hip"),
            pl.lit("]"),
            pl.when(pl.col("_hport").is_not_null())
            .then(pl.concat_str([pl.lit(":"), pl.col("_hport")]))
            .otherwise(pl.lit("")),
        ]
    )
    # A local transport given no host by its router ("T=local_delivery"): a host named
    # without an address ("T=dev_null H=ten-1.test.ex", as Exim's test suite fakes a
    # remote delivery) proves nothing.
    local = pl.col("transport").is_not_null() & pl.col("_hnamed").is_null()
    return (
        pl.when((pl.col("_done") == "delivered") & local)
        .then(pl.concat_str([pl.lit(DELIVERED_BY + "local transport="), transport]))
        .when((pl.col("_done") == "delivered") & pl.col("_hip").is_not_null())
        .then(pl.concat_str([pl.lit(DELIVERED_BY + "transport="), transport, relay]))
        .when((pl.col("_done") == "delivered") & pl.col("_hnamed").is_not_null())
        .then(
            pl.concat_str(
                [
                    pl.lit(DELIVERED_BY + "transport="),
                    transport,
                    pl.lit(" host="),
                    pl.col("_hnamed"),
                ]
            )
        )
        .when(pl.col("_done") == "delivered")
        .then(
            pl.concat_str(
                [
                    pl.lit(DELIVERED_BY + "router="),
                    pl.col("router").fill_null(""),
                    pl.lit(" "),
                    pl.col("addr"),
                ]
            )
        )
        .otherwise(
            pl.concat_str(
                [
                    pl.lit("queued; "),
                    pl.col("_done"),
                    pl.lit(" later by router="),
                    pl.col("router").fill_null(""),
                ]
            )
        )
    )
