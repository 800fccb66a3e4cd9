"""Every line's header -> its fields, whatever its shape (grammars/syslog.py SHAPES):
each shape is tried on the lines the shapes before it left, so a file of one shape
(nearly every file) costs one pass."""

from __future__ import annotations

import polars as pl

from forensics.core.lineparse import Engine, extract
from grammars import syslog as g

# The header's fields, in every shape (a shape lacks some: they are null).
FIELDS = (
    "mon",
    "day",
    "hh",
    "mi",
    "ss",
    "ry",
    "rmo",
    "rd",
    "rhh",
    "rmi",
    "rss",
    "host",
    "prog",
    "pid",
    "msg",
)
_DATED = ("ry", "rmo", "rd", "rhh", "rmi", "rss")


def headers(
    text: pl.Series, engine: Engine, exim_programs: list[str], exim_own: pl.Series
) -> pl.DataFrame:
    """One row per value of ``text``: FIELDS, ``_header`` (whether a shape matched)
    and ``_shape`` (which). Exim's own stamp is a header only on the lines of
    ``exim_own`` (the files taken for Exim's own logs: in a syslog file such a line
    is no syslog line); those lines get the program ``exim``. An Exim line through
    syslog that starts with Exim's own stamp takes its time from it."""
    shape, grammar = g.SHAPES[0]
    # The fast path alone: a line no shape's twin takes is not a header, and junk
    # lines must not each go through pyparsing (the differential tests hold the twins
    # to the grammars).
    found = _fields(extract(text, grammar, engine, fallback=False), shape)
    missed = found["_header"].not_().arg_true()
    patches = []
    for shape, grammar in g.SHAPES[1:]:
        if shape == "exim":
            missed = missed.filter(exim_own.gather(missed))
        if missed.len() == 0:
            continue
        rest = _fields(extract(text.gather(missed), grammar, engine, fallback=False), shape)
        rest = rest.with_columns(missed.alias("_i")).filter(pl.col("_header"))
        patches.append(rest)
        missed = missed.filter(~missed.is_in(rest["_i"].implode()))
    if any(p.height for p in patches):
        found = _patched(found, pl.concat([p for p in patches if p.height]))
    return _exim_through_syslog(found, engine, exim_programs)


def _fields(parsed: pl.DataFrame, shape: str) -> pl.DataFrame:
    # Exim's own logs name no program: the lines are Exim's.
    program = pl.when(pl.col("matched")).then(pl.lit("exim")) if shape == "exim" else pl.col("prog")
    return parsed.select(
        *(
            program.alias(f)
            if f == "prog"
            else pl.col(f)
            if f in parsed.columns
            else pl.lit(None, pl.String).alias(f)
            for f in FIELDS
        ),
        pl.col("matched").alias("_header"),
        pl.when(pl.col("matched")).then(pl.lit(shape)).alias("_shape"),
    )


def _patched(found: pl.DataFrame, patches: pl.DataFrame) -> pl.DataFrame:
    """``found`` with the rows of ``patches`` (by their row number ``_i``) in place."""
    i = pl.int_range(pl.len(), dtype=pl.UInt32).alias("_i")
    return (
        found.with_columns(i)
        .update(patches.with_columns(pl.col("_i").cast(pl.UInt32)), on="_i", how="left")
        .drop("_i")
    )


def _exim_through_syslog(
    found: pl.DataFrame, engine: Engine, exim_programs: list[str]
) -> pl.DataFrame:
    """Exim through syslog writes its own dated stamp at the start of the message:
    the line's time is that stamp (it has the year), the message what follows it."""
    candidates = (
        found.select(
            (
                (pl.col("_shape") != "exim")
                & pl.col("prog").str.to_lowercase().is_in(exim_programs)
                & pl.col("msg").str.contains(r"^[0-9]{4}-[0-9]{2}-[0-9]{2} ")
            ).fill_null(False)
        )
        .to_series()
        .arg_true()
    )
    if candidates.len() == 0:
        return found
    stamped = extract(found["msg"].gather(candidates), g.EXIM_LINE, engine, fallback=False)
    patch = (
        stamped.select(*_DATED, "msg", pl.col("pid").alias("_epid"), "matched")
        .with_columns(candidates.alias("_i"))
        .filter(pl.col("matched"))
    )
    if patch.height == 0:
        return found
    i = pl.int_range(pl.len(), dtype=pl.UInt32).alias("_i")
    joined = found.with_columns(i).join(
        patch.drop("matched"), on="_i", how="left", suffix="_e", maintain_order="left"
    )
    hit = pl.col("msg_e").is_not_null()
    return joined.select(
        *(pl.when(hit).then(pl.lit(None, pl.String)).otherwise(f).alias(f) for f in FIELDS[:5]),
        *(pl.when(hit).then(pl.col(f + "_e")).otherwise(f).alias(f) for f in _DATED),
        "host",
        "prog",
        pl.coalesce("pid", "_epid").alias("pid"),
        pl.when(hit).then(pl.col("msg_e")).otherwise("msg").alias("msg"),
        "_header",
        "_shape",
    )
