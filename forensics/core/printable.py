"""Text from the evidence made safe to print: control characters shown, not obeyed.

A log line can carry terminal escape sequences (ESC ] 0 sets a terminal's title,
ESC ] 52 writes the clipboard) or other C0/C1 controls. Wherever such text reaches a
terminal or a document, each control character but tab and newline is written as
``\\xNN``, so the reader sees it and the terminal does nothing with it.
"""

from __future__ import annotations

import re

import polars as pl

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Inside JSON strings, C1 characters pass json.dumps(ensure_ascii=False) raw; C0 ones
# are escaped by it already.
_C1 = re.compile("[\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` with every control character but tab and newline as ``\\xNN``."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def json_safe(text: str) -> str:
    """A JSON document with its C1 control characters (and DEL) as ``\\u00NN``
    escapes: the same data, nothing a terminal would obey."""
    return _C1.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


# A cell that starts like a formula would run as one when a table is opened in a
# spreadsheet: a leading quote keeps it text (the usual CSV-injection defence).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(text: str) -> str:
    """``text`` as a spreadsheet cell that is text, never a formula."""
    return "'" + text if text.startswith(FORMULA_START) else text


# The control characters printable() writes out, and how: for polars columns, one
# pass over all values (Aho-Corasick), the same text as printable() gives.
_CODES = [c for c in range(0xA0) if _CONTROL.match(chr(c))]


def printable_expr(text: pl.Expr) -> pl.Expr:
    """:func:`printable` over a column of text."""
    return text.str.replace_many([chr(c) for c in _CODES], [f"\\x{c:02x}" for c in _CODES])


def formula_safe_expr(text: pl.Expr) -> pl.Expr:
    """:func:`formula_safe` over a column of text."""
    starts = "^[" + "".join(re.escape(c) for c in FORMULA_START) + "]"
    quoted = pl.when(text.str.contains(starts)).then(pl.lit("'") + text).otherwise(text)
    return quoted.name.keep()
