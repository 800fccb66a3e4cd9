"""The sender and delivery records -> the dialogue of each message: MAIL with the
sender, one accepted RCPT per recipient its delivery records name (the dialogue
accepted them, whatever became of them later), DATA; and the MAIL a refusal implies
where no sender record is in the log."""

from __future__ import annotations

import polars as pl

from forensics.core.lineparse import Engine
from forensics.readers.postfix.event_rows import mail_from, rcpt_to
from forensics.readers.sendmail.fields import on, qid, with_client
from forensics.readers.sendmail.inbound import inbound
from grammars import sendmail as g

# How an accepted RCPT's reply names the mailer that took the message off the
# queue (knowledge/domains.toml proves a local domain from "delivered by local").
DELIVERED_BY = "queued; delivered by "
# DATA and its reply come after every RCPT, however many recipients there were.
_DATA_SUB = 1_000_000


def senders(rows: pl.DataFrame, engine: Engine) -> pl.DataFrame:
    """Every sender record, with the client its relay= names (null for mail given
    to sendmail on the command line: ``relay=root@localhost``)."""
    found = on(rows, g.FROM, engine).with_columns(
        pl.col("from_addr").str.strip_chars("<>").alias("_sender"),
        pl.col("nrcpts").cast(pl.Int64, strict=False).alias("_nrcpts"),
    )
    return with_client(found, "relay", engine)


def deliveries(rows: pl.DataFrame, engine: Engine) -> pl.DataFrame:
    """Every delivery record, one row per recipient it names (``to=`` is a list)."""
    found = on(rows, g.TO, engine).with_columns(
        pl.col("to_list").str.split(",").alias("_rcpt"),
        pl.col("_g").alias("_dg"),
    )
    return found.explode("_rcpt").with_columns(
        pl.col("_rcpt").str.strip_chars(" ").str.strip_chars("<>"),
        (pl.int_range(pl.len()).over("_dg")).alias("_k"),
    )


def messages(
    receipts: pl.DataFrame, delivered: pl.DataFrame, refused: pl.DataFrame
) -> list[pl.DataFrame]:
    """The events of each message received over SMTP (``receipts``: its sender
    record names a client), and the MAIL of transactions only refusals show
    (``refused``: the RCPT refusals, with ``_session`` and ``qid``)."""
    key = ["_session", "_qid"]
    received = receipts.with_columns(qid().alias("_qid"))
    refused = refused.with_columns(qid().alias("_qid"))
    # MAIL comes before the first line of its transaction (a refused RCPT is logged
    # before the sender record, which Sendmail writes when the transaction ends).
    starts = (
        pl.concat([received.select(*key, "_g"), refused.select(*key, "_g")])
        .group_by(key)
        .agg(pl.col("_g").min().alias("_start"))
    )
    received = received.join(starts, on=key, how="left")
    implied = (
        refused.join(received.select(key), on=key, how="anti")
        .sort("_g")
        .unique(key, keep="first", maintain_order=True)
    )
    accepted = (
        delivered.drop("_session", "_first")
        .unique(["host", "qid", "_rcpt"], keep="first", maintain_order=True)
        .join(
            received.select(
                "host",
                "qid",
                "_session",
                pl.col("_g").alias("_rg"),
                pl.col("ts").alias("_rts"),
            ),
            on=["host", "qid"],
            how="inner",
        )
        .with_columns((pl.int_range(pl.len()).over("host", "qid") * 2).alias("_k"))
    )
    at_sender = pl.col("_rg")
    took = received.filter(pl.col("_nrcpts").fill_null(0) > 0)
    return [
        inbound(
            received,
            order=pl.col("_start"),
            sub=2,
            kind="command",
            verb="MAIL",
            arg=mail_from(pl.col("_sender")),
        ),
        inbound(received, order=pl.col("_start"), sub=3, kind="reply", code=pl.lit(250)),
        inbound(implied, sub=2, kind="command", verb="MAIL", arg=mail_from(pl.lit("", pl.String))),
        inbound(
            implied,
            sub=3,
            kind="reply",
            code=pl.lit(250),
            text=pl.lit("(accepted; implied by the later reject)"),
        ),
        inbound(
            accepted,
            order=at_sender,
            sub=pl.col("_k") + 10,
            kind="command",
            verb="RCPT",
            arg=rcpt_to(pl.col("_rcpt")),
            ts=pl.col("_rts"),
        ),
        inbound(
            accepted,
            order=at_sender,
            sub=pl.col("_k") + 11,
            kind="reply",
            code=pl.lit(250),
            # Where the queue sent it: a local delivery proves a local domain.
            text=_delivered_by(),
            ts=pl.col("_rts"),
        ),
        inbound(took, sub=_DATA_SUB, kind="command", verb="DATA"),
        inbound(took, sub=_DATA_SUB + 1, kind="reply", code=pl.lit(250)),
    ]


def _delivered_by() -> pl.Expr:
    mailer = pl.col("mailer").fill_null("")
    by = pl.concat_str([pl.lit(DELIVERED_BY), mailer, pl.lit(" mailer="), mailer])
    return (
        pl.when(pl.col("relay").is_not_null() & (pl.col("relay") != ""))
        .then(pl.concat_str([by, pl.lit(" relay="), pl.col("relay")]))
        .otherwise(by)
    )
