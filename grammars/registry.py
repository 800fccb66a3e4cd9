"""Registry exports: ``REGEDIT4`` and ``Windows Registry Editor Version 5.00``
(FORMATS.md section 3).

A file is a header line, then ``[key]`` lines (``[-key]`` deletes a key) each
followed by ``"name"=value`` lines (``@=`` is the default value, ``"name"=-``
deletes it). Values are ``"string"`` (with ``\\\\`` and ``\\"`` escapes),
``dword:0000000a``, or ``hex:``/``hex(n):`` comma-separated bytes, which long values
continue on following lines after a trailing backslash; readers join those before
the line grammar sees them. ``;`` starts a comment line.

``LINE`` reads one logical line; it has a regex twin because a whole hive exported
can run to hundreds of thousands of lines.
"""

from __future__ import annotations

import re

import pyparsing as pp

from grammars import tokens as t
from grammars.twin import compile_grammar

__all__ = ["HEADER", "LINE", "decode_hex", "looks_like"]

_END = pp.StringEnd()

# [HKEY_LOCAL_MACHINE\SYSTEM\...\Parameters]   [-HKEY_...]   (a trailing blank is tolerated)
_KEY = (
    pp.Literal("[")
    + pp.Opt(pp.Literal("-")("delete_key"))
    + pp.Regex(r"[^\]\r\n]+")("key")
    + pp.Literal("]")
    + t.OPT_SPACE
    + _END
)
# "RelayFlags"=dword:00000002   @="x"   "Old"=-   "List"=hex(7):31,00,...
_NAME = pp.Literal("@")("default") | (
    pp.Literal('"') + pp.Regex(r'(?:[^"\\]|\\.)*')("name") + pp.Literal('"')
)
_VALUE = (
    _NAME
    + t.OPT_SPACE
    + pp.Literal("=")
    + t.OPT_SPACE
    + pp.MatchFirst(
        [
            pp.Literal("-")("delete_value") + t.OPT_SPACE + _END,
            pp.Regex(r"(?i:dword):")("dword_tag")
            + pp.Regex(r"[0-9A-Fa-f]{1,8}")("dword")
            + t.OPT_SPACE
            + _END,
            pp.Regex(r"(?i:hex)")
            + pp.Opt(pp.Literal("(") + pp.Regex(r"[0-9A-Fa-f]{1,8}")("hex_type") + pp.Literal(")"))
            + pp.Literal(":")
            + pp.Regex(r"[0-9A-Fa-f, \t]*")("hex")
            + _END,
            pp.Literal('"')
            + pp.Regex(r'(?:[^"\\]|\\.)*')("string")
            + pp.Literal('"')
            + t.OPT_SPACE
            + _END,
        ]
    )
)
_COMMENT = pp.Regex(r";.*")("comment") + _END
_BLANK = t.OPT_SPACE("blank") + _END

LINE = compile_grammar(
    "registry-line",
    t.OPT_SPACE + pp.MatchFirst([_KEY, _VALUE, _COMMENT, _BLANK]),
)

HEADER = re.compile(r"^\ufeff?(REGEDIT4|Windows Registry Editor Version 5\.00)\s*$", re.MULTILINE)


def decode_hex(data: str, kind: str | None, unicode: bool) -> str | list[str] | int | None:
    """The value behind ``hex(kind):..`` bytes: REG_MULTI_SZ (7) as a list of
    strings, REG_SZ/REG_EXPAND_SZ (1, 2) as a string, REG_DWORD (4) as an int, the
    rest as hex text. ``unicode``: a 5.00 export (UTF-16LE text), else ANSI."""
    try:
        raw = bytes(int(b, 16) for b in re.split(r"[,\s]+", data.strip()) if b)
    except ValueError:
        return None
    code = int(kind, 16) if kind else 3
    if code in (1, 2, 7):
        text = raw.decode("utf-16-le" if unicode else "cp1252", errors="replace")
        if code == 7:
            return [part for part in text.split("\x00") if part]
        return text.split("\x00", 1)[0]
    if code == 4 and len(raw) >= 4:
        return int.from_bytes(raw[:4], "little")
    return raw.hex()


def looks_like(sample: str) -> bool:
    """A registry export starts with its header line."""
    return bool(HEADER.match(sample.lstrip()[:64]))
