"""The networks allowed to relay that the evidence names: RelayAllowList in a registry
snapshot, a configuration snapshot's allow list (Postfix's mynetworks in postconf -n
output or main.cf; an Exchange 2007+ connector's RemoteIPRanges when the pasted
output shows it granting anonymous relay, Sendmail's access entries
``Connect:<network> RELAY``, Exim's relay_from_hosts), and the allow lists a change
log writes (mynetworks, RemoteIPRanges, ...)."""

from __future__ import annotations

import polars as pl

from forensics.readers.sendmailconfig import ALLOW_NOTE
from forensics.rules.context.networks import entries

# Config rows that are snapshots of a server's configuration file whose allow list
# is the row of a setting that rules.toml allow_list_setting names (mynetworks).
CONFIG_ORIGINS = ["postconf"]
# Snapshots whose readers mark the rows that let clients relay, because the setting's
# name alone does not say it (every Exchange connector has RemoteIPRanges, only some
# grant relay; a Sendmail access entry allows relaying by its action): the row's note
# is ALLOW_NOTE followed by the networks.
MARKED_ORIGINS = ["exchangeconfig", "sendmailconfig", "eximconfig"]


def marked_allow_lists(config: pl.DataFrame) -> pl.DataFrame:
    """The rows of MARKED_ORIGINS snapshots that list clients allowed to relay."""
    return config.filter(
        pl.col("origin").is_in(MARKED_ORIGINS)
        & pl.col("note").str.starts_with(ALLOW_NOTE).fill_null(False)
    )


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
    marked = marked_allow_lists(config).select(pl.col("note").alias("text"))
    logged = config.filter((pl.col("origin") == "changelog") & about_allow_list(setting))
    texts = pl.concat(
        [
            listed,
            configured,
            marked,
            logged.select(pl.col("old").alias("text")),
            logged.select(text="new"),
        ]
    )
    return entries(texts)
