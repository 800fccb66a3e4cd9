"""What Sendmail says of each SMTP client -> the inbound sessions' events: the
connect (from whichever line names the client), the policy refusals, the logins,
the recipients it refused itself, the milters' refusals and the notes on sessions
that ended badly."""

from __future__ import annotations

from functools import partial

import polars as pl

from forensics.core.lineparse import Engine
from forensics.readers.postfix.event_rows import event, mail_from, rcpt_to
from forensics.readers.postfix.fields import reply_parts
from forensics.readers.sendmail.fields import on, peer, with_client
from grammars import sendmail as g

inbound = partial(event, session=pl.col("_session"), direction="inbound", order=pl.col("_g"))

# The SMTP command each check_* rule set screens (the rule set is called when the
# client sends it; check_relay when it connects).
_RULESET_VERB = {
    "check_relay": "CONNECT",
    "check_mail": "MAIL",
    "check_rcpt": "RCPT",
    "check_data": "DATA",
    "check_eoh": "DATA",
    "check_eom": "DATA",
    "check_etrn": "ETRN",
    "check_expn": "EXPN",
    "check_vrfy": "VRFY",
}
# Lines that name the client in free text, and end its session or say it misbehaved.
_NOTES = (g.ATTACK, g.EXPN_VRFY, g.NO_MAIL, g.LOST, g.PREGREET, g.TIMEOUT)
_ENDS = (g.NO_MAIL, g.LOST)
_CLIENT_COLUMNS = ["_session", "_first", "_g", "source", "line", "ts", "_name", "_addr"]


def rejects(rows: pl.DataFrame, engine: Engine) -> pl.DataFrame:
    """The check_* refusals, with the command, the reply's parts and the client."""
    found = on(rows, g.REJECT, engine).with_columns(
        pl.col("ruleset").replace_strict(_RULESET_VERB, default=pl.col("ruleset")).alias("_verb"),
        pl.col("arg1").str.strip_chars("<>").alias("_arg"),
    )
    return reply_parts(with_client(found, "relay", engine), "reply", engine)


def authentications(rows: pl.DataFrame, engine: Engine) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The logins that succeeded (AUTH=server) and those that failed."""
    ok = with_client(on(rows, g.AUTH_SERVER, engine), "relay", engine)
    failed = on(rows, g.AUTH_FAILURE, engine).with_columns(
        pl.col("rest").str.extract(g.AUTH_RELAY_SPLIT, 1).alias("_why"),
        pl.col("rest").str.extract(g.AUTH_RELAY_SPLIT, 2).alias("_relay"),
    )
    return ok, with_client(failed, "_relay", engine)


def notes(rows: pl.DataFrame, engine: Engine) -> list[pl.DataFrame]:
    """The free-text lines that name the client, each with its grammar's name."""
    return [
        with_client(on(rows, grammar, engine), "client", engine).with_columns(
            pl.lit(grammar.name).alias("_kind")
        )
        for grammar in _NOTES
    ]


def clients(parts: list[pl.DataFrame]) -> pl.DataFrame:
    """The connect of each session: the client from the first of its lines that
    names one (a session's lines carry it in relay= or in their text), placed where
    the session begins."""
    named = [p.filter(pl.col("_addr").is_not_null()).select(_CLIENT_COLUMNS) for p in parts]
    first = pl.concat(named).sort("_g").unique("_session", keep="first", maintain_order=True)
    # Before anything else of its first line (a sort keeps no ties in order).
    return inbound(first, order=pl.col("_first"), sub=-1, kind="connect", arg=peer())


def refusals(found: pl.DataFrame) -> list[pl.DataFrame]:
    """Each check_* refusal as its command and reply."""
    verb = pl.col("_verb")
    return [
        inbound(
            found,
            sub=4,
            kind="command",
            verb=verb,
            arg=pl.when(verb == "MAIL")
            .then(mail_from(pl.col("_arg")))
            .when(verb == "RCPT")
            .then(rcpt_to(pl.col("_arg"))),
        ),
        inbound(
            found,
            sub=5,
            kind="reply",
            code=pl.col("r_code"),
            status=pl.col("r_status"),
            text=pl.col("r_text"),
        ),
    ]


