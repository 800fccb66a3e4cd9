"""Server software from banners: Exchange builds mapped to product and service pack
through ``knowledge/versions.toml``."""

from __future__ import annotations

from functools import cache

import polars as pl

from forensics.knowledge import load

# "Microsoft Exchange Internet Mail Service 5.5.2448.0", "Internet Mail Service (5.5.2650.21)",
# "Internet Mail Connector Version 4.0.994.63"
_EXCHANGE_BUILD = (
    r"(?i)(?:exchange|internet mail (?:service|connector))\D{0,20}"
    r"(?P<major>[0-9]+)\.(?P<minor>[0-9]+)\.(?P<build>[0-9]{3,4})"
)


def _build_key(major: pl.Expr, minor: pl.Expr, build: pl.Expr) -> pl.Expr:
    return (
        major.cast(pl.Int64) * 100_000_000 + minor.cast(pl.Int64) * 100_000 + build.cast(pl.Int64)
    )


@cache
def _table() -> pl.DataFrame:
    rows = load("versions")["build"]
    frame = pl.DataFrame(rows).with_columns(
        pl.col("build").str.split(".").list.to_struct(fields=["major", "minor", "b"])
    )
    return (
        frame.unnest("build")
        .with_columns(
            _build_key(pl.col("major"), pl.col("minor"), pl.col("b")).alias("key"),
            pl.col("major").cast(pl.Int64).alias("major_n"),
            pl.col("minor").cast(pl.Int64).alias("minor_n"),
        )
        .select("key", "major_n", "minor_n", "product", "sp")
        .sort("key")
    )


def software_from_banner(banners: pl.Series) -> pl.Series:
    """The banner's product text, with the Exchange version and service pack added
    when a known build number is in it: ``... 5.5.2448.0 (Exchange Server 5.5 SP2)``."""
    # All-null input comes typed Null; banners are text either way.
    frame = pl.DataFrame({"banner": banners.cast(pl.String)}).with_row_index("_i")
    found = frame.with_columns(pl.col("banner").str.extract_groups(_EXCHANGE_BUILD).alias("g"))
    found = found.unnest("g").with_columns(
        _build_key(pl.col("major"), pl.col("minor"), pl.col("build")).alias("key"),
        pl.col("major").cast(pl.Int64).alias("major_n"),
        pl.col("minor").cast(pl.Int64).alias("minor_n"),
    )
    known = found.filter(pl.col("key").is_not_null()).sort("key")
    # Both sides are sorted by key; within each (major, minor) group too.
    matched = known.join_asof(
        _table(), on="key", by=["major_n", "minor_n"], strategy="backward", check_sortedness=False
    )
    label = pl.concat_str(
        [pl.col("product"), pl.when(pl.col("sp") != "").then(pl.lit(" ") + pl.col("sp"))],
        ignore_nulls=True,
    )
    matched = matched.select(
        "_i",
        pl.when(pl.col("product").is_not_null())
        .then(pl.col("banner") + pl.lit(" (") + label + pl.lit(")"))
        .otherwise(pl.col("banner"))
        .alias("software"),
    )
    out = frame.join(matched, on="_i", how="left").sort("_i")
    return out.select(pl.coalesce("software", "banner")).to_series().alias("software")
