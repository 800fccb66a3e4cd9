"""Delivery lines that name the host they talked to -> outbound sessions: one per
line (an attempt), with MAIL, the RCPT and the reply the line gives (the remote's
own, as ``SMTP error from remote mail server after RCPT TO:<x>: 550 ...`` quotes
it, or 250 with its confirmation ``C="..."`` for a delivery), DATA when the message
was sent or refused at its data."""

from __future__ import annotations

from functools import partial

import polars as pl

from forensics.core.lineparse import Engine, extract
from forensics.readers.postfix.event_rows import event, mail_from, rcpt_to
from forensics.readers.postfix.fields import reply_parts
from grammars import exim as g
from grammars import smtp

_outbound = partial(event, session=pl.col("_session"), direction="outbound", order=pl.col("_g"))


def attempts(delivered: pl.DataFrame, senders: pl.DataFrame, engine: Engine) -> list[pl.DataFrame]:
    """The events of each delivery line to a host (``senders``: ``qid`` and
    ``_from``, each message's sender from its arrival)."""
    out = _attempts(delivered, engine)
    if out.height == 0:
        return []
    out = out.join(senders, on="qid", how="left").with_columns(
        pl.coalesce("from_addr", "return_path", "_from").alias("_from")
    )
    sent = pl.col("_done") == "delivered"
    after = pl.col("after").fill_null("")
    at_mail = after.str.starts_with("MAIL")
    at_rcpt = after.str.starts_with("RCPT")
    at_data = after.str.contains("(?i)data") | after.str.starts_with("BDAT")
    talked = out.filter(sent | ((at_mail | at_rcpt | at_data) & pl.col("r_code").is_not_null()))
    with_from = out.filter(pl.col("_from").is_not_null())
    ok = pl.lit(250)
    return [
        _outbound(
            out,
            sub=0,
            kind="connect",
            arg=pl.concat_str([pl.col("_oname"), pl.lit("["), pl.col("_oip"), pl.lit("]")]),
            text=pl.concat_str(
                [
                    pl.lit("relay="),
                    pl.col("_oname"),
                    pl.lit("["),
                    pl.col("_oip"),
                    pl.lit("]"),
                    pl.when(pl.col("_hport").is_not_null())
                    .then(pl.concat_str([pl.lit(":"), pl.col("_hport")]))
                    .otherwise(pl.lit("")),
                ]
            ),
        ),
        _outbound(with_from, sub=1, kind="command", verb="MAIL", arg=mail_from(pl.col("_from"))),
        _outbound(
            with_from,
            sub=2,
            kind="reply",
            code=pl.when(at_mail).then(pl.col("r_code")).otherwise(ok),
            status=pl.when(at_mail).then(pl.col("r_status")),
            text=pl.when(at_mail).then(pl.col("r_text")),
        ),
        _outbound(talked, sub=3, kind="command", verb="RCPT", arg=rcpt_to(pl.col("addr"))),
        _outbound(
            talked,
            sub=4,
            kind="reply",
            code=pl.when(at_mail | at_rcpt).then(pl.col("r_code")).otherwise(ok),
            status=pl.when(at_mail | at_rcpt).then(pl.col("r_status")),
            text=pl.when(at_mail | at_rcpt).then(pl.col("r_text")),
        ),
        _outbound(talked.filter(sent | at_data), sub=5, kind="command", verb="DATA"),
        _outbound(
            talked.filter(sent | at_data),
            sub=6,
            kind="reply",
            code=pl.when(at_data).then(pl.col("r_code")).otherwise(ok),
            status=pl.when(at_data).then(pl.col("r_status")).otherwise(pl.col("_c_status")),
            text=pl.when(at_data).then(pl.col("r_text")).otherwise(pl.col("_c_text")),
        ),
        _outbound(
            out.filter(~sent & ~(at_mail | at_rcpt | at_data)),
            sub=7,
            kind="note",
            text=pl.col("_rest"),
        ),
    ]


def _attempts(delivered: pl.DataFrame, engine: Engine) -> pl.DataFrame:
    """The delivery lines that name a host with its address (``H=name [ip]``, or
    ``host name [ip]`` in the quoted error of older releases), each its own session,
    with the remote's reply and the command it answered."""
    said = delivered.with_columns(
        pl.col("tail").str.extract(g.REMOTE_ERROR_SPLIT, 1).alias("_error"),
        pl.col("tail").str.extract(g.CONFIRMATION, 1).alias("_confirm"),
    )
    parsed = extract(said["_error"], g.REMOTE_ERROR, engine)
    said = pl.concat(
        [said, parsed.select("after", "rname", "rip", pl.col("said").alias("_said"))],
        how="horizontal",
    ).with_columns(
        pl.coalesce("_hname", "rname").alias("_oname"),
        pl.coalesce("_hip", "rip").alias("_oip"),
    )
    out = said.filter(pl.col("_oip").is_not_null())
    if out.height == 0:
        return out
    out = out.with_columns(
        pl.concat_str(
            [
                pl.lit("exim:"),
                pl.col("_fam").fill_null(""),
                pl.lit(":"),
                pl.col("qid").fill_null(""),
                pl.lit(">"),
                pl.col("_oname"),
                pl.lit("["),
                pl.col("_oip"),
                pl.lit("]@"),
                pl.col("ts").dt.strftime("%Y-%m-%dT%H:%M:%S").fill_null(""),
                pl.lit("#"),
                pl.col("_g").cast(pl.String),
            ]
        ).alias("_session")
    )
    # The remote's confirmation of a delivery, as a reply: "250 2.0.0 queued as 4AB".
    confirmed = extract(out["_confirm"], smtp.REPLY, engine)
    out = out.with_columns(
        confirmed["status"].alias("_c_status"), confirmed["text"].alias("_c_text")
    )
    return reply_parts(out, "_said", engine)
