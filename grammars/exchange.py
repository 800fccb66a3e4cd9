"""Exchange 2007-2019 SMTP protocol logs (``SmtpReceive\\RECV*.LOG``,
``SmtpSend\\SEND*.LOG``; FORMATS.md section 5).

A CSV file (RFC 4180 quoting) after ``#`` header lines, one of which is
``#Fields: date-time,connector-id,session-id,sequence-number,local-endpoint,
remote-endpoint,event,data,context`` and one ``#Log-type: SMTP Receive Protocol Log``
(or ``Send``). ``event`` is ``+`` connect, ``-`` disconnect, ``<`` received, ``>`` sent,
``*`` information; ``data`` holds the command or the reply.
"""

from __future__ import annotations

import re
from functools import cache

import pyparsing as pp

from grammars import tokens as t
from grammars.twin import LineGrammar, compile_grammar

__all__ = ["BARE_ROW", "COMMAND", "FIELDS", "LINE", "line_grammar", "log_type", "looks_like"]

FIELDS = (
    "date-time,connector-id,session-id,sequence-number,local-endpoint,remote-endpoint,"
    "event,data,context"
)
_END = pp.StringEnd()
# A CSV field: quoted (with "" for a quote inside) or bare.
_QUOTED = pp.Regex(r'"(?:[^"]|"")*"')
_BARE = pp.Regex(r'[^,"]*')


def _field(name: str) -> pp.ParserElement:
    return (_QUOTED | _BARE)(name)


_STAMP = t.iso_stamp()
_ENDPOINT = pp.Regex(r"[^,]*")
# The token of each field this reader knows, under the group name the reader uses;
# a field of another name is a plain CSV field.
_TOKENS: dict[str, pp.ParserElement] = {
    "date-time": _STAMP,
    "connector-id": _field("connector"),
    "session-id": pp.Regex(r"[0-9A-Fa-f]*")("session"),
    "sequence-number": pp.Regex(r"[0-9]*")("seq"),
    "local-endpoint": _ENDPOINT("local"),
    "remote-endpoint": _ENDPOINT("remote"),
    "event": pp.Regex(r"[+\-<>*]")("event"),
    "data": _field("data"),
    "context": _field("context"),
}


@cache
def line_grammar(fields: tuple[str, ...]) -> LineGrammar:
    """The grammar of a row under ``#Fields: <fields>`` (or a standard order given
    for rows without their header). The last field runs to the end of the line
    (the context may hold commas)."""
    names = [f.strip().lower() for f in fields]
    parts: list[pp.ParserElement] = []
    for i, name in enumerate(names):
        if i == len(names) - 1 and name in ("context", "data"):
            parts.append(t.ANY_TEXT("context" if name == "context" else "data"))
        elif name in _TOKENS:
            parts.append(_TOKENS[name].copy())
        else:
            parts.append(_field(f"f_{i}"))
    element = parts[0]
    for part in parts[1:]:
        element = element + pp.Literal(",") + part
    return compile_grammar("exchange-protocol-line", element + _END)


LINE = line_grammar(tuple(FIELDS.split(",")))
# A command as the data field carries it: the verb and the rest.
COMMAND = compile_grammar(
    "exchange-command",
    t.VERB("verb") + pp.Opt(pp.Regex(r"[ \t]+") + t.ANY_TEXT("arg")) + _END,
)

_LOOKS = re.compile(r"^#Fields: date-time,connector-id,session-id", re.MULTILINE)
_LOG_TYPE = re.compile(r"^#Log-type: SMTP (Receive|Send) Protocol Log", re.MULTILINE)


# A row of the standard order, as rows copied without their header arrive (a SIEM,
# a ticket, an Elastic or CrowdSec pipeline): an ISO time, the connector, a
# 16-digit hex session id, a sequence number, two endpoints and the event.
BARE_ROW = re.compile(
    r'^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?Z?,(?:"(?:[^"]|"")*"|[^,"]*),'
    r"[0-9A-Fa-f]{16},[0-9]+,[^,]*,[^,]*,[+\-<>*],"
)
_SNIFF_LINES = 20


def _bare(sample: str) -> bool:
    """The first non-blank line and most of the first twenty are such rows."""
    lines = [
        line
        for line in sample.splitlines()[: _SNIFF_LINES * 5]
        # A plain CSV header row (the #Fields names without '#Fields: ') is no row.
        if line.strip() and not line.startswith("date-time,connector-id,")
    ]
    hits = [BARE_ROW.match(line) is not None for line in lines[:_SNIFF_LINES]]
    return bool(hits) and hits[0] and sum(hits) * 2 > len(hits)


def looks_like(sample: str) -> bool:
    return bool(_LOOKS.search(sample) and _LOG_TYPE.search(sample)) or _bare(sample)


def log_type(text: str) -> str | None:
    """``Receive`` or ``Send``: the direction of every session in the file."""
    m = _LOG_TYPE.search(text[:4096])
    return m.group(1) if m else None