def logins(ok: pl.DataFrame, failed: pl.DataFrame) -> list[pl.DataFrame]:
    """AUTH and its reply: 235 for a login Sendmail took, 535 for one it refused."""
    return [
        inbound(
            ok, sub=0, kind="command", verb="AUTH", arg=pl.concat_str([pl.lit("user="), "authid"])
        ),
        inbound(ok, sub=1, kind="reply", code=pl.lit(235), text=pl.lit("(authenticated)")),
        inbound(failed, sub=0, kind="command", verb="AUTH", arg=pl.col("mech")),
        inbound(
            failed,
            sub=1,
            kind="reply",
            code=pl.lit(535),
            text=pl.concat_str([pl.lit("AUTH failure: "), pl.coalesce("_why", "rest")]),
        ),
    ]


def session_notes(found: list[pl.DataFrame]) -> list[pl.DataFrame]:
    """A note for each free-text line (and the command EXPN or VRFY it names); the
    sessions that ended there get their disconnect."""
    ends = {grammar.name for grammar in _ENDS}
    out: list[pl.DataFrame] = []
    for frame in found:
        if frame.height == 0:
            continue
        if "arg" in frame.columns:  # EXPN/VRFY: the command, refused
            out.append(
                inbound(
                    frame,
                    sub=2,
                    kind="command",
                    verb=pl.col("command").str.to_uppercase(),
                    arg=pl.col("arg"),
                )
            )
        out.append(inbound(frame, sub=3, kind="note", text=pl.col("msg")))
        if frame["_kind"][0] in ends:
            out.append(inbound(frame, sub=9, kind="disconnect"))
    return out


def milters(rows: pl.DataFrame, engine: Engine) -> list[pl.DataFrame]:
    """A milter's refusal, as the refusal of the command it was asked about."""
    found = reply_parts(on(rows, g.MILTER, engine), "reply", engine)
    stage = pl.col("stage")
    addr = stage.str.extract(r"^(?:from|to)=<([^>]*)>$", 1)
    verb = (
        pl.when(stage.str.starts_with("from="))
        .then(pl.lit("MAIL"))
        .when(stage.str.starts_with("to="))
        .then(pl.lit("RCPT"))
        .when(stage == "data")
        .then(pl.lit("DATA"))
        .otherwise(stage.str.to_uppercase())
    )
    arg = (
        pl.when(stage.str.starts_with("from="))
        .then(mail_from(addr))
        .when(stage.str.starts_with("to="))
        .then(rcpt_to(addr))
    )
    return [
        inbound(found, sub=6, kind="command", verb=verb, arg=arg),
        inbound(
            found,
            sub=7,
            kind="reply",
            code=pl.col("r_code"),
            status=pl.col("r_status"),
            text=pl.col("r_text"),
        ),
    ]


def refused_recipients(rows: pl.DataFrame, receipts: pl.DataFrame, engine: Engine) -> pl.DataFrame:
    """``<x>... User unknown`` lines logged by the process that talks to the client
    (the message's sender record comes from that process): the RCPT it refused. The
    line gives no code; Sendmail answers a recipient it refuses itself with 550."""
    found = on(rows, g.RCPT_TEXT, engine)
    smtp = receipts.select("_session", pl.col("qid").alias("_q")).unique()
    return found.join(smtp, left_on=["_session", "qid"], right_on=["_session", "_q"], how="semi")


def refused_recipient_events(found: pl.DataFrame) -> list[pl.DataFrame]:
    return [
        inbound(found, sub=4, kind="command", verb="RCPT", arg=rcpt_to(pl.col("rcpt"))),
        inbound(
            found,
            sub=5,
            kind="reply",
            code=pl.lit(550),
            text=pl.concat_str([pl.lit("<"), pl.col("rcpt"), pl.lit(">... "), pl.col("text")]),
        ),
    ]
