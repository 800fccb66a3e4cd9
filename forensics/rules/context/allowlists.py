"""The networks allowed to relay that the evidence names: RelayAllowList in a registry
snapshot, a configuration snapshot's allow list (Postfix's mynetworks in postconf -n
output or main.cf), and the allow lists a change log writes (mynetworks,
RemoteIPRanges, ...)."""

from __future__ import annotations

import polars as pl

from forensics.rules.context.networks import entries

# Config rows that are snapshots of a server's configuration file.
CONFIG_ORIGINS = ["postconf"]


def about_allow_list(setting: str) -> pl.Expr:
    """A config row whose setting is an allow list (rules.toml allow_list_setting)."""
    return pl.col("key").str.contains("(?i)" + setting)


def allow_entries(registry: pl.DataFrame, config: pl.DataFrame, setting: str) -> pl.DataFrame:
    """Every network allowed to relay that the evidence names: the RelayAllowList
    entries of any registry snapshot (``registry``: the IMS parameters), a
    configuration's allow list, and the networks of change-log rows about an allow
    list (old and new values: allowed before the change or after it). Columns net,
    mask (integers) and label."""
    listed = registry.filter(
        (pl.col("name") == "RelayAllowList") & pl.col("new").is_not_null()
    ).select(pl.col("new").alias("text"))
    configured = config.filter(
        pl.col("origin").is_in(CONFIG_ORIGINS) & about_allow_list(setting)
    ).select(pl.col("new").alias("text"))
    logged = config.filter((pl.col("origin") == "changelog") & about_allow_list(setting))
    texts = pl.concat(
        [
            listed,
            configured,
            logged.select(pl.col("old").alias("text")),
            logged.select(text="new"),
        ]
    )
    return entries(texts)
