"""Delivery records to a host -> outbound sessions: one per record (an attempt),
with MAIL, the RCPT of each recipient it names and the reply stat= gives, DATA when
the message was sent. Sendmail's stat= is its own word for the outcome (``Sent``,
``User unknown``, ``Service unavailable``) with the remote's reply only in some
(``Deferred: 451 4.7.1 ...``); where it quotes none, the reply code is the class
of dsn= (2.x.x: 250, 4.x.x: 450, 5.x.x: 550)."""

from __future__ import annotations

from functools import partial

import polars as pl

from forensics.core.lineparse import Engine, extract
from forensics.readers.postfix.event_rows import event, mail_from, rcpt_to
from forensics.readers.postfix.fields import reply_parts
from forensics.readers.sendmail.fields import peer, with_client
from grammars import sendmail as g

_outbound = partial(event, session=pl.col("_session"), direction="outbound", order=pl.col("_g"))
_DATA_SUB = 1_000_000
_CLASS_CODE = {"2": 250, "4": 450, "5": 550}


def attempts(delivered: pl.DataFrame, senders: pl.DataFrame, engine: Engine) -> list[pl.DataFrame]:
    """The events of each delivery record that names the host it talked to."""
    out = _attempts(delivered, engine)
    if out.height == 0:
        return []
    sender = senders.unique(["host", "qid"], keep="first").select(
        "host", "qid", pl.col("_sender").alias("_from")
    )
    out = out.join(sender, on=["host", "qid"], how="left")
    first = out.filter(pl.col("_k") == 0)
    sent = pl.col("stat_word") == "Sent"
    talked = out.filter(sent | pl.col("_code").is_not_null())
    ok = pl.lit(250)
    return [
        _outbound(
            first,
            sub=0,
            kind="connect",
            arg=peer(),
            text=pl.concat_str([pl.lit("relay="), pl.col("relay")]),
        ),
        _outbound(
            first.filter(pl.col("_from").is_not_null()),
            sub=1,
            kind="command",
            verb="MAIL",
            arg=mail_from(pl.col("_from")),
        ),
        _outbound(first.filter(pl.col("_from").is_not_null()), sub=2, kind="reply", code=ok),
        _outbound(
            talked,
            sub=pl.col("_k") * 2 + 3,
            kind="command",
            verb="RCPT",
            arg=rcpt_to(pl.col("_rcpt")),
        ),
        _outbound(
            talked,
            sub=pl.col("_k") * 2 + 4,
            kind="reply",
            code=pl.col("_code"),
            status=pl.coalesce("r_status", "dsn"),
            text=pl.coalesce("r_text", "stat"),
        ),
        _outbound(first.filter(sent), sub=_DATA_SUB, kind="command", verb="DATA"),
        _outbound(
            first.filter(sent), sub=_DATA_SUB + 1, kind="reply", code=ok, text=pl.col("stat")
        ),
        _outbound(
            first.filter(~sent & pl.col("_code").is_null()),
            sub=_DATA_SUB + 2,
            kind="note",
            text=pl.col("stat"),
        ),
    ]


def _attempts(delivered: pl.DataFrame, engine: Engine) -> pl.DataFrame:
    """The delivery records whose relay= names a host with its address, each its
    own session, with the reply their stat= quotes or their dsn= implies."""
    out = with_client(delivered.filter(pl.col("relay").str.contains(r"\[")), "relay", engine)
    out = out.filter(pl.col("_addr").is_not_null())
    if out.height == 0:
        return out
    out = out.with_columns(
        pl.concat_str(
            [
                pl.lit("sendmail:"),
                pl.col("host").fill_null(""),
                pl.lit(":"),
                pl.col("qid").fill_null(""),
                pl.lit(">"),
                pl.col("relay"),
                pl.lit("@"),
                pl.col("ts").dt.strftime("%Y-%m-%dT%H:%M:%S").fill_null(""),
                pl.lit("#"),
                pl.col("_dg").cast(pl.String),
            ]
        ).alias("_session")
    )
    said = extract(out["stat"], g.STAT_REPLY, engine)
    out = pl.concat([out, said.select("stat_word", "said")], how="horizontal")
    out = reply_parts(out, "said", engine)
    by_class = pl.col("dsn").str.slice(0, 1).replace_strict(_CLASS_CODE, default=None)
    return out.with_columns(
        pl.coalesce(
            pl.col("r_code").cast(pl.Int64),
            pl.when(pl.col("stat_word") == "Sent").then(pl.lit(250)),
            pl.when(pl.col("stat_word") != "Deferred").then(by_class),
        ).alias("_code")
    )
