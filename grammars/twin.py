"""Derive the vectorized regex twin of a pyparsing grammar.

DESIGN principle 1: each line format has one source of truth, its pyparsing grammar.
The fast path runs one anchored regular expression over every line at once with
polars' ``str.extract_groups`` (Rust regex: no look-around, no back-references).
Rather than writing that expression a second time by hand, :func:`to_regex` walks
the pyparsing expression tree and emits it, turning every element that carries a
results name into a named group. The two paths can then only disagree where
pyparsing's no-backtracking semantics differ from a regex engine's; grammars are
written so that they do not (every alternative ends in ``StringEnd``; free-text
tokens come last), and the differential tests prove it on every fixture.

Only the constructs the grammars use are supported; anything else raises
``TypeError`` at import time, so a grammar can never silently lose its twin.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

import pyparsing as pp

__all__ = [
    "LineGrammar",
    "compile_grammar",
    "compile_head_tail",
    "named_groups",
    "required_literal",
    "to_regex",
]


_META = set("\\.+*?()|[]{}^$")
# Shorthand classes whose members differ between Python's re and Rust's regex
# (Python's \s takes \x1c-\x1f, Rust's does not): refused in twin patterns.
_UNSHARED_CLASSES = re.compile(r"(?<!\\)(?:\\\\)*\\[sSwWbB]")


def _quote(text: str) -> str:
    # re.escape also escapes spaces, which Rust's regex syntax rejects; escape
    # only the metacharacters both engines share.
    return "".join("\\" + c if c in _META else c for c in text)


def _compile(element: pp.ParserElement, names: list[str]) -> str:
    body = _compile_unnamed(element, names)
    name = element.resultsName
    if name:
        if not name.isidentifier():
            raise TypeError(f"results name {name!r} cannot be a regex group name")
        if name in names:
            raise TypeError(f"results name {name!r} used twice in one grammar")
        names.append(name)
        return f"(?P<{name}>{body})"
    return body


def _compile_unnamed(element: pp.ParserElement, names: list[str]) -> str:
    if isinstance(element, pp.Regex):
        if element.flags:
            raise TypeError("Regex flags are not translated; use inline (?i) instead")
        # pyparsing types ``pattern`` as object: a str, or a callable until compiled.
        pattern = element.pattern
        if not isinstance(pattern, str):
            raise TypeError(f"Regex built from {pattern!r} has no source text to translate")
        if _UNSHARED_CLASSES.search(pattern):
            raise TypeError(
                f"{pattern!r}: \\s \\S \\w \\W \\b \\B mean different characters in "
                "Python and Rust (\\x1c-\\x1f, say); spell the class out (tokens.BLANK)"
            )
        # Named groups inside a token become results names in pyparsing and named
        # groups in the twin alike; register them so duplicates are caught.
        inner = sorted(re.compile(pattern).groupindex.items(), key=lambda kv: kv[1])
        for name, _ in inner:
            if name in names:
                raise TypeError(f"group name {name!r} used twice in one grammar")
            names.append(name)
        return f"(?:{pattern})"
    if isinstance(element, pp.CaselessLiteral):
        return f"(?i:{_quote(element.match)})"
    if isinstance(element, pp.Literal):
        return _quote(element.match)
    if isinstance(element, pp.StringEnd):
        return "$"
    if isinstance(element, pp.StringStart):
        return "^"
    if isinstance(element, pp.Empty):
        return ""
    if isinstance(element, pp.And):
        return "".join(_compile(e, names) for e in element.exprs)
    if isinstance(element, pp.MatchFirst):
        return "(?:" + "|".join(_compile(e, names) for e in element.exprs) + ")"
    if isinstance(element, pp.Opt):
        return f"(?:{_compile(element.expr, names)})?"
    if isinstance(element, pp.ZeroOrMore):
        return f"(?:{_compile(element.expr, names)})*"
    if isinstance(element, pp.OneOrMore):
        return f"(?:{_compile(element.expr, names)})+"
    if isinstance(element, (pp.Combine, pp.Suppress, pp.Group)):
        return _compile(element.expr, names)
    raise TypeError(f"no regex twin for pyparsing element {type(element).__name__}")


def to_regex(grammar: pp.ParserElement) -> str:
    """Return the anchored regex equivalent of ``grammar`` with one named group per
    results name, in the order they appear."""
    return "^" + _compile(grammar, []) + "$"


def named_groups(grammar: pp.ParserElement) -> list[str]:
    """The results names of ``grammar`` in regex group order."""
    names: list[str] = []
    _compile(grammar, names)
    return names


def _required_literals(element: pp.ParserElement) -> list[str]:
    """Texts that every match of ``element`` contains: its case-sensitive literals
    outside any optional or alternative part."""
    if isinstance(element, pp.CaselessLiteral):
        return []
    if isinstance(element, pp.Literal):
        return [element.match]
    if isinstance(element, pp.And):
        return [text for e in element.exprs for text in _required_literals(e)]
    if isinstance(element, (pp.OneOrMore, pp.Combine, pp.Suppress, pp.Group)):
        return _required_literals(element.expr)
    return []  # Regex, MatchFirst, Opt, ZeroOrMore: nothing that is always there


def required_literal(grammar: pp.ParserElement) -> str | None:
    """The longest text that every match of ``grammar`` contains, or None. A line
    without it cannot match, so the fast path need not run the regex on it."""
    return max(_required_literals(grammar), key=len, default=None) or None


@dataclass(frozen=True)
class LineGrammar:
    """A grammar with its derived regex twin: the unit both parsing paths share.

    ``head`` and ``tail``: when the grammar is ``head + ANY_TEXT(tail) + StringEnd``,
    the fast path may match only ``head`` and take the rest of the text as ``tail``
    (the same result, since ``.*$`` takes whatever follows, without running the
    regex engine over the whole of every line)."""

    name: str
    element: pp.ParserElement
    head: pp.ParserElement | None = None
    tail: str | None = None

    @cached_property
    def regex(self) -> str:
        return to_regex(self.element)

    @cached_property
    def head_regex(self) -> str | None:
        return None if self.head is None else to_regex(self.head)[:-1]  # unanchored end

    @cached_property
    def needle(self) -> str | None:
        return required_literal(self.element)

    @cached_property
    def groups(self) -> tuple[str, ...]:
        return tuple(named_groups(self.element))


def _finish(name: str, element: pp.ParserElement) -> pp.ParserElement:
    element = element.leave_whitespace().parse_with_tabs()
    element.set_name(name)
    return element


def compile_grammar(name: str, element: pp.ParserElement) -> LineGrammar:
    """Wrap a finished grammar: no implicit whitespace skipping, no tab expansion."""
    return LineGrammar(name, _finish(name, element))


def compile_head_tail(name: str, head: pp.ParserElement, tail: str) -> LineGrammar:
    """``head + <rest of the text as tail> + end``, with the head-only fast path."""
    any_text = pp.Regex(r".*")(tail)
    element = _finish(name, head + any_text + pp.StringEnd())
    return LineGrammar(name, element, _finish(name + "-head", head.copy()), tail)
