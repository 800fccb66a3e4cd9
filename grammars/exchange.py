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

import pyparsing as pp

from grammars import tokens as t
from grammars.twin import compile_grammar

__all__ = ["COMMAND", "FIELDS", "LINE", "log_type", "looks_like"]

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
LINE = compile_grammar(
    "exchange-protocol-line",
    _STAMP
    + pp.Literal(",")
    + _field("connector")
    + pp.Literal(",")
    + pp.Regex(r"[0-9A-Fa-f]*")("session")
    + pp.Literal(",")
    + pp.Regex(r"[0-9]*")("seq")
    + pp.Literal(",")
    + _ENDPOINT("local")
    + pp.Literal(",")
    + _ENDPOINT("remote")
    + pp.Literal(",")
    + pp.Regex(r"[+\-<>*]")("event")
    + pp.Literal(",")
    + _field("data")
    + pp.Literal(",")
    + t.ANY_TEXT("context")
    + _END,
)
# A command as the data field carries it: the verb and the rest.
COMMAND = compile_grammar(
    "exchange-command",
    t.VERB("verb") + pp.Opt(pp.Regex(r"[ \t]+") + t.ANY_TEXT("arg")) + _END,
)

_LOOKS = re.compile(r"^#Fields: date-time,connector-id,session-id", re.MULTILINE)
_LOG_TYPE = re.compile(r"^#Log-type: SMTP (Receive|Send) Protocol Log", re.MULTILINE)


def looks_like(sample: str) -> bool:
    return bool(_LOOKS.search(sample) and _LOG_TYPE.search(sample))


def log_type(text: str) -> str | None:
    """``Receive`` or ``Send``: the direction of every session in the file."""
    m = _LOG_TYPE.search(text[:4096])
    return m.group(1) if m else None
