"""Events -> sessions and recipients. Knows nothing of log formats (DESIGN principle 4):
any reader that produces the ``events`` frame gets the same sessions."""

from __future__ import annotations

import polars as pl

from forensics.core import frames
from forensics.core.expressions import fill_within
from forensics.core.lineparse import extract
from forensics.core.replies import refusal_category
from forensics.core.versions import software_from_banner
from grammars import tokens
from grammars.smtp import PATH_ARG

_IP = rf"^\[?(?:{tokens.IPV4.pattern}|{tokens.IPV6.pattern})\]?$"
_PEER = rf"^(?P<name>[^\[\]]*)\[(?P<ip>{tokens.IPV4.pattern}|{tokens.IPV6.pattern})\]$"
_HOSTNAME = r"^[A-Za-z0-9][A-Za-z0-9\-_]*(?:\.[A-Za-z0-9\-_]+)+\.?$"


def _plausible(name: pl.Expr) -> pl.Expr:
    """The name when it looks like a host name, else null."""
    return pl.when(name.str.contains(_HOSTNAME)).then(name)


def _with_replies(events: pl.DataFrame) -> pl.DataFrame:
    """Each command with the first reply given to it (a reply belongs to the latest
    command before it in its session, or, in a pipelined run, to its own command:
    see _pipelined), and whether any later reply to it succeeded
    (DATA: 354 first, then the end-of-data reply). Adds ``_seg``, a number per
    session run, for the steps that follow."""
    ev = events.with_row_index("_row").with_columns(
        (pl.col("session") != pl.col("session").shift(1)).fill_null(True).cum_sum().alias("_seg")
    )
    ev = ev.with_columns(
        fill_within(
            pl.when(pl.col("kind") == "command").then(pl.col("_row")), pl.col("_seg")
        ).alias("_cmd")
    )
    fifo = _pipelined(ev)
    if fifo.height:
        ev = ev.with_columns(ev["_cmd"].scatter(fifo["_row"], fifo["_fifo"]))
    replies = (
        ev.filter((pl.col("kind") == "reply") & pl.col("_cmd").is_not_null())
        .group_by("_cmd")
        .agg(
            pl.col("code").first().alias("r_code"),
            pl.col("status").first().alias("r_status"),
            pl.col("text").first().alias("r_text"),
            (pl.col("code") < 300).any().alias("r_ok"),
            (pl.col("code") >= 400).any().alias("r_bad"),
        )
    )
    # Each reply summary put in its command's row: a scatter by row number, where a
    # join would copy every column of every event to the same place.
    rows = replies["_cmd"]
    return ev.with_columns(
        pl.repeat(None, ev.height, dtype=replies.schema[name], eager=True)
        .scatter(rows, replies[name])
        .alias(name)
        for name in ("r_code", "r_status", "r_text", "r_ok", "r_bad")
    )


def _pipelined(ev: pl.DataFrame) -> pl.DataFrame:
    """Replies to pipelined commands (RFC 2920: MAIL, RCPT ... sent before any reply,
    as Exchange's Send logs show): where a run of n commands is followed by a run of
    exactly n replies, n >= 2, the k-th reply answers the k-th command, not the last
    one. Runs whose counts differ (a multi-line reply, a command logged without its
    reply, as Postfix's implied HELO) keep the latest-command rule. Returns the
    replies' ``_row`` with the ``_fifo`` row of the command they answer. The runs are
    found by run-length encoding, so a log without pipelining costs two cheap passes."""
    steps = ev.filter(pl.col("kind").is_in(["command", "reply"])).select(
        "_row", "_seg", (pl.col("kind") == "command").alias("_c")
    )
    # A run: consecutive steps of one kind in one session.
    key = pl.col("_seg") * 2 + pl.col("_c").cast(pl.UInt32)
    runs = steps.select(key.rle().alias("r")).unnest("r")  # len, value
    runs = runs.with_columns((pl.col("len").cum_sum() - pl.col("len")).alias("_at"))
    pairs = runs.filter(
        (pl.col("value") % 2 == 1)  # a run of commands
        & (pl.col("len") >= 2)
        & (pl.col("value").shift(-1) == pl.col("value") - 1)  # then replies, same session
        & (pl.col("len").shift(-1) == pl.col("len"))
    ).select(
        pl.int_ranges(pl.col("_at"), pl.col("_at") + pl.col("len")).alias("_cmd_at"),
        pl.int_ranges(pl.col("_at") + pl.col("len"), pl.col("_at") + 2 * pl.col("len")).alias(
            "_reply_at"
        ),
    )
    if pairs.height == 0:
        return pl.DataFrame(schema={"_row": pl.UInt32, "_fifo": pl.UInt32})
    pairs = pairs.explode("_cmd_at", "_reply_at")
    rows = steps["_row"]
    return pl.DataFrame(
        {"_row": rows.gather(pairs["_reply_at"]), "_fifo": rows.gather(pairs["_cmd_at"])}
    )


