"""Q179289: the Internet Mail Service crashes at start with RelayFlags = 2 and a
RelayAllowList of several entries.

The failures come from the event log: Dr. Watson's application error for the IMS,
the Service Control Manager's 'terminated unexpectedly' / 'could not start' for the
Internet Mail Service, MSExchangeIMC's serious-error and cannot-load events (which
events: rules.toml ``failures``). A failure alone is reported with a low confidence:
it is the registry (RelayFlags 2 and several allow-list entries in force at the
time) that makes it this article.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
from typing import Any, cast

import polars as pl

from forensics.core.findings import Finding, articles, plural, rule_meta, span
from forensics.derive.crashes import crash_times
from forensics.rules.base import cited, make, most_common
from forensics.rules.context import Context
from forensics.rules.context.change import Change, as_change

RULE = "ims-crash-relayflags"


def _settings() -> dict[str, Any]:
    settings: dict[str, Any] = rule_meta(RULE)["settings"]
    return settings


def _failure(kind: dict[str, Any], about_ims: pl.Expr) -> pl.Expr:
    """An event of one kind of failure (rules.toml ``failures``)."""
    condition: pl.Expr = pl.col("event_source") == kind["source"]
    if "ids" in kind:
        condition = condition & pl.col("event_id").is_in(kind["ids"])
    if kind["about_ims"]:
        condition = condition & about_ims
    return condition


def _failures(ctx: Context) -> pl.DataFrame:
    settings = _settings()
    about_ims = pl.col("message").fill_null("").str.contains("(?i)" + settings["crash_pattern"])
    kinds = [_failure(kind, about_ims) for kind in settings["failures"]]
    failures = ctx.service_events.filter(functools.reduce(operator.or_, kinds))
    # Dr. Watson's own time of the crash, to the second, where it wrote one.
    return failures.with_columns(pl.coalesce(crash_times(failures), pl.col("ts")).alias("ts")).sort(
        "ts", "source", "line"
    )


def _heap_crash(failures: pl.DataFrame) -> pl.DataFrame:
    """The failures whose message has every word of the article's crash."""
    words = [pl.col("message").str.contains("(?i)" + w) for w in _settings()["heap_crash"]]
    return failures.filter(functools.reduce(operator.and_, words))


def _relay_change(ctx: Context, first: dt.datetime | None) -> Change | None:
    """The last change to a relay value in the hours before the first failure."""
    hours = _settings()["change_within_hours"]
    changes = ctx.changes.filter(
        pl.col("key").str.contains("(?i)relay")
        & (pl.col("ts") <= first)
        & (pl.col("ts") >= (first - dt.timedelta(hours=hours)) if first else pl.lit(False))
    )
    # The admin's own account of the change says more than the snapshot that shows it.
    changes = changes.sort(pl.col("origin") == "changelog", "ts", "source", "line")
    return as_change(changes.row(-1, named=True)) if changes.height else None


def _cut_off(ctx: Context, first: dt.datetime | None) -> pl.DataFrame:
    """The protocol log's side: the last line of each session cut off when the
    service died."""
    window = _settings()["cut_within_minutes"]
    # Without a failure time this fails, as it always has.
    at = cast(dt.datetime, first)
    cut = ctx.sessions.filter(
        (pl.col("outcome") == "incomplete")
        & pl.col("end").is_between(at - dt.timedelta(minutes=window), first)
    )["session"]
    return (
        ctx.frames.events.filter(pl.col("session").is_in(cut.to_list()))
        .group_by("session", maintain_order=True)
        .last()
    )


def _kinds(failures: pl.DataFrame) -> list[str]:
    """Each event source with the ids of its failures ('MSExchangeIMC 4056, 4071')."""
    kinds: list[str] = (
        failures.group_by("event_source", maintain_order=True)
        .agg(pl.col("event_id").unique(maintain_order=True).cast(pl.String).str.join(", "))
        .select(pl.concat_str(["event_source", "event_id"], separator=" "))
        .to_series()
        .to_list()
    )
    return kinds


