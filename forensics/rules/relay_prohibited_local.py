"""Q256856: inbound mail for local recipients refused as relaying.

Inbound RCPTs to a local domain (given, from the directory, or inferred) answered
with a relay refusal. One finding per local domain. Tied to the last logged change
to 'Do not reroute' before the first refusal or, without one, to the moment mail
for the domain stopped being accepted (an inferred change).
"""

from __future__ import annotations

import polars as pl

from forensics.findings import Finding, plural
from forensics.rules.base import cited, make, most_common, rcpt_text
from forensics.rules.context import Context, flip

RULE = "relay-prohibited-local-recipient"


def evaluate(ctx: Context) -> list[Finding]:
    local = ctx.recipients.filter(
        (pl.col("direction") == "inbound") & (pl.col("local") == True)  # noqa: E712
    )
    refused = local.filter(pl.col("refusal") == "relay_denied")
    results = []
    for domain in sorted(refused["rcpt_domain"].drop_nulls().unique().to_list()):
        rows = refused.filter(pl.col("rcpt_domain") == domain)
        first, last = rows["ts"].min(), rows["ts"].max()
        mail = local.filter(pl.col("rcpt_domain") == domain)
        before = mail.filter(pl.col("accepted").fill_null(False) & (pl.col("ts") < first))
        after = mail.filter(pl.col("ts") >= first)
        change = ctx.change_before(first, ctx.stop_relay_changes())
        logged = change is not None
        if change is None:
            change = flip(before, rows, f"mail for {domain} accepted, then refused as relaying")
        flags, flags_row = ctx.relayflags(last)
        listed = int(rows["in_directory"].sum())
        origin = most_common(rows, "domain_origin")
        facts = {
            "recipients": f"{rows['rcpt'].n_unique():,}",
            "recipient_kind": "directory-listed" if listed else f"({origin})",
            "reply": f"{rows['code'][0]} {rows['text'][0] or ''}".strip(),
            "clients": plural(rows["client"].n_unique(), "sending host"),
            "after": f", after {change.cite()}" if change else "",
            "change_text": f" since {change.cite()}" if change else "",
            "relayflags_text": (
                f" The registry shows RelayFlags = {flags} ({flags_row['source']}:"
                f"{flags_row['line']}): relay restrictions are in force."
                if flags
                else ""
            ),
        }
        seen = {
            "directory": listed > 0,
            "domain_known": origin in ("directory", "option"),
            "change": logged,
            "accepted_before": before.height > 0,
            "restrictions": bool(flags and flags & 0b1110),
            "version": ctx.version_matches("Q256856"),
        }
        results.append(
            make(
                RULE,
                domain,
                count=rows.height,
                first=first,
                last=last,
                facts=facts,
                seen=seen,
                metrics={"share": rows.height / after.height if after.height else 0.0},
                evidence=[cited(rows, rcpt_text())],
                change=change,
            )
        )
    return results
