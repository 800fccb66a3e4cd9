"""The traffic summary: the counts a pflogsumm-style report gives, from the same
evidence as the findings (issue 21 item 9).

Pure polars functions of the ``sessions`` and ``recipients`` frames (never
``events``), each returning a small DataFrame:

- ``domains``: per recipient domain, RCPTs received (inbound, accepted), sent
  (outbound, accepted), refused (either direction) with their refusal categories,
  and of the refused those deferred (a 4xx reply).
- ``clients``: per inbound client (``remote_ip`` and ``remote_host`` of its
  sessions), sessions, RCPTs accepted, refused with their categories, deferred.
- ``hours``: per hour a session began or a RCPT was answered, inbound and outbound
  sessions, RCPTs accepted, refused and deferred.
- ``refused_senders`` and ``refused_recipients``: the MAIL FROM and RCPT addresses
  refused most often, one row per address and refusal category.

"Refused" is every RCPT whose reply was not accepted (``accepted`` false), as in the
JSON's ``counts.refused``; "deferred" counts those among them whose code is 4xx, so
deferred <= refused. RCPTs whose reply the log does not hold (``accepted`` null) are
neither. ``refused_by`` lists a row's refusals per category (knowledge/replies.toml),
in the categories' order.

Each table keeps at most ``TOP`` rows (``HOURS`` for the hourly one, in time order),
the largest counts first; ``Summary.left_out`` says how many rows each one lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from forensics.core.frames import Frames
from forensics.core.replies import CATEGORIES

TOP = 50  # rows kept of each ranked table (domains, clients, refused senders/recipients)
HOURS = 24 * 31  # hours kept of the hourly table: a month, in time order

TABLES = ("domains", "clients", "hours", "refused_senders", "refused_recipients")

_ACCEPTED = pl.col("accepted") == True  # noqa: E712
_REFUSED = pl.col("accepted") == False  # noqa: E712
_DEFERRED = _REFUSED & pl.col("code").is_between(400, 499)
_INBOUND = pl.col("direction") == "inbound"
_OUTBOUND = pl.col("direction") == "outbound"
_BY = pl.List(pl.Struct({"category": pl.String, "count": pl.Int64}))
_RANK = {c: i for i, c in enumerate(CATEGORIES)}


def _count(condition: pl.Expr) -> pl.Expr:
    return condition.fill_null(False).sum().cast(pl.Int64)


def _refused_by(recipients: pl.DataFrame, key: str) -> pl.DataFrame:
    """Per ``key``, the refused RCPTs per category as a list of {category, count},
    in the categories' order (an unknown category after them, by name)."""
    return (
        recipients.filter(_REFUSED)
        .group_by(key, "refusal")
        .agg(pl.len().cast(pl.Int64).alias("count"))
        .with_columns(
            pl.col("refusal")
            .replace_strict(_RANK, default=len(CATEGORIES), return_dtype=pl.Int64)
            .alias("_rank")
        )
        .sort(key, "_rank", "refusal", nulls_last=True)
        .group_by(key, maintain_order=True)
        .agg(pl.struct(pl.col("refusal").alias("category"), "count").alias("refused_by"))
    )


def _none_refused() -> pl.Expr:
    # A row with no refusal has an empty list, not a null one.
    return pl.col("refused_by").fill_null(pl.lit([], dtype=_BY))


def _ranked(frame: pl.DataFrame, by: str, key: str) -> pl.DataFrame:
    return frame.sort([by, key], descending=[True, False], nulls_last=True)


def domains(frames: Frames) -> pl.DataFrame:
    """Per recipient domain: received, sent, refused (by category), deferred."""
    recipients = frames.recipients
    counts = recipients.group_by("rcpt_domain").agg(
        _count(_INBOUND & _ACCEPTED).alias("received"),
        _count(_OUTBOUND & _ACCEPTED).alias("sent"),
        _count(_REFUSED).alias("refused"),
        _count(_DEFERRED).alias("deferred"),
    )
    frame = counts.join(
        _refused_by(recipients, "rcpt_domain"), on="rcpt_domain", how="left", nulls_equal=True
    ).rename({"rcpt_domain": "domain"})
    frame = frame.with_columns(
        (pl.col("received") + pl.col("sent") + pl.col("refused")).alias("_all")
    )
    return _ranked(frame, "_all", "domain").select(
        "domain", "received", "sent", "refused", "deferred", _none_refused()
    )


