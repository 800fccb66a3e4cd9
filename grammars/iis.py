"""The two fixed IIS log formats besides W3C, as the SMTP service of IIS (Exchange
2000/2003's SMTP virtual server) and the web service write them
(docs/formats/iis.md has the field definitions and where they come from).

NCSA Common log file format (``ncYYMMDD.log``): space-separated, ``host ident user
[dd/Mon/yyyy:hh:mm:ss +hhmm] "request" status bytes``. The SMTP service puts the
client's HELO name (or ``OutboundConnectionCommand``/``...Response``) in the user
field, ``VERB target?parameters SMTP`` in the request (spaces in the parameters
as ``+``) and the SMTP reply code in the status.

Microsoft IIS log file format (``inYYMMDD.log``): comma-separated (a comma and
spaces), no header, fifteen fields: client IP, user name, date, time, service and
instance, server name, server IP, time taken, bytes received, bytes sent, service
status, Windows status, operation, target, parameters, and a trailing comma.
"""

from __future__ import annotations

import re

import pyparsing as pp

from grammars import tokens as t
from grammars.twin import compile_grammar

__all__ = ["MSIIS_LINE", "NCSA_LINE", "NCSA_REQUEST", "looks_like_msiis", "looks_like_ncsa"]

_END = pp.StringEnd()
_SP = pp.Literal(" ")
_WORD = pp.Regex(r"[^ ]+")

# --- NCSA --------------------------------------------------------------------------
# "[11/Oct/2006:13:16:39 -0600]": the local time and its offset from GMT (written
# "- 0800" in Microsoft's own example; the offset is not kept).
_NCSA_STAMP = (
    pp.Literal("[")
    + pp.Regex(r"[0-9]{1,2}")("day")
    + pp.Literal("/")
    + pp.Regex(r"[A-Za-z]{3}")("mon")
    + pp.Literal("/")
    + pp.Regex(r"[0-9]{4}")("year")
    + pp.Literal(":")
    + pp.Regex(r"[0-9]{2}")("hh")
    + pp.Literal(":")
    + pp.Regex(r"[0-9]{2}")("mi")
    + pp.Literal(":")
    + pp.Regex(r"[0-9]{2}")("ss")
    + pp.Regex(r"(?: ?[+\-] ?[0-9]{4})?")
    + pp.Literal("]")
)
NCSA_LINE = compile_grammar(
    "ncsa-line",
    _WORD("host")
    + _SP
    + _WORD("ident")
    + _SP
    + _WORD("user")
    + _SP
    + _NCSA_STAMP
    + _SP
    + pp.Literal('"')
    # The request may hold quotes of its own ('354+...+WITH+"."+ON+A+LINE'): it runs
    # to the last quote before the status and the byte count.
    + pp.Regex(r'(?P<request>.*)" (?P<status>-|[0-9]+) (?P<bytes>-|[0-9]+)[ \t]*')
    + _END,
)
# "MAIL -?+FROM:<a@b> SMTP", "DATA - SMTP", "- -?250+OK SMTP", "GET /a.htm HTTP/1.1",
# and Microsoft's example "MAIL FROM -? FROM: maria HTTP/1.0".
NCSA_REQUEST = compile_grammar(
    "ncsa-request",
    pp.Regex(
        r"(?P<verb>[^ ]+)(?: (?P<target>[^?]*?)(?:\?(?P<params>.*?))?)?"
        r"(?: (?P<proto>SMTP|[A-Z]+/[0-9.]+))?$"
    )
    + _END,
)

# --- Microsoft IIS log format ------------------------------------------------------
_SEP = pp.Regex(r", *")
_VALUE = pp.Regex(r"[^,]*")


def _fields(*names: str) -> pp.ParserElement:
    element: pp.ParserElement = _VALUE(names[0])
    for name in names[1:]:
        element = element + _SEP + _VALUE(name)
    return element


MSIIS_LINE = compile_grammar(
    "msiis-line",
    pp.Regex(r" *")
    + _fields("client", "user")
    + _SEP
    + t.US_DATE
    + _SEP
    + pp.Regex(r"[0-9]{1,2}")("hh")
    + pp.Literal(":")
    + pp.Regex(r"[0-9]{2}")("mi")
    + pp.Literal(":")
    + pp.Regex(r"[0-9]{2}")("ss")
    + _SEP
    + _fields(
        "service",
        "server",
        "server_ip",
        "time_taken",
        "bytes_in",
        "bytes_out",
        "status",
        "win32_status",
        "operation",
        "target",
    )
    + _SEP
    # The parameters, and the trailing comma every record ends with.
    + t.ANY_TEXT("params")
    + _END,
)

# --- which file is which ------------------------------------------------------------
_NCSA = re.compile(
    r"^[^ \r\n]+ [^ \r\n]+ [^ \r\n]+ \[[0-9]{1,2}/[A-Za-z]{3}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2}"
    r'(?: ?[+\-] ?[0-9]{4})?\] "'
)
_MSIIS = re.compile(
    r"^ *[^,\r\n]+, *[^,\r\n]*, *[0-9]{1,4}[/.\-][0-9]{1,2}[/.\-][0-9]{1,4}, *"
    r"[0-9]{1,2}:[0-9]{2}:[0-9]{2}, *[^,\r\n]*, *[^,\r\n]*, *[^,\r\n]*, *"
    r"(?:-|[0-9]+), *(?:-|[0-9]+), *(?:-|[0-9]+), *(?:-|[0-9]+), *(?:-|[0-9]+), "
)
_SNIFF_LINES = 20


def _most(pattern: re.Pattern[str], sample: str) -> bool:
    """The first non-blank line and most of the first twenty have the shape."""
    lines = [line for line in sample.splitlines()[: _SNIFF_LINES * 5] if line.strip()]
    lines = lines[:_SNIFF_LINES]
    hits = [pattern.match(line) is not None for line in lines]
    return bool(hits) and hits[0] and sum(hits) * 2 > len(hits)


def looks_like_ncsa(sample: str) -> bool:
    return _most(_NCSA, sample)


def looks_like_msiis(sample: str) -> bool:
    return _most(_MSIIS, sample)
