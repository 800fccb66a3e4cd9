"""W3C extended log files: IIS, and the SMTP logs of Exchange 2000/2003's SMTP virtual
server (``LogFiles\\SMTPSVC1\\exYYMMDD.log``; FORMATS.md section 5).

``#`` directives (``#Software``, ``#Version``, ``#Date``, ``#Fields: date time c-ip
cs-username ...``), then one line per record, fields separated by single spaces (a
space inside a value is written ``+``; an empty value leaves two spaces). A
``#Fields`` line may come again mid-file and changes the layout from there on, so a
record's grammar is built from the fields in force: one token per field.
"""

from __future__ import annotations

import re
from functools import cache

import pyparsing as pp

from grammars.twin import LineGrammar, compile_grammar

__all__ = ["column_name", "fields_grammar", "looks_like"]

_VALUE = r"[^ ]*"
_DIRECTIVES = re.compile(r"^#(?:Software|Version|Date|Fields):", re.MULTILINE)
_FIELDS = re.compile(r"^#Fields:[ \t]*\S", re.MULTILINE)


def column_name(field: str) -> str:
    """``cs(User-Agent)`` -> ``cs_User_Agent``: a field as a column and group name."""
    name = re.sub(r"[^A-Za-z0-9]+", "_", field).strip("_") or "field"
    return name if name[0].isalpha() else "f_" + name


@cache
def fields_grammar(fields: tuple[str, ...]) -> LineGrammar:
    """The grammar of a record under ``#Fields: <fields>``."""
    names = [column_name(f) for f in fields]
    seen: dict[str, int] = {}
    unique = []
    for name in names:  # two fields that read the same get a number
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    element: pp.ParserElement = pp.Regex(_VALUE)(unique[0])
    for name in unique[1:]:
        element = element + pp.Literal(" ") + pp.Regex(_VALUE)(name)
    element = element + pp.Regex(r"[ \t]*") + pp.StringEnd()
    return compile_grammar("w3c-record", element)


def looks_like(sample: str) -> bool:
    return bool(_FIELDS.search(sample)) and len(_DIRECTIVES.findall(sample[:4096])) >= 2
