"""The lines that name an SMTP client -> the inbound sessions' events: the connect
(the client of the session's first line, the name Exim verified of any), the HELO
name, the refusals (``rejected RCPT``, ``rejected after DATA``, local_scan), failed
logins, and notes on what ended or troubled the session."""

from __future__ import annotations

from functools import partial

import polars as pl

from forensics.core.lineparse import Engine
from forensics.readers.exim.fields import on, peer, with_sessions
from forensics.readers.postfix.event_rows import event, mail_from, rcpt_to
from forensics.readers.postfix.fields import reply_parts
from grammars import exim as g
from grammars.twin import LineGrammar

inbound = partial(event, session=pl.col("_session"), direction="inbound", order=pl.col("_g"))

# The lines that name the client, each kind with its grammar, whether it opens a
# connection and whether it ends one.
CLIENT_LINES: dict[str, tuple[LineGrammar, bool, bool]] = {
    "connect": (g.CONNECT, True, False),
    "ended": (g.ENDED, False, True),
    "no_mail": (g.NO_MAIL, False, True),
    "dropped": (g.DROPPED, False, True),
    "sync_error": (g.SYNC_ERROR, False, True),
    "protocol_error": (g.PROTOCOL_ERROR, False, False),
    "auth_failed": (g.AUTH_FAILED, False, False),
    "verify": (g.VERIFY, False, False),
    "vrfy_failed": (g.VRFY_FAILED, False, False),
    "warning": (g.WARNING, False, False),
    "no_host_name": (g.NO_HOST_NAME, False, False),
    "no_host_address": (g.NO_HOST_ADDRESS, False, False),
    "reject": (g.REJECT, False, False),
    "local_scan": (g.LOCAL_SCAN, False, False),
    "rejected_from": (g.REJECTED_FROM, False, False),
    "rejected_helo": (g.REJECTED_HELO, False, False),
    "arrival": (g.ARRIVAL, False, False),
}
_NOTES = (
    "ended",
    "no_mail",
    "dropped",
    "sync_error",
    "protocol_error",
    "verify",
    "vrfy_failed",
    "warning",
    "no_host_name",
    "no_host_address",
    "rejected_helo",
)
_COMMON = ["_g", "source", "line", "ts", "_fam", "pid", "qid", "_rest", "name", "helo", "ip"]
# Exim answers a refusal with 550 (a deny or a failed require), a temporary one with
# 451 (defer); its log names neither (docs/formats/exim.md).
DENY_CODE = 550
DEFER_CODE = 451


def client_lines(rows: pl.DataFrame, engine: Engine) -> dict[str, pl.DataFrame]:
    """Each kind's lines that name a client address, with ``_session`` and
    ``_first``. A line without one (a local submission's ``U=user`` alone, or an
    arrival without ``H=``) is no inbound SMTP session from a client."""
    found: dict[str, pl.DataFrame] = {}
    taken: pl.Series = pl.Series("_g", [], dtype=pl.UInt32)
    for kind, (grammar, opens, ends) in CLIENT_LINES.items():
        frame = on(rows, grammar, engine).filter(
            pl.col("ip").is_not_null() & ~pl.col("_g").is_in(taken.implode())
        )
        for column in ("name", "helo"):
            if column not in frame.columns:
                frame = frame.with_columns(pl.lit(None, pl.String).alias(column))
        found[kind] = frame.with_columns(
            pl.lit(kind).alias("_kind"),
            pl.lit(opens).alias("_opens"),
            pl.lit(ends).alias("_ends"),
            pl.col("_rest").str.extract(g.CONNECTION_ID, 1).alias("ci"),
        )
        taken = pl.concat([taken, frame["_g"]])
    every = pl.concat(
        [f.select(*_COMMON, "ci", "_kind", "_opens", "_ends") for f in found.values()]
    )
    sessions = with_sessions(every).select("_g", "_session", "_first")
    return {kind: f.join(sessions, on="_g", how="left") for kind, f in found.items()}


