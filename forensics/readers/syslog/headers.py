"""Every line's header -> its fields, whatever its shape (grammars/syslog.py SHAPES):
each shape is tried on the lines the shapes before it left, so a file of one shape
(nearly every file) costs one pass."""

from __future__ import annotations

import polars as pl

from forensics.core.lineparse import Engine, extract
from grammars import syslog as g
from grammars.twin import LineGrammar

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
# What :func:`headers` returns for each line with a header.
HEADED = pl.Schema({**{f: pl.String for f in FIELDS}, "_shape": pl.String})


def headers(
    text: pl.Series, engine: Engine, exim_programs: list[str], exim_own: pl.Series
) -> tuple[pl.DataFrame, pl.Series | None]:
    """The lines of ``text`` that have a header: FIELDS and ``_shape`` (which shape
    matched), and each one's place in ``text`` (None: every line has one, in order;
    the common case costs no copy). Exim's own stamp is a
    header only on the lines of ``exim_own`` (the files taken for Exim's own logs:
    in a syslog file such a line is no syslog line); those lines get the program
    ``exim``. An Exim line through syslog that starts with Exim's own stamp takes its
    time from it. Lines without a header cost no row here: a file of junk lines
    must not cost a row of fifteen fields per line."""
    # The fast path alone: a line no shape's twin takes is not a header, and junk
    # lines must not each go through pyparsing (the differential tests hold the twins
    # to the grammars).
    found: list[tuple[pl.DataFrame, pl.Series]] = []
    rest = text.is_not_null().arg_true()
    for shape, grammar in g.SHAPES:
        if shape == "exim":
            rest = rest.filter(exim_own.gather(rest))
        if rest.len() == 0:
            break
        headed, rows = _headed(text, rest, grammar, shape, engine)
        if headed.height:
            found.append((headed, rows))
            if headed.height == rest.len():
                break
            rest = rest.filter(~rest.is_in(rows.implode()))
    if not found:
        return pl.DataFrame(schema=HEADED), pl.Series("_i", [], dtype=pl.UInt32)
    if len(found) == 1 and found[0][1].len() == text.len():
        # Every line has the first shape's header: no position to keep, no copy (a
        # column added to a frame cut in slices makes the next step copy it whole).
        return _exim_through_syslog(found[0][0], engine, exim_programs), None
    every = pl.concat([f.with_columns(rows.alias("_i")) for f, rows in found]).sort("_i")
    positions = every["_i"]
    return _exim_through_syslog(every.drop("_i"), engine, exim_programs), positions


# A sample of this many lines decides whether a shape is looked for line by line
# first (most lines are not of it) or read on every line at once (most are).
_SAMPLE = 20_000


def _headed(
    text: pl.Series, rows: pl.Series, grammar: LineGrammar, shape: str, engine: Engine
) -> tuple[pl.DataFrame, pl.Series]:
    """The lines ``rows`` of ``text`` that ``grammar`` reads: their fields, and their
    places in ``text``."""
    # (Gathered only when some lines are left out: a gather copies every line.)
    values = text if rows.len() == text.len() else text.gather(rows)
    if engine == "fast" and grammar.head_regex is not None:
        sample = values.head(_SAMPLE).str.contains(grammar.head_regex).fill_null(False)
        if sample.sum() < 0.9 * sample.len():
            # Most lines are not of this shape: find those that are (a match test
            # allocates no fields), then read only them.
            hit = values.str.contains(grammar.head_regex).fill_null(False)
            rows, values = rows.filter(hit), values.filter(hit)
    fields = _fields(extract(values, grammar, engine, fallback=False), shape)
    matched = fields.get_column("_header")
    if matched.all():  # (a filter copies every field of every line)
        return fields.select(pl.exclude("_header")), rows
    return fields.filter(matched).select(pl.exclude("_header")), rows.filter(matched)


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


def _exim_through_syslog(
    found: pl.DataFrame, engine: Engine, exim_programs: list[str]
) -> pl.DataFrame:
    """Exim through syslog writes its own dated stamp at the start of the message:
    the line's time is that stamp (it has the year), the message what follows it."""
    at = (
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
    if at.len() == 0:
        return found
    stamped = extract(found["msg"].gather(at), g.EXIM_LINE, engine, fallback=False)
    patch = (
        stamped.select(*_DATED, "msg", pl.col("pid").alias("_epid"), "matched")
        .with_columns(at.alias("_k"))
        .filter(pl.col("matched"))
    )
    if patch.height == 0:
        return found
    joined = found.with_columns(pl.int_range(pl.len(), dtype=pl.UInt32).alias("_k")).join(
        patch.drop("matched"), on="_k", how="left", suffix="_e", maintain_order="left"
    )
    hit = pl.col("msg_e").is_not_null()
    return joined.select(
        *(pl.when(hit).then(pl.lit(None, pl.String)).otherwise(f).alias(f) for f in FIELDS[:5]),
        *(pl.when(hit).then(pl.col(f + "_e")).otherwise(f).alias(f) for f in _DATED),
        "host",
        "prog",
        pl.coalesce("pid", "_epid").alias("pid"),
        pl.when(hit).then(pl.col("msg_e")).otherwise("msg").alias("msg"),
        "_shape",
    )