def _paths(ev: pl.DataFrame) -> pl.DataFrame:
    """The address of every MAIL and RCPT command (``<>`` for the null sender)."""
    is_path = pl.col("verb").is_in(["MAIL", "RCPT"])
    parsed = extract(ev.select(pl.when(is_path).then(pl.col("arg"))).to_series(), PATH_ARG)
    return ev.with_columns(
        pl.when(is_path & parsed["matched"])
        .then(parsed["addr"].fill_null("<>"))
        .when(is_path)
        .then(pl.col("arg"))
        .alias("_addr")
    )


def build(events: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(sessions, recipients) from events in file and line order. ``local`` stays
    unknown here: which domains are local is known only once every file is read
    (the directory may come after the logs), so ingest settles it."""
    if events.height == 0:
        return frames.empty(frames.SESSIONS), frames.empty(frames.RECIPIENTS)
    ev = _with_sender(_paths(_with_replies(events)))
    remote = _remotes(ev)
    recipients = _recipients(ev, remote)
    return _sessions(ev, remote, recipients), recipients


def _with_sender(ev: pl.DataFrame) -> pl.DataFrame:
    """Adds ``_sender``: the sender of the current transaction, carried to the RCPTs
    that follow it (RSET ends the transaction, so its RCPTs have none)."""
    sender = (
        pl.when(pl.col("verb") == "MAIL")
        .then(pl.col("_addr"))
        .when(pl.col("verb") == "RSET")
        .then(pl.lit(""))
    )
    return ev.with_columns(fill_within(sender, pl.col("_seg")).replace("", None).alias("_sender"))


def _remotes(ev: pl.DataFrame) -> pl.DataFrame:
    """Per session: the remote's address and name, from its connect event."""
    # Lazy where a few columns of many are wanted: only those are copied.
    connect = (
        ev.lazy()
        .filter(pl.col("kind") == "connect")
        .group_by("session")
        .agg(pl.col("arg").first().alias("remote_host"))
        .collect()
    )
    # "host[192.0.2.7]" (Postfix's form): the name and the address; "unknown" is
    # Postfix's word for a client without a name, which leaves the address.
    connect = connect.with_columns(pl.col("remote_host").str.extract_groups(_PEER).alias("_peer"))
    peer_ip, peer_name = pl.col("_peer").struct.field("ip"), pl.col("_peer").struct.field("name")
    return connect.select(
        "session",
        pl.when(pl.col("remote_host").str.contains(_IP))
        .then(pl.col("remote_host").str.strip_chars("[]"))
        .otherwise(peer_ip)
        .alias("remote_ip"),
        pl.when(peer_ip.is_null())
        .then(pl.col("remote_host"))
        .when(peer_name.is_in(["", "unknown"]))
        .then(peer_ip)
        .otherwise(peer_name)
        .alias("remote_host"),
    )


def _recipients(ev: pl.DataFrame, remote: pl.DataFrame) -> pl.DataFrame:
    """The recipients frame: one row per RCPT command, in event order, with the
    reply it got and the remote it came from."""
    rcpt = (
        ev.lazy()
        .filter(pl.col("verb") == "RCPT")
        .join(remote.lazy(), on="session", how="left", maintain_order="left")
    )
    rcpt_domain = pl.col("_addr").str.extract(r"@([^@]+)$").str.to_lowercase().str.strip_chars(".")
    recipients = rcpt.select(
        "session",
        "source",
        "line",
        "ts",
        "direction",
        "remote_ip",
        pl.col("_sender").alias("mail_from"),
        pl.col("_addr").alias("rcpt"),
        rcpt_domain.alias("rcpt_domain"),
        pl.col("r_code").alias("code"),
        pl.col("r_status").alias("status"),
        pl.col("r_text").alias("text"),
        (pl.col("r_code") < 400).alias("accepted"),
        refusal_category(pl.col("r_code"), pl.col("r_text")).alias("refusal"),
        pl.lit(None, pl.Boolean).alias("local"),
    ).collect()
    return frames.conform(recipients, frames.RECIPIENTS)


def _per_session(ev: pl.DataFrame) -> pl.DataFrame:
    """One row per session run (``_seg``), in order of first appearance: the facts
    the session columns are derived from (underscored ones are dropped by conform)."""
    verb, kind, code = pl.col("verb"), pl.col("kind"), pl.col("code")
    first_word = pl.col("text").str.extract(r"^(\S+)")
    helo_reply = pl.col("r_text").str.extract(r"^(\S+)")
    return ev.group_by("_seg", maintain_order=True).agg(
        pl.col("session").first(),
        pl.col("source").first(),
        pl.col("ts").min().alias("start"),
        pl.col("ts").max().alias("end"),
        pl.col("direction").first(),
        pl.col("arg")
        .filter(verb.is_in(["HELO", "EHLO"]))
        .first()
        .str.extract(r"^(\S+)")
        .alias("helo"),
        first_word.filter((kind == "reply") & (code == 220)).first().alias("_banner_host"),
        helo_reply.filter(verb.is_in(["HELO", "EHLO"])).first().alias("_helo_reply_host"),
        pl.col("text").filter((kind == "reply") & (code == 220)).first().alias("_banner"),
        (kind == "reply").and_(code == 235).any().alias("_authed"),
        pl.col("arg")
        .filter((verb == "AUTH") & pl.col("arg").str.starts_with("user="))
        .first()
        .str.strip_prefix("user=")
        .alias("_auth_name"),
        pl.col("_addr").filter(verb == "MAIL").first().alias("mail_from"),
        (verb == "MAIL").any().alias("_has_mail"),
        pl.col("r_bad").filter(verb == "MAIL").first().alias("_mail_refused"),
        pl.col("r_ok").filter(verb.is_in(["DATA", "BDAT"])).any().alias("data_accepted"),
        pl.col("r_bad").filter(verb.is_in(["DATA", "BDAT"])).any().alias("_data_refused"),
        ((kind == "note") & (code >= 400)).any().alias("_gave_up"),
    )


def _recipient_counts(recipients: pl.DataFrame) -> pl.DataFrame:
    """Per session: RCPTs sent, accepted and refused (no reply counts as neither)."""
    return recipients.group_by("session").agg(
        pl.len().alias("rcpt_total"),
        pl.col("accepted").fill_null(False).sum().alias("rcpt_accepted"),
        (~pl.col("accepted")).fill_null(False).sum().alias("rcpt_refused"),
    )


def _local_host() -> pl.Expr:
    """Our own host name: the HELO we sent when outbound; inbound, the name in our
    banner or HELO reply, when it looks like a host name."""
    return (
        pl.when(pl.col("direction") == "outbound")
        .then(pl.col("helo"))
        .otherwise(
            pl.coalesce(_plausible(pl.col("_banner_host")), _plausible(pl.col("_helo_reply_host")))
        )
    )


def _outcome() -> pl.Expr:
    """What became of the session's mail, the first matching case winning."""
    return (
        pl.when(~pl.col("_has_mail"))
        .then(pl.lit("no_mail"))
        .when(pl.col("data_accepted") & (pl.col("rcpt_refused") == 0))
        .then(pl.lit("delivered"))
        .when(pl.col("data_accepted"))
        .then(pl.lit("partial"))
        .when(
            pl.col("_mail_refused").fill_null(False)
            | (
                (pl.col("rcpt_total") > 0)
                & (pl.col("rcpt_accepted") == 0)
                & (pl.col("rcpt_refused") > 0)
            )
        )
        .then(pl.lit("refused"))
        .when(pl.col("_data_refused") | pl.col("_gave_up"))
        .then(pl.lit("failed"))
        .otherwise(pl.lit("incomplete"))
    )


def _banner_product() -> pl.Expr:
    """The banner without its leading host name (a first word with a dot), which
    would otherwise be read as part of the software's name."""
    return (
        pl.when(pl.col("_banner").str.contains(r"^\S*\.\S*\s"))
        .then(pl.col("_banner").str.replace(r"^\S+\s+", ""))
        .otherwise(pl.col("_banner"))
    )


def _sessions(ev: pl.DataFrame, remote: pl.DataFrame, recipients: pl.DataFrame) -> pl.DataFrame:
    """The sessions frame: per-session facts joined to their remote and recipient
    counts, then the derived columns."""
    s = (
        _per_session(ev)
        .join(remote, on="session", how="left", maintain_order="left")
        .join(_recipient_counts(recipients), on="session", how="left", maintain_order="left")
    )
    # A session with no RCPT has no counts row: zero, not unknown.
    s = s.with_columns(pl.col("rcpt_total", "rcpt_accepted", "rcpt_refused").fill_null(0))
    s = s.with_columns(
        _local_host().alias("local_host"),
        pl.when(pl.col("_authed"))
        .then(pl.coalesce("_auth_name", pl.lit("(authenticated)")))
        .alias("auth_user"),
        _outcome().alias("outcome"),
        _banner_product().alias("_product"),
    )
    s = s.with_columns(software_from_banner(s["_product"]).alias("software"))
    return frames.conform(s, frames.SESSIONS)
