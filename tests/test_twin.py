"""The regex twin compiler refuses what it cannot translate faithfully."""

from __future__ import annotations

import polars as pl
import pyparsing as pp
import pytest

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
