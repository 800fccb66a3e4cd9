"""Q206968: clients allowed to relay are refused after the switch to 'Do not reroute'.

Relay attempts (inbound RCPTs to outside domains) refused after a logged change that
tightened relaying ('Do not reroute incoming SMTP mail', or a network taken out of
an allow list), from clients that had the right to relay before: inside an
allow-list entry (RelayAllowList, or a logged mynetworks or RemoteIPRanges), or seen
relaying before the change. Without a logged change, the moment those clients went
from accepted to refused is taken as an inferred change. Refusals before the change
are not counted, and clients that were never allowed are not this rule's business
(see relay-probing). A registry snapshot showing RelayFlags below 2 (or without it)
contradicts the article's cause: no finding.
"""

from __future__ import annotations

import polars as pl

from forensics.core.findings import Finding, plural, rule_meta, span
from forensics.rules.base import cited, first_reply, rcpt_finding
from forensics.rules.context import Context
from forensics.rules.context.change import Change, as_change, flip

RULE = "relay-not-allowed-relayflags"


def the_change(ctx: Context, attempts: pl.DataFrame) -> tuple[Change | None, bool]:
    refused = attempts.filter(pl.col("refusal") == "relay_denied")
    for row in ctx.tightening_changes().iter_rows(named=True):
        if refused.filter(pl.col("ts") >= row["ts"]).height:
            return as_change(row), True
    # No logged change: were clients with the right to relay (allow list, or seen
    # relaying) accepted until some moment and refused from then on?
    relayed = attempts.filter(pl.col("accepted").fill_null(False))
    allowed = pl.col("allow_entry").is_not_null() | pl.col("client").is_in(
        relayed["client"].unique().to_list()
    )
    return (
        flip(
            relayed.filter(allowed),
            refused.filter(allowed),
            "clients allowed to relay were refused from then on",
        ),
        False,
    )


def evaluate(ctx: Context) -> list[Finding]:
    attempts = ctx.relay_attempts()
    change, logged = the_change(ctx, attempts)
    if change is None:
        return []
    at = change.time
    relayed_before = attempts.filter(pl.col("accepted").fill_null(False) & (pl.col("ts") < at))
    earlier = relayed_before["client"].unique().to_list()
    rows = attempts.filter(
        (pl.col("refusal") == "relay_denied")
        & (pl.col("ts") >= at)
        & (pl.col("allow_entry").is_not_null() | pl.col("client").is_in(earlier))
    )
    if rows.height == 0:
        return []
    flags, flags_row = ctx.relayflags(span(rows)[1])
    if ctx.registry_seen is not None and (flags is None or flags < 2):
        return []  # the registry says the article's cause is not there
    ndrs = ctx.ndrs.filter(
        (pl.col("refusal") == "relay_denied")
        & (pl.col("ts") >= at)
        & pl.concat_str(
            ["reason_text", "diagnostic", "remote_text"], separator=" ", ignore_nulls=True
        ).str.contains(rule_meta(RULE)["settings"]["ndr_wording"])
    )
    clients = rows["client"].n_unique()
    where = f" ({flags_row['source']}:{flags_row['line']})" if flags_row else ""
    facts = {
        "clients": plural(clients, "client"),
        "reply": first_reply(rows),
        "after": f", after {change.cite()}",
        "relayflags_text": f"; the registry shows RelayFlags = {flags}{where}" if flags else "",
        "ndr_text": f"; {ndrs.height:,} 'Relay Not Allowed' NDR recipients" if ndrs.height else "",
        "relayflags_cause": (
            f"RelayFlags is {flags}{where}, so the IMS still applies the relay restrictions."
            if flags
            else "RelayFlags is most likely still 2 or higher (no registry snapshot was given: "
            "export MSExchangeIMC\\Parameters to confirm)."
        ),
    }
    seen = {
        "change": logged,
        "relayflags": bool(flags and flags >= 2),
        "allow_list": rows["allow_entry"].is_not_null().any(),
        "relayed_before": rows["client"].is_in(earlier).any(),
        "ndr": ndrs.height > 0,
        "version": ctx.version_matches("Q206968"),
    }
    ndr_text = pl.concat_str(
        [pl.lit("NDR for "), pl.col("recipient"), pl.lit(": "), pl.col("diagnostic")],
        ignore_nulls=True,
    )
    return [
        rcpt_finding(
            RULE,
            ctx.server_name(),
            rows,
            facts=facts,
            seen=seen,
            metrics={"clients": clients},
            also=[cited(ndrs, ndr_text)],
            change=change,
        )
    ]
