"""Q243045: relaying continues after a change meant to stop it.

After a logged change meant to stop rerouting or relaying, or one that took a
network out of an allow list (and the service restart or reload that puts it into
effect, when one follows within the configured time), clients that had the right
to relay before (inside an allow-list entry: RelayAllowList, or a logged
mynetworks or RemoteIPRanges; or seen relaying before the change) still get RCPTs
to outside domains accepted without authenticating. One finding per allow-list
entry (the thing to remove), or per client address when no entry holds it.
Relaying before the change is not counted: it was allowed then.
"""

from __future__ import annotations

import polars as pl

from forensics.core.findings import Finding, plural, rule_meta
from forensics.rules.base import rcpt_finding
from forensics.rules.context import Context
from forensics.rules.context.change import as_change

RULE = "unexpected-relay-after-change"


def evaluate(ctx: Context) -> list[Finding]:
    changes = ctx.tightening_changes()
    if changes.height == 0:
        return []
    settings = rule_meta(RULE)["settings"]
    attempts = ctx.relay_attempts()
    relayed = attempts.filter(pl.col("accepted").fill_null(False) & pl.col("auth_user").is_null())
    times = changes["ts"].to_list()
    results = []
    for i, row in enumerate(changes.iter_rows(named=True)):
        change = as_change(row)
        started = ctx.start_after(change.time, settings["restart_within_minutes"])
        effective = started or change.time
        until = times[i + 1] if i + 1 < len(times) else None
        earlier = relayed.filter(pl.col("ts") < change.time)["client"].unique().to_list()
        rows = relayed.filter(
            (pl.col("ts") > effective)
            & (pl.col("allow_entry").is_not_null() | pl.col("client").is_in(earlier))
        ).with_columns(pl.coalesce("allow_entry", "client").alias("group"))
        if until is not None:  # the next such change starts its own story
            rows = rows.filter(pl.col("ts") < until)
        after = ctx.registry.filter(
            (pl.col("ts") >= change.time)
            & pl.col("name").is_in(["RelayFlags", "RelayAllowList"])
            & pl.col("new").is_not_null()
        )
        registry_after = after["name"].n_unique() == 2
        for group in sorted(rows["group"].unique().to_list()):
            mine = rows.filter(pl.col("group") == group)
            cite = after.sort("ts", "source", "line").row(0, named=True) if registry_after else None
            facts = {
                "domains": plural(mine["rcpt_domain"].n_unique(), "outside domain"),
                "clients": plural(mine["client"].n_unique(), "client"),
                "change": change.cite()
                + (f" (restarted or reloaded {started:%H:%M})" if started else ""),
                "registry_text": (
                    f" A registry snapshot taken after the change still holds them "
                    f"({cite['source']})."
                    if cite
                    else ""
                ),
            }
            seen = {
                "restart": started is not None,
                "registry_after": registry_after,
                "allow_list": mine["allow_entry"].is_not_null().any(),
                "relayed_before": mine["client"].is_in(earlier).any(),
                "version": ctx.version_matches("Q243045"),
            }
            results.append(
                rcpt_finding(RULE, group, mine, facts=facts, seen=seen, metrics={}, change=change)
            )
    return results
