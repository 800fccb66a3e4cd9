"""Q179289: the Internet Mail Service crashes at start with RelayFlags = 2 and a
RelayAllowList of several entries.

The failures come from the event log: Dr. Watson's application error for the IMS,
the Service Control Manager's 'terminated unexpectedly' / 'could not start' for the
Internet Mail Service, MSExchangeIMC's serious-error and cannot-load events. A
failure alone is reported with a low confidence: it is the registry (RelayFlags 2
and several allow-list entries in force at the time) that makes it this article.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from forensics.core.findings import Finding, articles, plural, rule_meta
from forensics.derive.crashes import crash_times
from forensics.rules.base import cited, make, most_common
from forensics.rules.context import Context, as_change

RULE = "ims-crash-relayflags"
SCM_FAILURES = [7000, 7009, 7023, 7024, 7031, 7034]
IMC_FAILURES = [4056, 4071, 4086, 4102]


def _failures(ctx: Context) -> pl.DataFrame:
    about_ims = (
        pl.col("message")
        .fill_null("")
        .str.contains("(?i)" + rule_meta(RULE)["settings"]["crash_pattern"])
    )
    source, event = pl.col("event_source"), pl.col("event_id")
    failures = ctx.service_events.filter(
        ((source == "DrWatson") & about_ims)
        | ((source == "Service Control Manager") & event.is_in(SCM_FAILURES) & about_ims)
        | ((source == "MSExchangeIMC") & event.is_in(IMC_FAILURES))
    )
    # Dr. Watson's own time of the crash, to the second, where it wrote one.
    return failures.with_columns(pl.coalesce(crash_times(failures), pl.col("ts")).alias("ts")).sort(
        "ts", "source", "line"
    )


def evaluate(ctx: Context) -> list[Finding]:
    failures = _failures(ctx)
    if failures.height == 0:
        return []
    first, last = failures["ts"].min(), failures["ts"].max()
    heap = failures.filter(
        pl.col("message").str.contains("(?i)c0000005")
        & pl.col("message").str.contains("(?i)RtlAllocateHeap")
    )
    flags, flags_row = ctx.relayflags(first)
    allow = ctx.registry_value("RelayAllowList", first)
    entries = allow["new"].split(", ") if allow and allow["new"] else []
    hours = rule_meta(RULE)["settings"]["change_within_hours"]
    changes = ctx.changes.filter(
        pl.col("key").str.contains("(?i)relay")
        & (pl.col("ts") <= first)
        & (pl.col("ts") >= (first - dt.timedelta(hours=hours)) if first else pl.lit(False))
    )
    # The admin's own account of the change says more than the snapshot that shows it.
    changes = changes.sort(pl.col("origin") == "changelog", "ts", "source", "line")
    change = as_change(changes.row(-1, named=True)) if changes.height else None
    back = ctx.starts.filter(pl.col("ts") > last)
    kinds = (
        failures.group_by("event_source", maintain_order=True)
        .agg(pl.col("event_id").unique(maintain_order=True).cast(pl.String).str.join(", "))
        .select(pl.concat_str(["event_source", "event_id"], separator=" "))
        .to_series()
        .to_list()
    )
    # The protocol log's side: sessions cut off when the service died.
    window = rule_meta(RULE)["settings"]["cut_within_minutes"]
    cut = ctx.sessions.filter(
        (pl.col("outcome") == "incomplete")
        & pl.col("end").is_between(first - dt.timedelta(minutes=window), first)
    )["session"]
    last_lines = (
        ctx.frames.events.filter(pl.col("session").is_in(cut.to_list()))
        .group_by("session", maintain_order=True)
        .last()
    )
    relay_text = ""
    if flags is not None:
        relay_text = f"; RelayFlags = {flags} ({flags_row['source']})"
        if entries:
            relay_text += f" with a RelayAllowList of {len(entries)} entries ({', '.join(entries)})"
    matched = flags == 2 and len(entries) >= 2
    cause_text = (
        f"{articles()['Q179289']['cause']} Here: RelayFlags = {flags} and RelayAllowList "
        f"{', '.join(entries)} ({flags_row['source']})."
        if matched
        else "The Internet Mail Service failed at start or crashed. The evidence does not show "
        "the cause Q179289 describes (RelayFlags 2 with several RelayAllowList entries): "
        "export MSExchangeIMC\\Parameters from the registry to check it."
    )
    facts = {
        "events": "; ".join(kinds),
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
        "heap": heap.height > 0,
        "relayflags": flags == 2,
        "allow_list": len(entries) >= 2,
        "change": change is not None,
        "version": ctx.version_matches("Q179289"),
        "cut": last_lines.height > 0,
    }
    subject = most_common(failures, "computer") or ctx.server_name()
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
    registry = [
        cited(
            pl.DataFrame([row]).select("source", "line", "ts", "key", "new"),
            pl.concat_str(
                [pl.col("key"), pl.lit(" = "), pl.col("new").cast(pl.String).fill_null("(absent)")]
            ),
        )
        for row in (flags_row, allow)
        if row is not None
    ]
    return [
        make(
            RULE,
            subject,
            count=failures.height,
            first=first,
            last=last,
            facts=facts,
            seen=seen,
            metrics={},
            evidence=[
                cited(failures, text),
                *registry,
                cited(
                    last_lines,
                    pl.lit("the session's last line before the log stops: ")
                    + pl.concat_str(
                        ["verb", "code", "arg", "text"], separator=" ", ignore_nulls=True
                    ),
                ),
            ],
            change=change,
        )
    ]