def _relay_texts(
    flags: int | None, flags_row: dict[str, Any] | None, entries: list[str]
) -> tuple[str, str]:
    """What the registry says of the relay settings, and the cause as it shows it."""
    relay_text = ""
    if flags is not None:
        assert flags_row is not None  # a value is read from its row
        relay_text = f"; RelayFlags = {flags} ({flags_row['source']})"
        if entries:
            relay_text += f" with a RelayAllowList of {len(entries)} entries ({', '.join(entries)})"
    if flags == 2 and len(entries) >= 2:
        assert flags_row is not None
        cause_text = (
            f"{articles()['Q179289']['cause']} Here: RelayFlags = {flags} and RelayAllowList "
            f"{', '.join(entries)} ({flags_row['source']})."
        )
    else:
        cause_text = (
            "The Internet Mail Service failed at start or crashed. The evidence does not show "
            "the cause Q179289 describes (RelayFlags 2 with several RelayAllowList entries): "
            "export MSExchangeIMC\\Parameters from the registry to check it."
        )
    return relay_text, cause_text


def evaluate(ctx: Context) -> list[Finding]:
    failures = _failures(ctx)
    if failures.height == 0:
        return []
    first, last = span(failures)
    flags, flags_row = ctx.relayflags(first)
    allow = ctx.registry_value("RelayAllowList", first)
    entries = allow["new"].split(", ") if allow and allow["new"] else []
    change = _relay_change(ctx, first)
    back = ctx.starts.filter(pl.col("ts") > last)
    last_lines = _cut_off(ctx, first)
    relay_text, cause_text = _relay_texts(flags, flags_row, entries)
    facts = {
        "events": "; ".join(_kinds(failures)),
        "relayflags_text": relay_text,
        "downtime": (
            f"; the service was running again at {back['ts'][0]:%Y-%m-%d %H:%M}"
            if back.height
            else "; no later start of the service is in the evidence"
        ),
        "cause_text": cause_text,
        "cut_text": (
            f"; {plural(last_lines.height, 'SMTP session')} stopped mid-way as it failed"
            if last_lines.height
            else ""
        ),
    }
    seen = {
        "heap": _heap_crash(failures).height > 0,
        "relayflags": flags == 2,
        "allow_list": len(entries) >= 2,
        "change": change is not None,
        "version": ctx.version_matches("Q179289"),
        "cut": last_lines.height > 0,
    }
    return [
        make(
            RULE,
            most_common(failures, "computer") or ctx.server_name(),
            count=failures.height,
            first=first,
            last=last,
            facts=facts,
            seen=seen,
            metrics={},
            evidence=_evidence(failures, [flags_row, allow], last_lines),
            change=change,
        )
    ]


def _evidence(
    failures: pl.DataFrame, registry: list[dict[str, Any] | None], last_lines: pl.DataFrame
) -> list[pl.DataFrame]:
    """The failures, the registry values in force, and the sessions cut off."""
    text = pl.concat_str(
        [
            pl.col("event_source"),
            pl.lit(" "),
            pl.col("event_id").cast(pl.String),
            pl.lit(": "),
            pl.col("message"),
        ],
        ignore_nulls=True,
    )
    values = pl.concat_str(
        [pl.col("key"), pl.lit(" = "), pl.col("new").cast(pl.String).fill_null("(absent)")]
    )
    session_end = pl.lit("the session's last line before the log stops: ") + pl.concat_str(
        ["verb", "code", "arg", "text"], separator=" ", ignore_nulls=True
    )
    return [
        cited(failures, text),
        *[
            cited(pl.DataFrame([row]).select("source", "line", "ts", "key", "new"), values)
            for row in registry
            if row is not None
        ],
        cited(last_lines, session_end),
    ]
