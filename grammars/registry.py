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

__all__ = [
    "HEADER",
    "LINE",
    "REGEDT32_LINE",
    "REG_QUERY_LINE",
    "decode_hex",
    "looks_like",
    "looks_like_reg_query",
    "looks_like_regedt32",
]

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
    """A registry export (its header line), ``reg query`` output or regedt32 text."""
    return (
        bool(HEADER.match(sample.lstrip()[:64]))
        or looks_like_reg_query(sample)
        or looks_like_regedt32(sample)
    )


# Lazy tokens end in their own "$": pyparsing does not backtrack into them.
# --- reg query output ----------------------------------------------------------------
#   HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\MSExchangeIMC\Parameters
#       RelayFlags    REG_DWORD    0x2
#       RelayAllowList    REG_MULTI_SZ    192.168.42.1\0192.168.42.2
# Columns are separated by runs of blanks (four, in practice; names may hold one).
REG_QUERY_LINE = compile_grammar(
    "reg-query-line",
    pp.MatchFirst(
        [
            pp.Regex(r"(?P<q_key>(?:HKEY_[A-Z_]+|HK[A-Z]{2})\\[^\r\n]*?)[ \t]*$") + _END,
            pp.Regex(
                r"[ \t]+(?P<q_name>[^ \t\r\n](?:[^\t\r\n]*?[^ \t\r\n])??|\(Default\))"
                r"[ \t]{2,}(?P<q_type>REG_[A-Z_]+)"
                r"(?:[ \t]+(?P<q_data>[^\r\n]*?))?[ \t]*$"
            )
            + _END,
            t.OPT_SPACE + _END,
        ]
    ),
)

# --- regedt32 "Save Subtree As" text (NT4; the layout is inferred: be tolerant) ---------
#   Key Name:          SYSTEM\CurrentControlSet\Services\MSExchangeIMC\Parameters
#   Class Name:        <NO CLASS>
#   Last Write Time:   12/2/97 - 5:20 PM
#   Value 0
#     Name:            RelayFlags
#     Type:            REG_DWORD
#     Data:            0x2
# Multi-string data continues on the lines after "Data:".
REGEDT32_LINE = compile_grammar(
    "regedt32-line",
    t.OPT_SPACE
    + pp.MatchFirst(
        [
            pp.Regex(r"Key Name:[ \t]*(?P<e_key>[^\r\n]*?)[ \t]*$") + _END,
            pp.Regex(r"Class Name:[^\r\n]*$") + _END,
            pp.Regex(r"Last Write Time:[ \t]*(?P<e_written>[^\r\n]*?)[ \t]*$") + _END,
            pp.Regex(r"Value[ \t]+(?P<e_value>[0-9]+)[ \t]*$") + _END,
            pp.Regex(r"Name:[ \t]*(?P<e_name>[^\r\n]*?)[ \t]*$") + _END,
            pp.Regex(r"Type:[ \t]*(?P<e_type>REG_[A-Z_]+)[ \t]*$") + _END,
            pp.Regex(r"Data:[ \t]*(?P<e_data>[^\r\n]*?)[ \t]*$") + _END,
            pp.Regex(r"(?P<e_more>[^\r\n]*[^ \t\r\n])[ \t]*$") + _END,
            t.OPT_SPACE + _END,
        ]
    ),
)

_REG_QUERY_SNIFF = re.compile(r"^[ \t]+\S.*?[ \t]{2,}REG_[A-Z_]+", re.MULTILINE)


def looks_like_reg_query(sample: str) -> bool:
    head = sample.lstrip("\ufeff\r\n \t")[:4096]
    return head.startswith(("HKEY_", "HKLM\\")) and bool(_REG_QUERY_SNIFF.search(head))


def looks_like_regedt32(sample: str) -> bool:
    head = sample[:4096]
    return "Key Name:" in head and ("Class Name:" in head or "Last Write Time:" in head)
