"""smtpd's ``reject:`` lines -> the refused command and its reply, with the HELO and
MAIL the refusal implies came before it."""

from __future__ import annotations

import polars as pl

from forensics.core.lineparse import Engine, extract
from forensics.readers.postfix.event_rows import inbound, mail_from, rcpt_to
from forensics.readers.postfix.fields import on, reply_parts
from grammars import postfix as g


def rejections(smtpd: pl.DataFrame, engine: Engine) -> list[pl.DataFrame]:
    """The events of each refused command."""
    rejects = _rejects(smtpd, engine)
    first_helo = rejects.filter(pl.col("helo").is_not_null()).unique(
        "_session", keep="first", maintain_order=True
    )
    mail_ok = rejects.filter(pl.col("cmd") != "MAIL")
    sender = mail_from(pl.col("from_addr").fill_null(""))
    return [
        inbound(first_helo, sub=1, kind="command", verb="HELO", arg=pl.col("helo")),
        inbound(mail_ok, sub=2, kind="command", verb="MAIL", arg=sender),
        inbound(
            mail_ok,
            sub=3,
            kind="reply",
            code=pl.lit(250),
            text=pl.lit("(accepted; implied by the later reject)"),
        ),
        inbound(
            rejects.filter(pl.col("cmd") == "RCPT"),
            sub=4,
            kind="command",
            verb="RCPT",
            arg=rcpt_to(pl.col("to_addr").fill_null("")),
        ),
        inbound(
            rejects.filter(pl.col("cmd") != "RCPT"),
            sub=4,
            kind="command",
            verb=pl.col("cmd"),
            arg=pl.when(pl.col("cmd") == "MAIL").then(sender),
        ),
        inbound(
            rejects,
            sub=5,
            kind="reply",
            code=pl.col("r_code"),
            status=pl.col("r_status"),
            text=pl.col("r_text"),
        ),
    ]


def _rejects(smtpd: pl.DataFrame, engine: Engine) -> pl.DataFrame:
    """The reject lines with the command, the reply's parts and the trailer's sender,
    recipient and HELO."""
    rejects = on(smtpd, ("smtpd",), g.REJECT, engine).with_columns(
        pl.col("reply").str.extract(g.REJECT_TRAILER_SPLIT, 1).alias("_reply"),
        pl.col("reply").str.extract(g.REJECT_TRAILER_SPLIT, 2).alias("_trailer"),
    )
    # A refused RCPT names its recipient in the trailer, always: one without it was
    # cut short (the unread-facts check reports it), and its recipient is unknown.
    rejects = rejects.filter(~((pl.col("cmd") == "RCPT") & pl.col("_trailer").is_null()))
    trailer = extract(rejects["_trailer"], g.REJECT_TRAILER, engine)
    rejects = pl.concat(
        [rejects, trailer.select("from_addr", "to_addr", "helo")], how="horizontal"
    ).with_columns(pl.coalesce("_reply", "reply").alias("_reply"))
    return reply_parts(rejects, "_reply", engine)
