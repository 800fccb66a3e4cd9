"""smtp/lmtp delivery attempts to a relay -> outbound sessions: MAIL, RCPT and the
remote's reply as the ``status=`` detail quotes it (``host h[ip] said: 550 ...
(in reply to RCPT TO command)``), DATA when it was sent."""

from __future__ import annotations

from functools import partial

import polars as pl

from forensics.core.lineparse import Engine, extract
from forensics.readers.postfix.event_rows import event, mail_from, rcpt_to
from forensics.readers.postfix.fields import reply_parts
from grammars import postfix as g

OUTBOUND_AGENTS = ("smtp", "lmtp")

# An outbound event belongs to its attempt and sorts by its line.
_outbound = partial(event, session=pl.col("_session"), direction="outbound", order=pl.col("_g"))


def outbound_attempts(deliveries: pl.DataFrame, engine: Engine) -> list[pl.DataFrame]:
    """The events of each attempt (``deliveries`` with their ``_sender``)."""
    out = _attempts(deliveries, engine)
    if out.height == 0:
        return []
    first = out.unique("_session", keep="first", maintain_order=True)
    with_sender = first.filter(pl.col("_sender").is_not_null())
    sent = pl.col("status") == "sent"
    at_rcpt = pl.col("_in_reply_to").str.starts_with("RCPT").fill_null(False)
    at_data = pl.col("_in_reply_to").str.contains("DATA").fill_null(False)
    at_mail = pl.col("_in_reply_to").str.starts_with("MAIL").fill_null(False)
    # The remote refused at RCPT or before it: its reply answers the RCPT.
    refused_by_now = at_rcpt | at_mail
    talked = out.filter(sent | pl.col("r_code").is_not_null())
    ok = pl.lit(250)
    return [
        # With its port: a hand-off to a content filter is told by it (derive/submission).
        _outbound(
            first,
            sub=0,
            kind="connect",
            arg=pl.col("_peer"),
            text=pl.concat_str([pl.lit("relay="), pl.col("relay")]),
        ),
        _outbound(
            with_sender, sub=1, kind="command", verb="MAIL", arg=mail_from(pl.col("_sender"))
        ),
        _outbound(
            with_sender,
            sub=2,
            kind="reply",
            code=pl.when(at_mail).then(pl.col("r_code")).otherwise(ok),
            text=pl.when(at_mail).then(pl.col("r_text")),
        ),
        _outbound(talked, sub=3, kind="command", verb="RCPT", arg=rcpt_to(pl.col("to_addr"))),
        _outbound(
            talked,
            sub=4,
            kind="reply",
            code=pl.when(refused_by_now).then(pl.col("r_code")).otherwise(ok),
            status=pl.when(refused_by_now).then(pl.col("r_status")).otherwise(pl.col("dsn")),
            text=pl.when(refused_by_now).then(pl.col("r_text")).otherwise(pl.col("_detail")),
        ),
        _outbound(talked.filter(sent | at_data), sub=5, kind="command", verb="DATA"),
        _outbound(
            talked.filter(sent | at_data),
            sub=6,
            kind="reply",
            code=pl.when(at_data).then(pl.col("r_code")).otherwise(ok),
            text=pl.when(at_data).then(pl.col("r_text")).otherwise(pl.col("_detail")),
        ),
        _outbound(
            out.filter(~sent & pl.col("r_code").is_null()),
            sub=7,
            kind="note",
            text=pl.col("_detail"),
        ),
    ]


def _attempts(deliveries: pl.DataFrame, engine: Engine) -> pl.DataFrame:
    """The deliveries to a relay, each its own session, with the remote's reply and
    the command it answered."""
    out = deliveries.filter(
        pl.col("daemon").is_in(OUTBOUND_AGENTS) & pl.col("relay").str.contains(r"\[")
    ).with_columns(
        pl.concat_str(
            [
                pl.col("qid"),
                pl.lit(">"),
                pl.col("relay"),
                pl.lit("@"),
                pl.col("ts").dt.strftime("%Y-%m-%dT%H:%M:%S"),
            ]
        ).alias("_session"),
        pl.col("relay").str.replace(r":[0-9]+$", "").alias("_peer"),
    )
    if out.height == 0:
        return out
    said = extract(out["detail"], g.SAID, engine, fallback=False)  # most details are no reply
    out = pl.concat([out, said.select("said")], how="horizontal").with_columns(
        pl.col("said").str.extract(g.IN_REPLY_SPLIT, 1).alias("_said"),
        pl.col("said").str.extract(g.IN_REPLY_SPLIT, 2).alias("_in_reply_to"),
        pl.col("detail").str.strip_suffix(")").alias("_detail"),
    )
    return reply_parts(out, "_said", engine)
