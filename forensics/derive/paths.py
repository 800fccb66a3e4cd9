"""Tracking events -> message paths, joined with sessions and NDRs where ids allow.

A path is one message to one recipient: when it entered, was queued out, sent,
delivered, or came back as an NDR, with the SMTP session that carried it and the NDR
message a user forwarded. Joins are made by id where the logs carry one (the
protocol log's session id in an Exchange 2007+ event; the MTS-ID or Message-ID an
NDR quotes) and otherwise by recipient and nearest time, and each path says which
(``session_match``, ``ndr_match``).

Tracking logs are written in GMT/UTC while the protocol logs of the same server are
in its local time. The offset is found, not assumed: the shift (in quarter hours,
within 14 hours) that puts the most tracking events within three minutes of a RCPT
to the same recipient in the protocol logs. Without a protocol log the times stay
as written, and the inputs note says so.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from forensics.core import frames
from forensics.derive import localdomains
from forensics.knowledge import load

# The events that a RCPT in a protocol log sits beside, seconds away.
_NEAR_RCPT = ("queued_out", "send", "ndr", "fail", "receive", "deliver")
_QUARTER = 900
_MATCH_SECONDS = 180
# Recipients written more often than this are left out of the offset search: they
# would make a large cross join and say little.
_MAX_PER_RECIPIENT = 50
# A session or NDR found by recipient must be this close in time.
_SESSION_TOLERANCE = dt.timedelta(minutes=5)
_NDR_TOLERANCE = dt.timedelta(minutes=15)


def clock_offset(tracking: pl.DataFrame, recipients: pl.DataFrame) -> tuple[int, int] | None:
    """(seconds to add to tracking times, pairs that agree), or None when the logs
    share no recipient close enough in time to tell."""
    if tracking.height == 0 or recipients.height == 0:
        return None
    events = tracking.filter(
        pl.col("event").is_in(_NEAR_RCPT) & pl.col("recipient").is_not_null()
    ).select("recipient", pl.col("ts_utc"))
    rcpts = recipients.select(pl.col("rcpt").str.to_lowercase().alias("recipient"), "ts")
    few = (
        pl.concat([events.select("recipient"), rcpts.select("recipient")])
        .group_by("recipient")
        .len()
        .filter(pl.col("len") <= _MAX_PER_RECIPIENT)
        .select("recipient")
    )
    pairs = (
        events.join(few, on="recipient")
        .join(rcpts.join(few, on="recipient"), on="recipient")
        .select(((pl.col("ts_utc") - pl.col("ts")).dt.total_seconds()).alias("diff"))
        .with_columns((pl.col("diff") / _QUARTER).round().cast(pl.Int64).alias("q"))
        .filter(
            ((pl.col("diff") - pl.col("q") * _QUARTER).abs() <= _MATCH_SECONDS)
            & (pl.col("q").abs() <= 56)
        )
    )
    if pairs.height == 0:
        return None
    best = pairs.group_by("q").len().sort(["len", "q"], descending=[True, False]).row(0)
    return -int(best[0]) * _QUARTER, int(best[1])


def _offset_text(offset: int) -> str:
    sign = "-" if offset < 0 else "+"
    minutes = abs(offset) // 60
    return f"{sign}{minutes // 60}:{minutes % 60:02d}"


def build(
    tracking: pl.DataFrame,
    recipients: pl.DataFrame,
    ndrs: pl.DataFrame,
    domains: pl.DataFrame,
) -> tuple[pl.DataFrame, pl.DataFrame, str | None]:
    """(tracking on the protocol logs' clock, paths, a note on the clock for the
    inputs table)."""
    if tracking.height == 0:
        return tracking, frames.empty(frames.PATHS), None
    found = clock_offset(tracking, recipients)
    if found is None:
        offset, note = 0, "times as written (GMT/UTC): no protocol log shares its recipients"
    else:
        offset, support = found
        note = (
            f"times GMT/UTC, moved by {_offset_text(offset)} onto the protocol logs' clock "
            f"({support:,} events within {_MATCH_SECONDS // 60} minutes of a RCPT to the "
            "same recipient)"
        )
    tracking = tracking.with_columns((pl.col("ts_utc") + pl.duration(seconds=offset)).alias("ts"))
    paths = _paths(tracking, domains)
    paths = _with_sessions(paths, recipients)
    paths = _with_ndrs(paths, ndrs)
    return (
        tracking,
        frames.conform(paths, frames.PATHS).sort(
            "first_ts", "source", "line", "recipient", nulls_last=True
        ),
        note,
    )


def _first_where(condition: pl.Expr, column: str = "ts") -> pl.Expr:
    return pl.col(column).filter(condition).min()


def _paths(tracking: pl.DataFrame, domains: pl.DataFrame) -> pl.DataFrame:
    event = pl.col("event")
    rows = tracking.filter(pl.col("message_id").is_not_null() & pl.col("recipient").is_not_null())
    if rows.height == 0:
        return frames.empty(frames.PATHS)
    immediate = load("tracking")["immediate_seconds"]
    refused = pl.col("refusal").is_not_null()
    out = (
        rows.sort("ts", "source", "line", nulls_last=True)
        .with_columns(
            pl.col("message_id").str.replace_all(r"\s+", "").str.to_lowercase().alias("_key")
        )
        .group_by("_key", "recipient", maintain_order=True)
        .agg(
            pl.col("message_id").first(),
            pl.col("sender").drop_nulls().first(),
            pl.col("subject").drop_nulls().first(),
            pl.col("source").first(),
            pl.col("line").first(),
            pl.col("ts").min().alias("first_ts"),
            _first_where(event == "send").alias("sent_ts"),
            _first_where(event == "deliver").alias("delivered_ts"),
            _first_where(event.is_in(["ndr", "fail"])).alias("ndr_ts"),
            (event == "ndr").any().alias("_ndr"),
            (event == "fail").any().alias("_fail"),
            (event == "defer").any().alias("_defer"),
            event.is_in(["queued_out", "send"]).any().alias("_out"),
            (event == "receive").any().alias("_in"),
            pl.col("code").filter(refused).first(),
            pl.col("status").filter(refused).first(),
            pl.col("text").filter(refused).first(),
            pl.col("refusal").filter(refused).first(),
            pl.col("session").filter(event.is_in(["send", "receive"])).drop_nulls().first(),
            pl.col("server_ip").filter(event.is_in(["send", "fail"])).drop_nulls().first(),
            pl.col("client_ip").filter(event == "receive").drop_nulls().first(),
        )
    )
    local = localdomains.is_local(localdomains.domain_of(pl.col("recipient")), domains)
    seconds = (pl.col("ndr_ts") - pl.col("first_ts")).dt.total_seconds(fractional=True)
    return out.with_columns(
        # Queued or sent out is outbound whatever the domain; a failure or an NDR
        # alone is, unless the recipient is known to be local (an unknown user of
        # ours). With no local domain known, nothing is called local.
        pl.when(
            pl.col("_out") | ((pl.col("_fail") | pl.col("_ndr")) & (local != True).fill_null(True))  # noqa: E712
        )
        .then(pl.lit("outbound"))
        .when(pl.col("_in"))
        .then(pl.lit("inbound"))
        .otherwise(pl.lit("local"))
        .alias("direction"),
        pl.when(pl.col("_ndr"))
        .then(pl.lit("ndr"))
        .when(pl.col("_fail"))
        .then(pl.lit("failed"))
        .when(pl.col("delivered_ts").is_not_null())
        .then(pl.lit("delivered"))
        .when(pl.col("sent_ts").is_not_null())
        .then(pl.lit("sent"))
        .when(pl.col("_defer"))
        .then(pl.lit("deferred"))
        .otherwise(pl.lit("in_transit"))
        .alias("outcome"),
        seconds.alias("seconds_to_ndr"),
        (seconds <= immediate).alias("immediate_ndr"),
        pl.when(pl.col("session").is_not_null()).then(pl.lit("id")).alias("session_match"),
    ).with_columns(
        pl.when(pl.col("direction") == "outbound")
        .then(pl.col("server_ip"))
        .otherwise(pl.col("client_ip"))
        .alias("remote_host")
    )


def _with_sessions(paths: pl.DataFrame, recipients: pl.DataFrame) -> pl.DataFrame:
    """The RCPT that carried each path: in the session the tracking event names, or
    else the RCPT to the same recipient, in the same direction, nearest in time."""
    if paths.height == 0 or recipients.height == 0:
        return paths
    rcpts = recipients.select(
        pl.col("session").alias("_session"),
        pl.col("rcpt").str.to_lowercase().alias("recipient"),
        "direction",
        pl.col("ts").alias("_rcpt_ts"),
        pl.col("code").alias("_code"),
        pl.col("status").alias("_status"),
        pl.col("text").alias("_text"),
        pl.col("refusal").alias("_refusal"),
        pl.col("remote_ip").alias("_remote"),
        pl.col("accepted").fill_null(False).alias("_accepted"),
    ).filter(pl.col("_rcpt_ts").is_not_null())
    by_id = paths.filter(pl.col("session").is_not_null()).join(
        rcpts.unique(["_session", "recipient"], keep="first", maintain_order=True),
        left_on=["session", "recipient"],
        right_on=["_session", "recipient"],
        how="left",
        maintain_order="left",
    )
    # A message that went on was carried by an accepted RCPT; one that came back,
    # by a refused one.
    rest = paths.filter(pl.col("session").is_null()).with_columns(
        pl.coalesce("sent_ts", "ndr_ts", "first_ts").alias("_at"),
        ~pl.col("outcome").is_in(["ndr", "failed"]).alias("_accepted"),
    )
    by_time = (
        rest.sort("_at")
        .join_asof(
            rcpts.sort("_rcpt_ts"),
            left_on="_at",
            right_on="_rcpt_ts",
            by=["recipient", "direction", "_accepted"],
            strategy="nearest",
            tolerance=_SESSION_TOLERANCE,
            check_sortedness=False,  # sorted above, within each group too
        )
        .with_columns(
            pl.col("_session").alias("session"),
            pl.when(pl.col("_session").is_not_null())
            .then(pl.lit("recipient-time"))
            .alias("session_match"),
        )
        .drop("_at")
    )
    joined = pl.concat([by_id, by_time], how="diagonal_relaxed")
    return _take_refusal(joined, "_code", "_status", "_text", "_refusal").with_columns(
        pl.coalesce("remote_host", "_remote").alias("remote_host")
    )


def _with_ndrs(paths: pl.DataFrame, ndrs: pl.DataFrame) -> pl.DataFrame:
    """The forwarded NDR for each path: by the id it quotes, else by recipient and
    the report's time nearest the NDR the tracking log shows."""
    if paths.height == 0 or ndrs.height == 0:
        return paths
    reports = ndrs.select(
        pl.col("original_id").str.replace_all(r"\s+", "").str.to_lowercase().alias("_key"),
        pl.col("recipient"),
        pl.col("source").alias("ndr_source"),
        pl.col("line").alias("ndr_line"),
        pl.col("ts").alias("_ndr_at"),
        pl.col("remote_code").alias("_ncode"),
        pl.col("remote_status").alias("_nstatus"),
        pl.col("remote_text").alias("_ntext"),
        pl.col("refusal").alias("_nrefusal"),
    )
    keyed = reports.filter(pl.col("_key").is_not_null()).unique(
        ["_key", "recipient"], keep="first", maintain_order=True
    )
    by_id = paths.join(keyed, on=["_key", "recipient"], how="left", maintain_order="left")
    found = by_id.filter(pl.col("ndr_source").is_not_null()).with_columns(
        pl.lit("id").alias("ndr_match")
    )
    rest = by_id.filter(pl.col("ndr_source").is_null()).drop(
        [c for c in reports.columns if c not in ("_key", "recipient")]
    )
    # By time, only a path that came back: a delivered message has no NDR to find.
    rest = rest.with_columns(
        pl.when(pl.col("outcome").is_in(["ndr", "failed"])).then(pl.col("ndr_ts")).alias("_at")
    )
    by_time = (
        rest.sort("_at")
        .join_asof(
            reports.drop("_key").filter(pl.col("_ndr_at").is_not_null()).sort("_ndr_at"),
            left_on="_at",
            right_on="_ndr_at",
            by="recipient",
            strategy="nearest",
            tolerance=_NDR_TOLERANCE,
            check_sortedness=False,  # sorted above, within each group too
        )
        .with_columns(
            pl.when(pl.col("ndr_source").is_not_null())
            .then(pl.lit("recipient-time"))
            .alias("ndr_match")
        )
        .drop("_at")
    )
    joined = pl.concat([found, by_time], how="diagonal_relaxed")
    return _take_refusal(joined, "_ncode", "_nstatus", "_ntext", "_nrefusal")


def _take_refusal(
    frame: pl.DataFrame, code: str, status: str, text: str, refusal: str
) -> pl.DataFrame:
    """A path whose refusal is still unknown takes the one a joined row gives (the
    reply as a whole, so that code, status and text stay one reply)."""
    taken = pl.col("refusal").is_not_null()
    return frame.with_columns(
        pl.when(taken).then(pl.col("code")).otherwise(pl.col(code)).alias("code"),
        pl.when(taken).then(pl.col("status")).otherwise(pl.col(status)).alias("status"),
        pl.when(taken).then(pl.col("text")).otherwise(pl.col(text)).alias("text"),
        pl.coalesce("refusal", refusal).alias("refusal"),
    )
