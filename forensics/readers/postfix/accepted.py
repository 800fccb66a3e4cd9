"""smtpd's ``client=`` lines -> the dialogue of each accepted message: AUTH when the
client logged in, MAIL with the queue manager's sender, one accepted RCPT per
recipient its delivery lines name (the dialogue accepted them, whatever became of
them later), and DATA."""

from __future__ import annotations

import polars as pl

from forensics.core.lineparse import Engine
from forensics.readers.postfix.event_rows import inbound, mail_from, rcpt_to
from forensics.readers.postfix.fields import on
from grammars import postfix as g

# How an accepted RCPT's reply names the agent that took the message off the queue.
DELIVERED_BY = "queued; delivered by "
# DATA and its reply come after every RCPT, however many recipients there were.
_DATA_SUB = 1_000_000


def accepted_messages(
    smtpd: pl.DataFrame, senders: pl.DataFrame, deliveries: pl.DataFrame, engine: Engine
) -> list[pl.DataFrame]:
    """The events of each message smtpd queued."""
    clients = on(smtpd, ("smtpd",), g.CLIENT, engine)
    queued = clients.select(
        "qid",
        "_session",
        pl.col("_g").alias("_cg"),
        pl.col("ts").alias("_cts"),
        pl.col("source").alias("_csrc"),
        pl.col("line").alias("_cline"),
    ).unique("qid", keep="last", maintain_order=True)
    # The client's RCPT named the address before alias expansion (orig_to=): a local
    # alias forwarded to an outside mailbox is not the client asking us to relay.
    accepted = (
        deliveries.with_columns(
            pl.coalesce(pl.col("orig_to").replace("", None), pl.col("to_addr")).alias("_rcpt")
        )
        .unique(["qid", "_rcpt"], keep="first", maintain_order=True)
        .join(queued, on="qid", how="inner")
        .join(senders, on="qid", how="left")
        # Each RCPT must be followed by its own reply: number them within the message.
        .with_columns((pl.int_range(pl.len()).over("qid") * 2).alias("_k"))
    )
    # Every event of a message sits where its client= line is, and cites it.
    with_sender = queued.join(senders, on="qid", how="left").with_columns(
        pl.col("_csrc").alias("source"), pl.col("_cline").alias("line"), pl.col("_cts").alias("ts")
    )
    at_client = pl.col("_cg")
    ok = pl.lit(250)
    return [
        *_authentications(clients),
        inbound(
            with_sender,
            order=at_client,
            sub=2,
            kind="command",
            verb="MAIL",
            arg=mail_from(pl.col("_sender").fill_null("")),
        ),
        inbound(with_sender, order=at_client, sub=3, kind="reply", code=ok),
        inbound(
            accepted,
            order=at_client,
            sub=pl.col("_k") + 10,
            kind="command",
            verb="RCPT",
            arg=rcpt_to(pl.col("_rcpt")),
            ts=pl.col("_cts"),
        ),
        inbound(
            accepted,
            order=at_client,
            sub=pl.col("_k") + 11,
            kind="reply",
            code=ok,
            # Where the queue sent it: a local delivery proves a local domain.
            text=pl.concat_str(
                [pl.lit(DELIVERED_BY), pl.col("daemon"), pl.lit(" relay="), pl.col("relay")]
            ),
            ts=pl.col("_cts"),
        ),
        inbound(with_sender, order=at_client, sub=_DATA_SUB, kind="command", verb="DATA"),
        inbound(with_sender, order=at_client, sub=_DATA_SUB + 1, kind="reply", code=ok),
    ]


def _authentications(clients: pl.DataFrame) -> list[pl.DataFrame]:
    """AUTH and its reply for each client= line that names a SASL user."""
    authed = clients.filter(pl.col("sasl_username").is_not_null() & (pl.col("sasl_username") != ""))
    # AUTH before its 235 on the same client= line (the sort keeps no ties in order);
    # the connect, at sub 0 too, is on its own line.
    return [
        inbound(
            authed,
            sub=0,
            kind="command",
            verb="AUTH",
            arg=pl.concat_str([pl.lit("user="), pl.col("sasl_username")]),
        ),
        inbound(authed, sub=1, kind="reply", code=pl.lit(235), text=pl.lit("(authenticated)")),
    ]
