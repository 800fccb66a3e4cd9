"""Which server each input is of, and whether one run holds several.

A syslog file names its host on every line; an IMS or Exchange log names its server
in the banners its sessions show (``local_host``). Two servers' logs analysed as one
make one story of two (a refusal on one, a relay on the other): the run names them,
and the command line warns."""

from __future__ import annotations

import polars as pl


def named(inputs: pl.DataFrame, sessions: pl.DataFrame) -> pl.DataFrame:
    """``inputs`` with ``host`` set where the file's lines did not name it: the
    server most of its sessions' banners name (lower-cased, as names compare)."""
    banners = (
        sessions.select("source", pl.col("local_host").str.to_lowercase().alias("_h"))
        .drop_nulls("_h")
        .group_by("source", "_h")
        .len()
        .sort("source", "len", "_h", descending=[False, True, False])
        .unique("source", keep="first", maintain_order=True)
        .select(pl.col("source").alias("path"), "_h")
    )
    return (
        inputs.join(banners, on="path", how="left", maintain_order="left")
        .with_columns(pl.coalesce(pl.col("host").str.to_lowercase(), "_h").alias("host"))
        .drop("_h")
    )


def servers(inputs: pl.DataFrame) -> list[tuple[str, int]]:
    """Each server the inputs name, with its number of files, most files first. A
    short name (syslog's ``mail01``) is the server whose full name begins with it
    (``mail01.contoso.example``), when only one does."""
    counts: dict[str, int] = dict(inputs.drop_nulls("host").group_by("host").len().iter_rows())
    for short in [h for h in counts if "." not in h]:
        longer = [h for h in counts if h.startswith(short + ".")]
        if len(longer) == 1:
            counts[longer[0]] += counts.pop(short)
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
