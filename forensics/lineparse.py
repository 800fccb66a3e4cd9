"""Run a line grammar over a whole column, on either of DESIGN principle 1's paths.

``fast``  one ``str.extract_groups`` over all values with the grammar's regex twin;
          values the twin does not match go through pyparsing, which either reads
          them after all or says why not.
``exact`` pyparsing on every value. About 100 times slower: for the differential
          tests and for users who want to check the fast path on their own logs.

Both return the same frame: one string column per named group (empty captures are
null in both, because pyparsing drops some empty tokens), ``matched`` and ``error``
(pyparsing's message where nothing matched).
"""

from __future__ import annotations

from typing import Literal

import polars as pl
import pyparsing as pp

from grammars.twin import LineGrammar

Engine = Literal["fast", "exact"]
ENGINES: tuple[Engine, ...] = ("fast", "exact")

_MATCH_GROUP = "_whole"


def _empty_to_null(frame: pl.DataFrame, groups: tuple[str, ...]) -> pl.DataFrame:
    return frame.with_columns(
        [pl.when(pl.col(g) == "").then(None).otherwise(pl.col(g)).alias(g) for g in groups]
    )


def _exact_rows(values: list[str | None], grammar: LineGrammar) -> pl.DataFrame:
    columns: dict[str, list[str | None]] = {g: [] for g in grammar.groups}
    matched: list[bool] = []
    errors: list[str | None] = []
    for value in values:
        try:
            found = grammar.element.parse_string(value or "", parse_all=True).as_dict()
        except pp.ParseBaseException as exc:
            found, error = {}, f"{grammar.name}: {exc.msg} at column {exc.col}"
        else:
            error = None
        for g in grammar.groups:
            v = found.get(g)
            columns[g].append(v if isinstance(v, str) else None)
        matched.append(error is None)
        errors.append(error)
    frame = pl.DataFrame(
        {**columns, "matched": matched, "error": errors},
        schema={
            **{g: pl.String for g in grammar.groups},
            "matched": pl.Boolean,
            "error": pl.String,
        },
    )
    return _empty_to_null(frame, grammar.groups)


def extract(
    values: pl.Series, grammar: LineGrammar, engine: Engine = "fast", *, fallback: bool = True
) -> pl.DataFrame:
    """One row per value: the grammar's named groups, ``matched`` and ``error``.

    ``fallback=False`` leaves the fast path's misses unmatched: the differential
    tests use it to check the regex twin on its own."""
    values = values.fill_null("")
    if engine == "exact":
        return _exact_rows(values.to_list(), grammar)
    whole = "^(?P<" + _MATCH_GROUP + ">" + grammar.regex[1:-1] + ")$"
    found = values.str.extract_groups(whole).struct.unnest()
    frame = _empty_to_null(
        found.select(
            *[pl.col(g) for g in grammar.groups],
            pl.col(_MATCH_GROUP).is_not_null().alias("matched"),
            pl.lit(None, pl.String).alias("error"),
        ),
        grammar.groups,
    )
    missed = (~frame["matched"]).arg_true()
    if missed.len() == 0 or not fallback:
        return frame
    # The few values the twin could not take: pyparsing decides, and explains.
    fallback = _exact_rows(values.gather(missed).to_list(), grammar)
    return (
        frame.with_row_index("_i")
        .update(fallback.with_columns(missed.alias("_i")), on="_i", include_nulls=True)
        .drop("_i")
    )


def matches(values: pl.Series, grammar: LineGrammar, engine: Engine = "fast") -> pl.Series:
    """Whether each value matches the grammar as a whole."""
    values = values.fill_null("")
    if engine == "exact":
        return pl.Series(
            [grammar.element.matches(v, parse_all=True) for v in values.to_list()],
            dtype=pl.Boolean,
        )
    return values.str.contains(grammar.regex)
