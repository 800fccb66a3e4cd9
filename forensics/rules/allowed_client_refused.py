"""A client the server's own configuration allows to relay is refused relaying, and
the configuration shows why: the restriction list that decides relaying rejects
outside destinations before (or without) the permit that admits the allow list.

Postfix's case (from a real report: a localhost client inside mynetworks refused
'Relay access denied' because smtpd_relay_restrictions held check_relay_domains and
no permit_mynetworks): nothing changed, nothing flipped; the configuration was
wrong from the start. The refused clients must be inside an allow list of a
configuration snapshot (postconf -n, main.cf), and a decider row of that snapshot
(rules.toml settings) must reject before it admits: without that proof no finding
(a client refused for another reason is not this rule's business). Where a change
or a flip explains the refusals, relay-not-allowed-relayflags reports them.
"""

from __future__ import annotations

import re
from typing import Any

import polars as pl

from forensics.core.findings import Finding, plural, rule_meta
from forensics.rules import relay_not_allowed_relayflags as tightened
from forensics.rules.base import first_reply, rcpt_finding
from forensics.rules.context import Context
from forensics.rules.context.allowlists import CONFIG_ORIGINS, about_allow_list
from forensics.rules.context.networks import entries

RULE = "allowed-client-refused"


def _configured(ctx: Context, setting: str) -> pl.DataFrame:
    """The allow-list rows of configuration snapshots."""
    return ctx.frames.config.filter(
        pl.col("origin").is_in(CONFIG_ORIGINS) & about_allow_list(setting)
    )


def _blocking(config: pl.DataFrame, deciders: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The first decider row of a snapshot that rejects an outside destination before
    the permit that admits the allow list (or has no such permit)."""
    for decider in deciders:
        rows = config.filter(
            pl.col("origin").is_in(CONFIG_ORIGINS) & (pl.col("key") == decider["key"])
        )
        for row in rows.iter_rows(named=True):
            words = [w for w in re.split(r"[\s,]+", row["new"] or "") if w]
            rejects = [i for i, w in enumerate(words) if w in decider["rejects"]]
            admits = [i for i, w in enumerate(words) if w == decider["admits"]]
            if rejects and (not admits or admits[0] > rejects[0]):
                return {**row, "admits": decider["admits"]}
    return None


def evaluate(ctx: Context) -> list[Finding]:
    settings = rule_meta(RULE)["settings"]
    attempts = ctx.relay_attempts()
    configured = _configured(ctx, ctx.settings["allow_list_setting"])
    if configured.height == 0:
        return []
    labels = entries(configured.select(pl.col("new").alias("text")))["label"].to_list()
    rows = attempts.filter(
        (pl.col("refusal") == "relay_denied") & pl.col("allow_entry").is_in(labels)
    )
    if rows.height == 0:
        return []
    change, _logged = tightened.the_change(ctx, attempts)
    if change is not None:
        return []  # a change or a flip explains it: relay-not-allowed-relayflags
    blocking = _blocking(ctx.frames.config, settings["deciders"])
    if blocking is None:
        return []
    allow = configured.row(0, named=True)
    facts = {
        "rcpts": plural(rows.height, "relay RCPT"),
        "clients": plural(rows["client"].n_unique(), "client"),
        "reply": first_reply(rows),
        "allow_list": f"{allow['key'].split(chr(92))[-1]} = {allow['new']}",
        "allow_where": f"{allow['source']}:{allow['line']}",
        "decider": f"{blocking['key'].split(chr(92))[-1]} = {blocking['new']}",
        "decider_where": f"{blocking['source']}:{blocking['line']}",
        "admits": blocking["admits"],
    }
    return [
        rcpt_finding(
            RULE,
            ctx.server_name(),
            rows,
            facts=facts,
            seen={"config": True, "several": rows.height > 1},
            metrics={"clients": rows["client"].n_unique()},
        )
    ]
