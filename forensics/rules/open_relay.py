"""Open relay: mail for outside domains accepted from clients with no right to relay.

Inbound RCPTs to domains that are not local, accepted, with the message data
accepted, from a client that did not authenticate, is not the server itself (nor
its content filter) and that no allow-list entry
holds (RelayAllowList, or a logged mynetworks or RemoteIPRanges). Clients that
relayed only after a change meant to stop relaying, and were allowed before it,
belong to unexpected-relay-after-change instead. Nothing is called foreign while
no local domain is known. One finding per client address (a /24 network for
private addresses).
"""

from __future__ import annotations

from typing import Any

import polars as pl

from forensics.core.findings import Finding, plural, rule_meta, span
from forensics.rules.base import by_group, client_group, rcpt_finding
from forensics.rules.context import Context

RULE = "open-relay"


def _relayflags_cause(ctx: Context, flags: int | None, flags_row: dict[str, Any] | None) -> str:
    """What the registry says of why the server relays."""
    if ctx.registry_seen is None:
        return (
            "no registry snapshot was given; export MSExchangeIMC\\Parameters and check "
            "RelayFlags and the routing restrictions."
        )
    if flags is None or flags == 0:
        where = flags_row["source"] if flags_row else ctx.registry_seen
        return f"RelayFlags is absent or 0 ({where}), which means no relay restriction at all."
    assert flags_row is not None  # a value is read from its row
    return (
        f"RelayFlags is {flags} ({flags_row['source']}), yet this client relayed: the "
        "routing restrictions configured in the Exchange directory allow it."
    )


def evaluate(ctx: Context) -> list[Finding]:
    if not ctx.local_known:
        return []
    attempts = ctx.relay_attempts()
    # Accepted RCPTs whose message went through, and those of a session that stopped
    # before DATA (a relay test typed by hand stops there): both show the server
    # would relay; a refused DATA does not count.
    relayed = attempts.filter(
        pl.col("accepted").fill_null(False)
        & pl.col("outcome").is_in(["delivered", "partial", "incomplete"])
        & ~pl.col("own")
        & pl.col("allow_entry").is_null()
    )
    if relayed.height == 0:
        return []
    # A client that relayed before a change meant to stop relaying was allowed then.
    changes = ctx.tightening_changes()
    if changes.height:
        first_change = changes["ts"].min()
        earlier = relayed.filter(pl.col("ts") < first_change)["client"].unique().to_list()
        relayed = relayed.filter(
            ~(pl.col("client").is_in(earlier) & (pl.col("ts") >= first_change))
        )
    relayed = relayed.with_columns(client_group().alias("group"))
    settings = rule_meta(RULE)["settings"]
    many = relayed["group"].n_unique() >= settings["unrelated_clients"]
    results = []
    for group, rows in by_group(relayed, "group"):
        flags, flags_row = ctx.relayflags(span(rows)[1])
        known = rows.filter(pl.col("ip").is_not_null())
        public = known.height > 0 and not bool(known["private"].all())
        data = bool(rows["data_accepted"].fill_null(False).any())
        # What proves the client had no right to relay (rules.toml says why each).
        unrestricted = ctx.registry_seen is not None and (flags is None or flags == 0)
        proof = unrestricted or ctx.allow_entries.height > 0 or many
        clients = rows["client"].n_unique()
        facts = {
            "who": group if clients == 1 else f"{plural(clients, 'client')} in {group}",
            "domains": plural(rows["rcpt_domain"].n_unique(), "outside domain"),
            "client_kind": ("public" if public else "private" if known.height else "unknown")
            + (" address" if clients == 1 else " addresses"),
            "data_text": (
                ", with the message data,"
                if data
                else " (no message data followed: a relay test stops there)"
            ),
            "allow_text": ", in no allow-list entry" if ctx.allow_entries.height else "",
            "sessions": plural(rows["session"].n_unique(), "session"),
            "relayflags_cause": _relayflags_cause(ctx, flags, flags_row),
            "proof_text": "" if proof else settings["unproven_text"],
        }
        seen = {
            "domains_known": ctx.domains_given,
            "registry": ctx.registry_seen is not None,
            "public": public,
            "data": data,
            "proof": proof,
        }
        results.append(
            rcpt_finding(
                RULE,
                group,
                rows,
                facts=facts,
                seen=seen,
                metrics={
                    "public": 1.0 if public else 0.0,
                    "data": 1.0 if data else 0.0,
                    "proof": 1.0 if proof else 0.0,
                },
            )
        )
    return results
