"""Q256856: inbound mail for local recipients refused as relaying.

Inbound RCPTs to a local domain (given, from the directory, or inferred) answered
with a relay refusal; and the bounces senders forward, in which their server quotes
this server's relay refusal for a local recipient. One finding per local domain,
counted from the protocol log when there is one (the bounces corroborate), else from
the bounces. Tied to the last logged change to 'Do not reroute' before the first
refusal or, without one, to the moment mail for the domain stopped being accepted
(an inferred change).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from forensics.core.findings import Finding, plural, rule_meta, span
from forensics.derive.localdomains import configured_lists
from forensics.knowledge import load
from forensics.rules.base import cited, first_reply, make, most_common, rcpt_text
from forensics.rules.context import Context
from forensics.rules.context.change import Change, flip

RULE = "relay-prohibited-local-recipient"


def _change(
    ctx: Context, first: dt.datetime | None, mail: pl.DataFrame, primary: pl.DataFrame, domain: str
) -> tuple[Change | None, bool]:
    """The change the refusals follow, and whether it was logged: the switch to 'Do
    not reroute' if it was logged; else the last change logged shortly before (a
    domain dropped from Postfix's mydestination, say); else the moment mail for the
    domain went from accepted to refused."""
    hours = rule_meta(RULE)["settings"]["recent_change_hours"]
    change = ctx.change_before(first, ctx.stop_relay_changes()) or ctx.change_before(
        first, ctx.recent_changes(first, hours)
    )
    if change is not None:
        return change, True
    accepted = mail.filter(pl.col("accepted").fill_null(False))
    return flip(accepted, primary, f"mail for {domain} accepted, then refused as relaying"), False


# Config rows that are snapshots of the configuration, not the change log's rows.
_CHANGE_ORIGINS = ("changelog", "inferred", "registry")


def _not_configured(ctx: Context, domain: str) -> str:
    """Where the newest configuration snapshot lists the local domains and ``domain``
    is not among them: that is the cause, named with its lines ('' when no snapshot
    lists local domains, or the newest names the domain)."""
    # The newest snapshot of each list: an admin pastes `postconf -n` while the
    # refusals go on, after the change that caused them.
    newest: dict[str, dict[str, Any]] = {}
    snapshots = ctx.frames.config.filter(~pl.col("origin").is_in(_CHANGE_ORIGINS))
    for row in configured_lists(snapshots.sort("ts", nulls_last=False)):
        newest[row["key"]] = row
    lists = list(newest.values())
    if not lists or any(domain in row["items"] for row in lists):
        return ""
    cited = "; ".join(
        f"{row['key'].rsplit(chr(92), 1)[-1]} = {row['new']} ({row['source']}:{row['line']})"
        for row in lists[:3]
    )
    return f"; {domain} is in none of the configuration's lists of local domains: {cited}"


def _allowing_bits() -> int:
    """The RelayFlags bits that let some clients relay (relayflags.toml ``allows``)."""
    return sum(bit["value"] for bit in load("relayflags")["bit"] if bit["allows"])


def evaluate(ctx: Context) -> list[Finding]:
    local = ctx.recipients.filter(
        (pl.col("direction") == "inbound") & (pl.col("local") == True)  # noqa: E712
    )
    refused = local.filter(pl.col("refusal") == "relay_denied")
    bounces = ctx.ndrs.filter(
        (pl.col("local") == True)  # noqa: E712
        & (pl.col("refusal") == "relay_denied")
        & (pl.col("remote_mta").is_null() | ctx.is_this_server(pl.col("remote_mta")))
    )
    domains = set(refused["rcpt_domain"].drop_nulls()) | set(bounces["rcpt_domain"].drop_nulls())
    return [
        _finding(
            ctx,
            domain,
            refused.filter(pl.col("rcpt_domain") == domain),
            bounces.filter(pl.col("rcpt_domain") == domain),
            local.filter(pl.col("rcpt_domain") == domain),
        )
        for domain in sorted(domains)
    ]


def _finding(
    ctx: Context, domain: str, rows: pl.DataFrame, bounces: pl.DataFrame, mail: pl.DataFrame
) -> Finding:
    """The finding for one local domain: its refused RCPTs (``rows``), the bounces
    quoting them, and all inbound mail for it (``mail``)."""
    primary = rows if rows.height else bounces
    first, last = span(primary)
    before = mail.filter(pl.col("accepted").fill_null(False) & (pl.col("ts") < first))
    after = mail.filter(pl.col("ts") >= first)
    change, logged = _change(ctx, first, mail, primary, domain)
    flags, flags_row = ctx.relayflags(last)
    listed = int(primary["in_directory"].sum())
    origin = most_common(primary, "domain_origin")
    missing = _not_configured(ctx, domain)
    seen = {
        "config": bool(missing),
        "directory": listed > 0,
        "domain_known": origin in ("directory", "option"),
        "change": logged,
        "accepted_before": before.height > 0,
        "restrictions": bool(flags and flags & _allowing_bits()),
        "ndr": bounces.height > 0,
        "version": ctx.version_matches("Q256856"),
    }
    bounce_text = pl.concat_str(
        [
            pl.lit("bounce for "),
            pl.col("recipient"),
            pl.lit(": "),
            pl.col("remote_code").cast(pl.String),
            pl.lit(" "),
            pl.col("remote_text"),
        ],
        ignore_nulls=True,
    )
    return make(
        RULE,
        domain,
        count=primary.height,
        first=first,
        last=last,
        facts=_facts(
            rows, bounces, change, flags, flags_row, "directory-listed" if listed else f"({origin})"
        )
        | {"config_text": missing},
        seen=seen,
        metrics={"share": rows.height / after.height if after.height else 0.0},
        evidence=[cited(rows, rcpt_text()), cited(bounces, bounce_text)],
        change=change,
    )


def _facts(
    rows: pl.DataFrame,
    bounces: pl.DataFrame,
    change: Change | None,
    flags: int | None,
    flags_row: dict[str, Any] | None,
    recipient_kind: str,
) -> dict[str, Any]:
    """The template's fields, from the refused RCPTs or else the bounces."""
    if rows.height:
        reply, recipients, senders = first_reply(rows), rows["rcpt"], rows["client"]
    else:
        first = bounces.row(0, named=True)
        reply = f"{first['remote_code'] or ''} {first['remote_text'] or ''}".strip()
        recipients, senders = bounces["recipient"], bounces["software"]
    where = f"{flags_row['source']}:{flags_row['line']}" if flags_row else ""
    return {
        "recipients": f"{recipients.n_unique():,}",
        "recipient_kind": recipient_kind,
        "reply": reply,
        "clients": plural(senders.n_unique(), "sending host"),
        "after": f", after {change.cite()}" if change else "",
        "change_text": f" since {change.cite()}" if change else "",
        "relayflags_text": (
            f" The registry shows RelayFlags = {flags} ({where}): relay restrictions are in force."
            if flags
            else ""
        ),
        "ndr_text": (
            f"; {plural(bounces.height, 'bounce')} forwarded by senders quote it"
            if bounces.height
            else ""
        ),
    }
