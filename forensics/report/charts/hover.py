"""The hover texts of the timeline's markers, one expression a kind of marker.

Every text from the evidence goes through :func:`labels.escaped`; the rest is the
markup plotly's hover labels understand (``<b>``, ``<br>``).
"""

from __future__ import annotations

import polars as pl

from forensics.report.charts.labels import cut, escaped
from forensics.report.charts.style import OUTCOME_NAMES


def _at(line: pl.Expr) -> list[pl.Expr]:
    """Where the row was read: ``source:line``."""
    return [escaped(pl.col("source")), pl.lit(":"), line]


def _count(column: str) -> pl.Expr:
    return pl.col(column).cast(pl.String).fill_null("0")


def _client() -> pl.Expr:
    """The remote end as ``host [ip]``, either part left out when unknown."""
    host = cut(pl.col("remote_host"), 80)
    ip = pl.when(pl.col("remote_ip").is_not_null()).then(
        pl.concat_str([pl.lit("["), cut(pl.col("remote_ip"), 60), pl.lit("]")])
    )
    both = pl.concat_str([host, ip], separator=" ", ignore_nulls=True)
    return escaped(pl.when(both == "").then(pl.lit("?")).otherwise(both))


def _rcpt() -> pl.Expr:
    """The first recipient, and how many more the session named."""
    more = pl.col("rcpts").fill_null(0).cast(pl.Int64) - 1
    return pl.concat_str(
        [
            escaped(cut(pl.col("first_rcpt"), 80)),
            pl.when(more > 0).then(pl.format(" (and {} more)", more)).otherwise(pl.lit("")),
        ]
    )


def session() -> pl.Expr:
    """One session: its category and outcome, time, the client, MAIL FROM, the first
    RCPT, the reply that tells most, and where it was read (``source:line``)."""
    return pl.concat_str(
        [
            pl.lit("<b>"),
            escaped(pl.col("outcome").replace_strict(OUTCOME_NAMES, default=pl.col("outcome"))),
            pl.lit("</b> "),
            escaped(pl.col("direction")),
            pl.lit(" session ("),
            escaped(pl.col("result")),
            pl.lit(")<br>"),
            escaped(pl.col("start").dt.strftime("%Y-%m-%d %H:%M:%S")),
            pl.lit("<br>client: "),
            _client(),
            pl.lit("<br>HELO: "),
            escaped(cut(pl.col("helo"), 80)),
            pl.lit("<br>MAIL FROM: "),
            escaped(cut(pl.col("mail_from"), 80)),
            pl.lit("<br>RCPT: "),
            _rcpt(),
            pl.lit(" ("),
            _count("rcpt_accepted"),
            pl.lit(" accepted, "),
            _count("rcpt_refused"),
            pl.lit(" refused)<br>reply: "),
            escaped(cut(pl.col("reply"), 120)),
            pl.lit("<br>"),
            *_at(pl.col("line").cast(pl.String).fill_null("?")),
            pl.lit(" "),
            escaped(pl.col("session")),
        ]
    )


def binned_sessions(every: str) -> pl.Expr:
    """A bucket of sessions of one lane and outcome: how many, from when."""
    return pl.concat_str(
        [
            pl.lit("<b>"),
            pl.col("count").cast(pl.String),
            pl.lit(" "),
            pl.col("outcome").replace_strict(OUTCOME_NAMES, default=pl.col("outcome")),
            pl.lit("</b> "),
            pl.col("lane"),
            pl.lit("<br>from "),
            pl.col("x").dt.strftime("%Y-%m-%d %H:%M"),
            pl.lit(f" ({every})<br>"),
            pl.col("refused").cast(pl.String),
            pl.lit(" RCPTs refused"),
        ]
    )


def ndr() -> pl.Expr:
    """An NDR recipient: the refusal, the recipient, the reply it quotes."""
    return pl.concat_str(
        [
            pl.lit("<b>NDR</b> "),
            escaped(pl.col("refusal")),
            pl.lit("<br>"),
            escaped(cut(pl.col("recipient"), 80)),
            pl.lit("<br>"),
            escaped(cut(pl.coalesce("remote_text", "diagnostic", "reason_text"))),
            pl.lit("<br>"),
            *_at(pl.col("line").cast(pl.String)),
        ]
    )


def tracked_ndr() -> pl.Expr:
    """An NDR the tracking log shows: the refusal, the recipient, how soon."""
    return pl.concat_str(
        [
            pl.lit("<b>NDR in the tracking log</b> "),
            escaped(pl.col("refusal").fill_null("reason not known")),
            pl.lit("<br>"),
            escaped(cut(pl.col("recipient"), 80)),
            pl.lit("<br>"),
            pl.col("seconds_to_ndr").round(0).cast(pl.Int64).cast(pl.String),
            pl.lit(" s after the message entered<br>"),
            *_at(pl.col("line").cast(pl.String)),
        ],
        ignore_nulls=True,
    )


def service_event() -> pl.Expr:
    """A service event: source, id, type and message."""
    return pl.concat_str(
        [
            pl.lit("<b>"),
            escaped(pl.col("event_source")),
            pl.lit(" "),
            pl.col("event_id").cast(pl.String).fill_null("?"),
            pl.lit("</b> "),
            escaped(pl.col("type")),
            pl.lit("<br>"),
            escaped(cut(pl.col("message"))),
            pl.lit("<br>"),
            *_at(pl.col("line").cast(pl.String)),
        ]
    )


def change() -> pl.Expr:
    """A change: where it is known from, how good its time is, what changed."""
    return pl.concat_str(
        [
            pl.lit("<b>change</b> ("),
            pl.col("origin"),
            pl.lit(", time "),
            pl.col("ts_quality").fill_null("unknown"),
            pl.lit(")<br>"),
            escaped(cut(pl.col("text"))),
            pl.lit("<br>"),
            # A change inferred from the findings has no file of its own.
            *_at(pl.col("line").cast(pl.String).fill_null("")),
        ]
    )
