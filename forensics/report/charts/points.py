"""The timeline's markers as rows: one frame a lane, with x, the hover text and what
colours the marker. Past ``max_points`` sessions, one row per time bucket, lane and
outcome, with its count (so that the report's size does not grow with the logs)."""

from __future__ import annotations

import polars as pl

from forensics.core.frames import Frames
from forensics.report.charts import hover
from forensics.report.charts.buckets import bucket, span
from forensics.report.charts.style import MAX_POINTS


def relaying() -> pl.Expr:
    """A recipient row that relayed: inbound, accepted, for a domain known not to be
    local, and not mail the server's users or the server itself sent."""
    return (
        (pl.col("direction") == "inbound")
        & pl.col("accepted").eq_missing(True)
        & pl.col("local").eq_missing(False)
        & pl.col("own").ne_missing(True)
    )


def _recipient_facts(frames: Frames) -> pl.DataFrame:
    """Per session (and source): whether it relayed, its first recipient and line,
    how many recipients, and the reply that tells most (the first refusal, else the
    last reply)."""
    replies = frames.recipients.sort("source", "line").with_columns(
        pl.concat_str(
            [pl.col("code").cast(pl.String), pl.col("text")], separator=" ", ignore_nulls=True
        ).alias("reply")
    )
    refused = pl.col("accepted").eq_missing(False)
    return replies.group_by("session", "source").agg(
        relaying().any().alias("relayed"),
        pl.col("rcpt").first().alias("first_rcpt"),
        pl.len().alias("rcpts"),
        pl.col("line").first().alias("line"),
        pl.coalesce(pl.col("reply").filter(refused).first(), pl.col("reply").last()).alias("reply"),
    )


def _sessions(frames: Frames) -> pl.DataFrame:
    """Sessions with a start, with their lane, what they did (``result``, the
    session's outcome) and the category they are drawn in (``outcome``)."""
    sessions = frames.sessions.drop_nulls("start").join(
        _recipient_facts(frames), on=["session", "source"], how="left"
    )
    return sessions.with_columns(
        pl.when(pl.col("direction") == "outbound")
        .then(pl.lit("outbound sessions"))
        .otherwise(pl.lit("inbound sessions"))
        .alias("lane"),
        pl.col("outcome").fill_null("no_mail").alias("result"),
        pl.when(pl.col("relayed").fill_null(False))
        .then(pl.lit("relayed"))
        .otherwise(pl.col("outcome").fill_null("no_mail"))
        .alias("outcome"),
    )


def session_points(frames: Frames, max_points: int) -> tuple[pl.DataFrame, str | None]:
    """One row per marker: x, lane, outcome, count, hover; and the bucket width when
    the sessions were binned."""
    sessions = _sessions(frames)
    if sessions.height <= max_points:
        points = sessions.select(
            pl.col("start").alias("x"),
            "lane",
            "outcome",
            pl.lit(1).alias("count"),
            hover.session().alias("hover"),
        )
        return points, None
    every = bucket(span(sessions["start"]))
    binned = (
        sessions.with_columns(pl.col("start").dt.truncate(every).alias("x"))
        .group_by("x", "lane", "outcome")
        .agg(pl.len().alias("count"), pl.col("rcpt_refused").sum().alias("refused"))
        .sort("x", "lane", "outcome")
    )
    return binned.with_columns(hover.binned_sessions(every).alias("hover")), every


def ndr_points(frames: Frames) -> pl.DataFrame:
    """The NDR recipients users forwarded: x, hover, refusal."""
    ndrs = frames.ndrs.drop_nulls("ts").head(MAX_POINTS)
    return ndrs.select(pl.col("ts").alias("x"), hover.ndr().alias("hover"), "refusal")


def tracked_ndr_points(frames: Frames) -> pl.DataFrame:
    """The NDRs the tracking logs show (whether or not anyone forwarded them)."""
    paths = frames.paths.filter(pl.col("outcome").is_in(["ndr", "failed"])).drop_nulls("ndr_ts")
    return paths.head(MAX_POINTS).select(
        pl.col("ndr_ts").alias("x"), hover.tracked_ndr().alias("hover")
    )


def event_points(frames: Frames) -> pl.DataFrame:
    """The service events: x, hover, type."""
    events = frames.service_events.drop_nulls("ts").head(MAX_POINTS)
    return events.select(pl.col("ts").alias("x"), hover.service_event().alias("hover"), "type")
