"""The regex twin compiler refuses what it cannot translate faithfully."""

from __future__ import annotations

import polars as pl
import pyparsing as pp
import pytest

from forensics.core.lineparse import extract
from grammars import ims, smtp, tracking
from grammars.twin import compile_grammar, to_regex


def test_unsupported_elements_are_refused():
    with pytest.raises(TypeError, match="no regex twin"):
        to_regex(pp.Word(pp.alphas))


def test_a_name_used_twice_is_refused():
    with pytest.raises(TypeError, match="used twice"):
        to_regex(pp.Regex("a")("x") + pp.Regex("(?P<x>b)"))


def test_regex_flags_are_refused():
    import re

    with pytest.raises(TypeError, match="flags"):
        to_regex(pp.Regex("a", flags=re.IGNORECASE))


@pytest.mark.parametrize(
    "grammar",
    [
        ims.LINE,
        ims.PAYLOAD,
        ims.STARTER,
        ims.REPLY_HEAD,
        ims.DASH_REPLY,
        smtp.PATH_ARG,
        tracking.EX5_HEAD,
        tracking.EX5_RECIPIENT,
        tracking.TRACK_TIME,
        tracking.FAIL_STATUS,
        tracking.SOURCE_CONTEXT,
    ],
    ids=lambda g: g.name,
)
def test_every_grammar_twin_compiles_in_polars(grammar):
    # Rust's regex syntax is stricter than Python's: this is where it would say so.
    pl.Series(["x"]).str.contains(grammar.regex)


def test_literals_are_escaped_for_both_engines():
    g = compile_grammar("t", pp.Literal("a.b (c)") + pp.StringEnd())
    assert pl.Series(["a.b (c)", "axb (c)"]).str.contains(g.regex).to_list() == [True, False]


def test_classes_the_engines_disagree_on_are_refused():
    # Python's \s takes \x1c-\x1f, Rust's does not: found by the property test.
    with pytest.raises(TypeError, match="different characters"):
        to_regex(pp.Regex(r"[^<>\s]*"))
    assert to_regex(pp.Regex(r"a\\s")) == r"^(?:a\\s)$"  # an escaped backslash, then s


def test_the_required_text_is_what_every_match_holds():
    # The fast path skips lines without it: only text outside optional and
    # alternative parts may count, and the longest such text is taken.
    g = compile_grammar(
        "t",
        pp.Literal("id=")
        + pp.Regex("[0-9]+")
        + pp.Opt(pp.Literal(", optional-part"))
        + (pp.Literal("left-alternative") | pp.Literal("right"))
        + pp.Literal(": required")
        + pp.StringEnd(),
    )
    assert g.needle == ": required"
    assert compile_grammar("u", pp.Regex("[a-z]+") + pp.StringEnd()).needle is None
    assert compile_grammar("v", pp.CaselessLiteral("helo") + pp.StringEnd()).needle is None


def test_lines_without_the_required_text_are_read_as_misses():
    # Most values lack the needle: the regex runs on the others only, and the rows
    # come back in their places.
    g = compile_grammar(
        "t", pp.Literal("id=") + pp.Regex("[0-9]+")("n") + pp.Literal(";") + pp.StringEnd()
    )
    values = pl.Series(["x", "id=1;", None, "id=;", "y", "z", "id=22;", "w", "v", "u"])
    found = extract(values, g, fallback=False)
    assert found["n"].to_list() == [None, "1", None, None, None, None, "22", None, None, None]
    assert found["matched"].to_list() == [v is not None for v in found["n"].to_list()]
