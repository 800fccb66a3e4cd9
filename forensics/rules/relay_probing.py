"""Relay probing: one address making repeated relay attempts that are refused.

Inbound RCPTs to outside domains refused as relaying, from a client that never had a
relay accepted, that is not the server itself or its users, and that no allow-list
entry holds (an allowed client being
refused is relay-not-allowed-relayflags' business). One finding per client address
with at least the configured number of attempts; severity grows with the count.
Clients on private addresses are grouped by /24 network: a dozen office PCs refused
one after the other are one misconfiguration to fix, not a dozen probes.
"""

from __future__ import annotations

import polars as pl

from forensics.core.findings import Finding, plural, rule_meta
from forensics.rules.base import by_group, client_group, first_reply, rcpt_finding
from forensics.rules.context import Context

RULE = "relay-probing"


def evaluate(ctx: Context) -> list[Finding]:
    attempts = ctx.relay_attempts()
    ever_relayed = attempts.filter(pl.col("accepted").fill_null(False))["client"].unique()
    refused = attempts.filter(
        (pl.col("refusal") == "relay_denied")
        & ~pl.col("own")
        & pl.col("allow_entry").is_null()
        & ~pl.col("client").is_in(ever_relayed.to_list())
    )
    refused = refused.with_columns(client_group().alias("group"))
    minimum = rule_meta(RULE)["settings"]["min_attempts"]
    results = []
    for group, rows in by_group(refused, "group"):
        if rows.height < minimum:
            continue
        sessions = rows["session"].n_unique()
        clients = rows["client"].n_unique()
        facts = {
            "who": group if clients == 1 else f"{clients} clients in {group}",
            "sessions": plural(sessions, "session"),
            "domains": plural(rows["rcpt_domain"].n_unique(), "outside domain"),
            "reply": first_reply(rows),
        }
        seen = {"domains_known": ctx.domains_given, "many": sessions > 1}
        results.append(
            rcpt_finding(RULE, group, rows, facts=facts, seen=seen, metrics={"sessions": sessions})
        )
    return results
