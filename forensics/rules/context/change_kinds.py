"""Which recorded changes a rule looks at: those the admin logged, those meant to stop
relaying, those that tighten it (a network taken out of an allow list too), recent ones.

Each function takes the recorded changes (:func:`forensics.derive.changes.recorded`)
and the ``[context]`` settings of rules.toml.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from forensics.rules.context.allowlists import about_allow_list
from forensics.rules.context.networks import networks_in


def logged() -> pl.Expr:
    """A change the admin's change log records, with a time."""
    return (pl.col("origin") == "changelog") & pl.col("ts").is_not_null()


def says(pattern: str) -> pl.Expr:
    """A change whose new value matches ``pattern`` (any case)."""
    return pl.col("new").fill_null("").str.contains("(?i)" + pattern)


def stop_relay(changes: pl.DataFrame, settings: dict[str, Any]) -> pl.DataFrame:
    """Logged changes meant to stop rerouting or relaying (the switch to 'Do not
    reroute incoming SMTP mail', relaying disabled)."""
    return changes.filter(logged() & says(settings["stop_relay"]))


def tightening(changes: pl.DataFrame, settings: dict[str, Any]) -> pl.DataFrame:
    """The stop_relay changes, and changes of an allow list that took a network out
    of it (mynetworks without the old LAN): after either, clients that relayed
    before may be refused, or should be."""
    networks = {side: networks_in(pl.col(side).fill_null("")) for side in ("old", "new")}
    narrowed = about_allow_list(settings["allow_list_setting"]) & (
        networks["old"].list.set_difference(networks["new"]).list.len() > 0
    )
    return changes.filter(logged() & (says(settings["stop_relay"]) | narrowed))


def recent(changes: pl.DataFrame, at: dt.datetime | None, hours: float) -> pl.DataFrame:
    """Logged changes (change log, registry differences) in the hours before ``at``."""
    if at is None:
        return changes.clear()
    return changes.filter(
        (pl.col("origin") != "inferred")
        & pl.col("ts").is_between(at - dt.timedelta(hours=hours), at)
    )
