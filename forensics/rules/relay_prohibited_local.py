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

import polars as pl

from forensics.core.findings import Finding, plural
from forensics.rules.base import cited, make, most_common, rcpt_text
from forensics.rules.context import Context, flip

RULE = "relay-prohibited-local-recipient"
RECENT_HOURS = 24


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
    results = []
    for domain in sorted(domains):
        rows = refused.filter(pl.col("rcpt_domain") == domain)
        its_bounces = bounces.filter(pl.col("rcpt_domain") == domain)
        primary = rows if rows.height else its_bounces
        first, last = primary["ts"].min(), primary["ts"].max()
        mail = local.filter(pl.col("rcpt_domain") == domain)
        before = mail.filter(pl.col("accepted").fill_null(False) & (pl.col("ts") < first))
        after = mail.filter(pl.col("ts") >= first)
        # The switch to 'Do not reroute' if it was logged; else the last change logged
        # shortly before (a domain dropped from Postfix's mydestination, say).
        change = ctx.change_before(first, ctx.stop_relay_changes()) or ctx.change_before(
            first, ctx.recent_changes(first, RECENT_HOURS)
        )
        logged = change is not None
        if change is None:
            accepted = mail.filter(pl.col("accepted").fill_null(False))
            change = flip(
                accepted, primary, f"mail for {domain} accepted, then refused as relaying"
            )
        flags, flags_row = ctx.relayflags(last)
        listed = int(primary["in_directory"].sum())
        origin = most_common(primary, "domain_origin")
        reply = (
            f"{rows['code'][0]} {rows['text'][0] or ''}"
            if rows.height
            else f"{its_bounces['remote_code'][0] or ''} {its_bounces['remote_text'][0] or ''}"
        ).strip()
        senders = rows["client"] if rows.height else its_bounces["software"]
        facts = {
            "recipients": f"{primary['rcpt' if rows.height else 'recipient'].n_unique():,}",
            "recipient_kind": "directory-listed" if listed else f"({origin})",
            "reply": reply,
            "clients": plural(senders.n_unique(), "sending host"),
            "after": f", after {change.cite()}" if change else "",
            "change_text": f" since {change.cite()}" if change else "",
            "relayflags_text": (
                f" The registry shows RelayFlags = {flags} ({flags_row['source']}:"
                f"{flags_row['line']}): relay restrictions are in force."
                if flags
                else ""
            ),
            "ndr_text": (
                f"; {plural(its_bounces.height, 'bounce')} forwarded by senders quote it"
                if its_bounces.height
                else ""
            ),
        }
        seen = {
            "directory": listed > 0,
            "domain_known": origin in ("directory", "option"),
            "change": logged,
            "accepted_before": before.height > 0,
            "restrictions": bool(flags and flags & 0b1110),
            "ndr": its_bounces.height > 0,
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
        results.append(
            make(
                RULE,
                domain,
                count=primary.height,
                first=first,
                last=last,
                facts=facts,
                seen=seen,
                metrics={"share": rows.height / after.height if after.height else 0.0},
                evidence=[cited(rows, rcpt_text()), cited(its_bounces, bounce_text)],
                change=change,
            )
        )
    return results