def clients(frames: Frames) -> pl.DataFrame:
    """Per inbound client (address and host name, as its sessions name it): sessions,
    RCPTs accepted, refused (by category) and deferred."""
    key = ["remote_ip", "remote_host"]
    inbound = frames.sessions.filter(_INBOUND)
    per_session = inbound.group_by(key).agg(pl.len().cast(pl.Int64).alias("sessions"))
    # A RCPT's client host is its session's (the recipients frame has the address only).
    rcpts = (
        frames.recipients.filter(_INBOUND)
        .drop("remote_ip")
        .join(inbound.select("session", "source", *key), on=["session", "source"], how="left")
    )
    per_rcpt = rcpts.group_by(key).agg(
        _count(_ACCEPTED).alias("accepted"),
        _count(_REFUSED).alias("refused"),
        _count(_DEFERRED).alias("deferred"),
    )
    by = _refused_by(rcpts.with_columns(pl.struct(key).alias("_client")), "_client").unnest(
        "_client"
    )
    frame = (
        per_session.join(per_rcpt, on=key, how="full", coalesce=True, nulls_equal=True)
        .join(by, on=key, how="left", nulls_equal=True)
        .with_columns(pl.col("sessions", "accepted", "refused", "deferred").fill_null(0))
    )
    return frame.sort(
        ["sessions", "accepted", *key], descending=[True, True, False, False], nulls_last=True
    ).select(*key, "sessions", "accepted", "refused", "deferred", _none_refused())


def hours(frames: Frames) -> pl.DataFrame:
    """Per hour (the sessions' start, the RCPTs' reply time): inbound and outbound
    sessions, RCPTs accepted, refused and deferred, in time order."""
    hour = pl.col("ts").dt.truncate("1h").alias("hour")
    per_session = (
        frames.sessions.select(pl.col("start").alias("ts"), "direction")
        .group_by(hour)
        .agg(
            _count(_INBOUND).alias("inbound_sessions"),
            _count(_OUTBOUND).alias("outbound_sessions"),
        )
    )
    per_rcpt = frames.recipients.group_by(hour).agg(
        _count(_ACCEPTED).alias("accepted"),
        _count(_REFUSED).alias("refused"),
        _count(_DEFERRED).alias("deferred"),
    )
    counts = ("inbound_sessions", "outbound_sessions", "accepted", "refused", "deferred")
    return (
        per_session.join(per_rcpt, on="hour", how="full", coalesce=True, nulls_equal=True)
        .with_columns(pl.col(*counts).fill_null(0))
        .sort("hour", nulls_last=True)
        .select("hour", *counts)
    )


def _refused(frames: Frames, key: str) -> pl.DataFrame:
    return _ranked(
        frames.recipients.filter(_REFUSED)
        .group_by(key, "refusal")
        .agg(pl.len().cast(pl.Int64).alias("refused"), _count(_DEFERRED).alias("deferred"))
        .rename({"refusal": "category"}),
        "refused",
        key,
    ).select(key, "category", "refused", "deferred")


def refused_senders(frames: Frames) -> pl.DataFrame:
    """The MAIL FROM addresses refused most often, one row per address and category."""
    return _refused(frames, "mail_from")


def refused_recipients(frames: Frames) -> pl.DataFrame:
    """The RCPT addresses refused most often, one row per address and category."""
    return _refused(frames, "rcpt")


@dataclass(frozen=True)
class Summary:
    tables: dict[str, pl.DataFrame]  # each table's kept rows, by name (TABLES)
    total: dict[str, int]  # each table's rows in all, kept or not

    @property
    def left_out(self) -> dict[str, int]:
        return {name: self.total[name] - t.height for name, t in self.tables.items()}

    def as_json(self) -> dict[str, Any]:
        """The JSON's ``traffic`` key: each table as records (hours as ISO text),
        the rows each kept and left out, and the caps."""
        out: dict[str, Any] = {"top": TOP, "hours_kept": HOURS}
        for name, table in self.tables.items():
            if "hour" in table.columns:
                table = table.with_columns(pl.col("hour").dt.strftime("%Y-%m-%dT%H:%M:%S"))
            out[name] = table.to_dicts()
        out["total"] = dict(self.total)
        out["left_out"] = self.left_out
        return out


def summarize(frames: Frames) -> Summary:
    full = {
        "domains": domains(frames),
        "clients": clients(frames),
        "hours": hours(frames),
        "refused_senders": refused_senders(frames),
        "refused_recipients": refused_recipients(frames),
    }
    return Summary(
        tables={n: t.head(HOURS if n == "hours" else TOP) for n, t in full.items()},
        total={n: t.height for n, t in full.items()},
    )
