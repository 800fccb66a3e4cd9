"""The configuration changes the evidence records: the rows of ``config`` that are a change.

The rules tie findings to these changes and the report draws them, so both read them
from here rather than the report asking the rules' context for them.
"""

from __future__ import annotations

import polars as pl

# A registry value's key without its last part: the key whose snapshot it belongs to.
_PARENT = r"\\[^\\]*$"


def recorded(config: pl.DataFrame) -> pl.DataFrame:
    """Config rows that record a change: every change-log row; registry rows whose
    value differs from the previous snapshot of the same key (a value that first
    appears in a later snapshot is a change too; the first snapshot is not)."""
    log = config.filter(pl.col("origin").is_in(["changelog", "inferred"]))
    registry = config.filter(pl.col("origin") == "registry")
    first = registry.group_by(pl.col("key").str.replace(_PARENT, "").alias("parent")).agg(
        pl.col("ts").min().alias("first_ts")
    )
    differs = (
        registry.with_columns(pl.col("key").str.replace(_PARENT, "").alias("parent"))
        .join(first, on="parent", how="left", maintain_order="left")
        .filter(pl.col("old").ne_missing(pl.col("new")) & (pl.col("ts") > pl.col("first_ts")))
        .drop("parent", "first_ts")
    )
    return pl.concat([log, differs]).sort("ts", "source", "line", nulls_last=True)
