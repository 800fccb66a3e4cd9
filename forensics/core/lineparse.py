"""Run a line grammar over a whole column, on either of DESIGN principle 1's paths.

``fast``  one ``str.extract_groups`` over all values with the grammar's regex twin;
          values the twin does not match go through pyparsing, which either reads
          them after all or says why not.
``exact`` pyparsing on every value. About 100 times slower: for the differential
          tests and for users who want to check the fast path on their own logs.

Both return the same frame: one string column per named group (empty captures are
null in both, because pyparsing drops some empty tokens), ``matched`` and ``error``
(pyparsing's message where nothing matched). A null value is not text to parse:
it gives nulls, ``matched`` false and no error, on either path.
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
        if value is None:
            for g in grammar.groups:
                columns[g].append(None)
            matched.append(False)
            errors.append(None)
            continue
        error: str | None
        try:
            found = grammar.element.parse_string(value, parse_all=True).as_dict()
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


# The longest value the fast path's misses are given to pyparsing for (characters):
# longer ones stay unmatched, with _TOO_LONG as the error. Real log lines that a
# grammar reads are far shorter; a 100 KB line built to defeat a grammar is not.
FALLBACK_MAX_CHARS = 4096
_TOO_LONG = f"longer than {FALLBACK_MAX_CHARS:,} characters and not read by the fast path"

# Below this many values one thread is as quick as two.
_PARALLEL_MIN = 50_000


def _extract_parallel(values: pl.Series, regex: str) -> pl.DataFrame:
    """``str.extract_groups`` runs on one core; slices collected together run on all."""
    parts = pl.thread_pool_size()
    if parts < 2 or values.len() < _PARALLEL_MIN:
        return values.str.extract_groups(regex).struct.unnest()
    size = -(-values.len() // parts)
    plans = [
        values.slice(i * size, size)
        .to_frame("v")
        .lazy()
        .select(pl.col("v").str.extract_groups(regex))
        .unnest("v")
        for i in range(parts)
    ]
    return pl.concat(pl.collect_all(plans))


# The regex runs only on the values that hold the grammar's required text when at
# most this share of them do (finding them costs a pass of its own).
_CANDIDATE_SHARE = 0.8


def may_match(text: pl.Expr, grammar: LineGrammar) -> pl.Expr:
    """Whether ``text`` holds the text every match of ``grammar`` holds (its
    ``needle``): values without it cannot match. True where the grammar has none."""
    if grammar.needle is None:
        return text.is_not_null()
    return text.str.contains(grammar.needle, literal=True).fill_null(False)


def _extract_candidates(values: pl.Series, regex: str, grammar: LineGrammar) -> pl.DataFrame:
    """``_extract_parallel``, skipping values that lack ``grammar.needle``: they
    cannot match (a mail log's lines are of a dozen kinds; each grammar reads one)."""
    if grammar.needle is None:
        return _extract_parallel(values, regex)
    rows = values.to_frame("v").select(may_match(pl.col("v"), grammar)).to_series().arg_true()
    if rows.len() > _CANDIDATE_SHARE * values.len():
        return _extract_parallel(values, regex)
    found = _extract_parallel(values.gather(rows), regex)
    return pl.DataFrame(
        [
            pl.repeat(None, values.len(), dtype=pl.String, eager=True)
            .scatter(rows, found[name])
            .alias(name)
            for name in found.columns
        ]
    )


def extract(
    values: pl.Series, grammar: LineGrammar, engine: Engine = "fast", *, fallback: bool = True
) -> pl.DataFrame:
    """One row per value: the grammar's named groups, ``matched`` and ``error``.

    ``fallback=False`` leaves the fast path's misses unmatched: the differential
    tests use it to check the regex twin on its own."""
    if engine == "exact":
        return _exact_rows(values.to_list(), grammar)
    if grammar.head_regex is not None and grammar.tail is not None:
        # Match the head only; the tail is the rest of the text (see LineGrammar).
        head = "^(?P<" + _MATCH_GROUP + ">" + grammar.head_regex[1:] + ")"
        found = _extract_parallel(values, head)
        # Any newline makes ".*$" fail in the full grammar: such values do not match.
        plain = ~values.str.contains("\n", literal=True).fill_null(False)
        found = found.with_columns(
            pl.when(plain).then(pl.col(_MATCH_GROUP)).alias(_MATCH_GROUP),
            pl.when(plain)
            .then(values.str.slice(found[_MATCH_GROUP].str.len_chars()))
            .alias(grammar.tail),
        )
    else:
        whole = "^(?P<" + _MATCH_GROUP + ">" + grammar.regex[1:-1] + ")$"
        found = _extract_candidates(values, whole, grammar)
    frame = _empty_to_null(
        found.select(
            *[pl.col(g) for g in grammar.groups],
            pl.col(_MATCH_GROUP).is_not_null().alias("matched"),
            pl.lit(None, pl.String).alias("error"),
        ),
        grammar.groups,
    )
    missed = (~frame["matched"] & values.is_not_null()).arg_true()
    if missed.len() == 0 or not fallback:
        return frame
    # The few values the twin could not take: pyparsing decides, and explains. A
    # value too long for it is not tried: pyparsing's time can grow with the square
    # of a line built to defeat it, the twin's (Rust regex) never does.
    lengths = values.gather(missed).str.len_chars()
    long = missed.filter(lengths > FALLBACK_MAX_CHARS)
    missed = missed.filter(lengths <= FALLBACK_MAX_CHARS)
    if long.len():
        frame = frame.with_columns(
            pl.when(pl.int_range(pl.len()).is_in(long.implode()))
            .then(pl.lit(f"{grammar.name}: {_TOO_LONG}"))
            .otherwise("error")
            .alias("error")
        )
    if missed.len() == 0:
        return frame
    return _replace_rows(frame, missed, _exact_rows(values.gather(missed).to_list(), grammar))


def _replace_rows(frame: pl.DataFrame, rows: pl.Series, values: pl.DataFrame) -> pl.DataFrame:
    return (
        frame.with_row_index("_i")
        .update(values.with_columns(rows.alias("_i")), on="_i", include_nulls=True)
        .drop("_i")
    )


def extract_guarded(
    values: pl.Series,
    grammar: LineGrammar,
    *,
    common: LineGrammar,
    phrase: str,
    engine: Engine = "fast",
) -> pl.DataFrame:
    """``extract`` with ``grammar``, computed on the fast path as ``common`` (the same
    grammar less alternatives that need ``phrase`` in the text) on every value, and
    as ``grammar`` itself only on the values that contain ``phrase``."""
    if engine == "exact":
        return extract(values, grammar, "exact")
    frame = extract(values, common).with_columns(
        [pl.lit(None, pl.String).alias(g) for g in grammar.groups if g not in common.groups]
    )
    frame = frame.select(*grammar.groups, "matched", "error")
    rows = values.str.contains(phrase, literal=True).fill_null(False).arg_true()
    if rows.len() == 0:
        return frame
    return _replace_rows(frame, rows, extract(values.gather(rows), grammar))


def matches(values: pl.Series, grammar: LineGrammar, engine: Engine = "fast") -> pl.Series:
    """Whether each value matches the grammar as a whole."""
    values = values.fill_null("")
    if engine == "exact":
        return pl.Series(
            [grammar.element.matches(v, parse_all=True) for v in values.to_list()],
            dtype=pl.Boolean,
        )
    return values.str.contains(grammar.regex)