def clients(lines: dict[str, pl.DataFrame]) -> list[pl.DataFrame]:
    """The connect of each session (where it begins), and its HELO name."""
    every = pl.concat([f.select(*_COMMON, "_session", "_first") for f in lines.values()]).sort("_g")
    first = every.group_by("_session", maintain_order=True).agg(
        pl.col("_first").first(),
        pl.col("source", "line", "ts", "ip").first(),
        pl.col("name").drop_nulls().first(),
        pl.col("helo").drop_nulls().first(),
    )
    # Before anything else of the first line (a sort keeps no ties in order).
    at_first = partial(inbound, order=pl.col("_first"))
    return [
        at_first(first, sub=-3, kind="connect", arg=peer()),
        at_first(
            first.filter(pl.col("helo").is_not_null()),
            sub=-2,
            kind="command",
            verb="HELO",
            arg=pl.col("helo"),
        ),
    ]


def refusals(lines: dict[str, pl.DataFrame]) -> list[pl.DataFrame]:
    """Each refusal as the command it answered and Exim's reply to it."""
    rejects = lines["reject"].with_columns(
        pl.col("sender").str.strip_chars("<>").alias("_sender"),
        pl.col("arg").str.strip_chars("<>").alias("_arg"),
        pl.when(pl.col("temp").is_not_null())
        .then(pl.lit(DEFER_CODE))
        .otherwise(pl.lit(DENY_CODE))
        .alias("_code"),
        pl.col("cmd")
        .replace({"EHLO or HELO": "HELO", "connection": "CONNECT"})
        .str.replace(r"^after ", "")
        .alias("_verb"),
    )
    implied = rejects.filter(~pl.col("_verb").is_in(["MAIL", "HELO", "CONNECT"]))
    data = pl.concat(
        [lines["local_scan"], lines["rejected_from"]], how="diagonal_relaxed"
    ).with_columns(
        pl.col("sender").str.strip_chars("<>").alias("_sender"),
        pl.when(pl.col("temp").is_not_null())
        .then(pl.lit(DEFER_CODE))
        .otherwise(pl.lit(DENY_CODE))
        .alias("_code"),
    )
    verb = pl.col("_verb")
    said = [
        inbound(
            implied,
            sub=2,
            kind="command",
            verb="MAIL",
            arg=mail_from(pl.col("_sender").fill_null("")),
        ),
        inbound(
            implied,
            sub=3,
            kind="reply",
            code=pl.lit(250),
            text=pl.lit("(accepted; implied by the later reject)"),
        ),
        inbound(
            rejects.filter(verb != "CONNECT"),
            sub=4,
            kind="command",
            verb=verb,
            arg=pl.when(verb == "RCPT")
            .then(rcpt_to(pl.col("_arg").fill_null("")))
            .when(verb == "MAIL")
            .then(mail_from(pl.col("_arg").fill_null("")))
            .when(verb != "DATA")
            .then(pl.col("_arg")),
        ),
        inbound(rejects, sub=5, kind="reply", code=pl.col("_code"), text=pl.col("why")),
        inbound(rejects.filter(verb == "CONNECT"), sub=9, kind="disconnect"),
    ]
    return [
        *said,
        inbound(data, sub=2, kind="command", verb="MAIL", arg=mail_from(pl.col("_sender"))),
        inbound(data, sub=3, kind="reply", code=pl.lit(250)),
        inbound(data, sub=4, kind="command", verb="DATA"),
        inbound(data, sub=5, kind="reply", code=pl.col("_code"), text=pl.col("why")),
    ]


def logins(lines: dict[str, pl.DataFrame], engine: Engine) -> list[pl.DataFrame]:
    """A failed login: AUTH with the authenticator's name, and the reply Exim logged."""
    failed = reply_parts(lines["auth_failed"], "reply", engine)
    return [
        inbound(failed, sub=4, kind="command", verb="AUTH", arg=pl.col("authenticator")),
        inbound(
            failed,
            sub=5,
            kind="reply",
            code=pl.col("r_code"),
            status=pl.col("r_status"),
            text=pl.col("r_text"),
        ),
    ]


def notes(lines: dict[str, pl.DataFrame]) -> list[pl.DataFrame]:
    """A note for each line that says what troubled or ended a session (its text
    as Exim wrote it), and the disconnect of the sessions that ended there."""
    out: list[pl.DataFrame] = []
    for kind in _NOTES:
        frame = lines[kind]
        out.append(inbound(frame, sub=6, kind="note", text=pl.col("_rest")))
        if CLIENT_LINES[kind][2]:
            out.append(inbound(frame, sub=9, kind="disconnect"))
    return out
