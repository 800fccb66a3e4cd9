"""Q168781: outbound mail refused as relaying by the next hop.

Seen four ways, any of which is enough: outbound sessions in which the next hop
answers a RCPT with a relay refusal, NDRs quoting such a refusal that came back
within minutes of sending, MSExchangeIMC event 4031 quoting it, and message paths in
the tracking logs whose NDR was generated seconds after the message was queued out
(with the refusal known from the tracking log, the session or the NDR that came
back). One finding per refusing host; NDRs, events and paths that do not name the
host go to the host that refused most.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import polars as pl

from forensics.core.findings import Finding, plural, rule_meta, share, span
from forensics.core.replies import refusal_category
from forensics.knowledge import load
from forensics.rules.base import cited, first_reply, make, most_common, rcpt_text
from forensics.rules.context import Context

RULE = "immediate-outbound-550"
UNNAMED = "the next hop (not named in the evidence)"


@dataclass
class _Reports:
    """What each source shows of refused relaying: the protocol log's refused RCPTs,
    the NDRs that came back, the IMS's events, the tracking log's immediate NDRs."""

    rows: pl.DataFrame
    ndrs: pl.DataFrame
    events: pl.DataFrame
    paths: pl.DataFrame

    def any(self) -> bool:
        return any(f.height for f in (self.rows, self.ndrs, self.events, self.paths))

    def of(self, subject: str, first: bool) -> _Reports:
        """The reports of one refusing host; those that name no host belong with the
        host that refused the most (``first``)."""
        mine = (pl.col("host") == subject) | (pl.col("host").is_null() & pl.lit(first))
        return _Reports(
            rows=self.rows.filter(pl.col("client") == subject),
            ndrs=self.ndrs.filter(mine),
            events=self.events if first else self.events.clear(),
            paths=self.paths.filter(mine),
        )


def _event() -> dict[str, Any]:
    """The event the IMS writes when the next hop refuses (rules.toml refusal_event)."""
    event: dict[str, Any] = rule_meta(RULE)["settings"]["refusal_event"]
    return event


def _ndrs(ctx: Context) -> pl.DataFrame:
    limit = load("tracking")["immediate_seconds"]
    delay = (pl.col("ts") - pl.col("original_sent")).dt.total_seconds()
    # Bounces for local recipients are inbound refusals (Q256856), not this.
    return ctx.ndrs.filter(
        (pl.col("refusal") == "relay_denied")
        & (delay.is_null() | (delay <= limit))
        & (pl.col("local") != True).fill_null(True)  # noqa: E712
    ).with_columns(pl.coalesce("remote_mta", pl.lit(None, pl.String)).alias("host"))


def _events(ctx: Context) -> pl.DataFrame:
    event = _event()
    code = pl.col("message").str.extract(r"\b([45][0-9][0-9])\b").cast(pl.UInt16, strict=False)
    return ctx.service_events.filter(
        (pl.col("event_source") == event["source"])
        & (pl.col("event_id") == event["id"])
        & (refusal_category(code, pl.col("message")) == "relay_denied")
    )


def _tracking(ctx: Context) -> pl.DataFrame:
    return ctx.paths.filter(
        (pl.col("direction") == "outbound")
        & pl.col("immediate_ndr").fill_null(False)
        & (pl.col("refusal") == "relay_denied")
    ).with_columns(pl.col("remote_host").alias("host"))


def _subjects(found: _Reports) -> list[str]:
    """The refusing hosts, most refusals first; without a refused RCPT, the host the
    NDRs or the tracking log name most."""
    if found.rows.height == 0:
        return [most_common(found.ndrs, "host") or most_common(found.paths, "host") or UNNAMED]
    hosts = found.rows.group_by("client").len().sort(["len", "client"], descending=[True, False])
    subjects: list[str] = hosts["client"].to_list()
    return subjects


def evaluate(ctx: Context) -> list[Finding]:
    outbound = ctx.recipients.filter(pl.col("direction") == "outbound")
    found = _Reports(
        rows=outbound.filter(pl.col("refusal") == "relay_denied"),
        ndrs=_ndrs(ctx),
        events=_events(ctx),
        paths=_tracking(ctx),
    )
    if not found.any():
        return []
    inbound_ok = ctx.recipients.filter(
        (pl.col("direction") == "inbound") & pl.col("accepted").fill_null(False)
    )
    return [
        _finding(ctx, subject, found.of(subject, i == 0), outbound, inbound_ok)
        for i, subject in enumerate(_subjects(found))
    ]


def _finding(
    ctx: Context,
    subject: str,
    its: _Reports,
    outbound: pl.DataFrame,
    inbound_ok: pl.DataFrame,
) -> Finding:
    # Each source sees refused recipients: the protocol log all of them, the events
    # one per recipient, the NDRs those users forwarded. Count from the one that saw
    # most (with the column that holds the reply in each).
    primary, said = max(
        (
            (its.rows, "text"),
            (its.events, "message"),
            (its.ndrs, "remote_text"),
            (its.paths, "text"),
        ),
        key=lambda pair: pair[0].height,
    )
    first, last = span(primary)
    given = outbound.filter((pl.col("client") == subject) & (pl.col("ts") >= first))
    during = inbound_ok.filter(pl.col("ts").is_between(first, last))
    seen = {
        "protocol": its.rows.height > 0,
        "ndr": its.ndrs.height > 0,
        "event": its.events.height > 0,
        "tracking": its.paths.height > 0,
        "inbound_ok": during.height > 0,
        "version": ctx.version_matches("Q168781"),
    }
    return make(
        RULE,
        subject,
        count=primary.height,
        first=first,
        last=last,
        facts=_facts(its, primary, said, given, during),
        seen=seen,
        metrics={"share": its.rows.height / given.height if given.height else 0.0},
        evidence=_evidence(its),
    )


def _facts(
    its: _Reports, primary: pl.DataFrame, said: str, given: pl.DataFrame, during: pl.DataFrame
) -> dict[str, Any]:
    rows = its.rows
    if rows.height:
        reply = first_reply(rows)
        recipients = rows["rcpt"].n_unique()
        domains = rows["rcpt_domain"].drop_nulls().unique().sort().to_list()
    else:
        reply = most_common(primary, said).split("reported: ")[-1]
        recipients = primary.height
        domains = []
    corroboration = _corroboration(its)
    return {
        "recipients": plural(recipients, "recipient"),
        "domains": _domains(domains),
        "reply": reply,
        "share": share(rows.height, given.height) if rows.height else "n/a",
        "corroboration": ("; also " + " and ".join(corroboration)) if corroboration else "",
        "inbound_ok": (
            f" (inbound mail kept arriving meanwhile: {during.height:,} RCPTs accepted)"
            if during.height
            else ""
        ),
    }


def _corroboration(its: _Reports) -> list[str]:
    """What the sources besides the protocol log add, as phrases."""
    said = []
    if its.ndrs.height:
        said.append(f"{its.ndrs.height:,} NDR recipients")
    if its.events.height:
        event = _event()
        said.append(f"{its.events.height:,} {event['source']} {event['id']} events")
    if its.paths.height:
        said.append(
            f"{its.paths.height:,} immediate NDRs in the message tracking log "
            f"(median {cast(float, its.paths['seconds_to_ndr'].median()):.0f} s after queueing)"
        )
    return said


def _evidence(its: _Reports) -> list[pl.DataFrame]:
    ndr_text = pl.concat_str(
        [pl.lit("NDR for "), pl.col("recipient"), pl.lit(": "), pl.col("diagnostic")],
        ignore_nulls=True,
    )
    path_text = pl.format(
        "tracking: NDR for {} {} s after queueing ({})",
        pl.col("recipient"),
        pl.col("seconds_to_ndr").round(0).cast(pl.Int64),
        pl.col("message_id"),
    )
    return [
        cited(its.rows, rcpt_text()),
        cited(its.ndrs, ndr_text),
        cited(its.events, pl.lit(f"event {_event()['id']}: ") + pl.col("message")),
        cited(its.paths, path_text),
    ]


def _domains(domains: list[str]) -> str:
    if not domains:
        return "the refused domains"
    shown = ", ".join(domains[:3])
    return f"{plural(len(domains), 'domain')} ({shown}{', ...' if len(domains) > 3 else ''})"
