"""Message tracking logs (FORMATS.md section 4): what the server did with each
message, one event per line (or per record), in three generations.

Exchange 4.0/5.x (``\\exchsrvr\\tracking.log\\yyyymmdd.log``, Q173280): tab-delimited,
times in GMT, one record over several lines. The first line holds fields 1-13
(message id or MTS-ID, event number, date-time, gateway, partner, remote id,
originator, priority, length, seconds, cost, subject id or report MTS-ID, recipient
count); each recipient follows on a line of its own, with its report status. The
date-time text is undocumented: the numeric forms (``6/7/99 18:45:01``,
``1999-6-7 6:45:01 PM``, with or without ``GMT``) are read; any other form is an
unparsed line with pyparsing's reason.

Exchange 2000/2003 (``\\exchsrvr\\<server>.log\\yyyymmdd.log``, Q246965): a
``# Message Tracking Log File`` header, then ``# Date<TAB>Time<TAB>client-ip...``
naming the fields; one tab-delimited line per event and recipient, times in GMT.

Exchange 2007-2019 (``MessageTracking\\MSGTRK*.LOG``): CSV (RFC 4180 quoting) after
``#Software``, ``#Version``, ``#Log-type: Message Tracking Log``, ``#Date`` and
``#Fields: date-time,client-ip,...``; UTC times; recipients as a ``;`` list.

The two later layouts are named by the file itself, so a record's grammar is built
from the fields in force (as for W3C logs): one token per field.
"""

from __future__ import annotations

import re
from functools import cache

import pyparsing as pp

from grammars import tokens as t
from grammars.twin import LineGrammar, compile_grammar

__all__ = [
    "BARE_ROW",
    "EX5_HEAD",
    "EX5_RECIPIENT",
    "FAIL_STATUS",
    "ISO_TIME",
    "SOURCE_CONTEXT",
    "TRACK_TIME",
    "column_name",
    "csv_grammar",
    "looks_like_5x",
    "looks_like_2000",
    "looks_like_2007",
    "tab_grammar",
]

_TAB = pp.Literal("\t")
_FIELD = pp.Regex(r"[^\t]*")
_END = pp.StringEnd()
_GMT = pp.Opt(pp.Regex(r"[ \t]*(?i:gmt|utc|z)"))

# --- time ------------------------------------------------------------------------
# A tracking time: the Windows short date and a clock whose minutes and seconds may
# be unpadded ("0:0:12"), with AM/PM on 12-hour servers and an optional GMT.
_CLOCK = (
    pp.Regex(r"[0-9]{1,2}")("hh")
    + pp.Literal(":")
    + pp.Regex(r"[0-9]{1,2}")("mi")
    + pp.Opt(pp.Literal(":") + pp.Regex(r"[0-9]{1,2}")("ss"))
    + pp.Opt(pp.Regex(r"\.[0-9]{1,7}"))
    + pp.Opt(pp.Regex(r" ?") + pp.Regex(r"(?i:[ap]\.?m\.?)")("ampm"))
)
TRACK_TIME = compile_grammar(
    "tracking-time", t.OPT_SPACE + t.US_DATE + t.SPACE + _CLOCK + _GMT + t.OPT_SPACE + _END
)
# Exchange 2007+: ISO 8601 with milliseconds and Z.
ISO_TIME = compile_grammar("tracking-iso-time", t.iso_stamp() + _END)

# --- Exchange 4.0/5.x ------------------------------------------------------------
_DIGITS = pp.Regex(r"[0-9]{1,5}")
EX5_HEAD = compile_grammar(
    "tracking-5x-record",
    pp.Regex(r"[^\t ][^\t]*")("message_id")
    + _TAB
    + _DIGITS("event_id")
    + _TAB
    + pp.Regex(r"[^\t]+")("when")
    + _TAB
    + _FIELD("gateway")
    + _TAB
    + _FIELD("partner")
    + _TAB
    + _FIELD("remote_id")
    + _TAB
    + _FIELD("originator")
    + _TAB
    + _FIELD("priority")
    + _TAB
    + _FIELD("length")
    + _TAB
    + _FIELD("seconds")
    + _TAB
    + _FIELD("cost")
    + _TAB
    + _FIELD("subject_id")
    + _TAB
    + pp.Regex(r"[0-9]*")("rcpt_count")
    # Some writers put the first recipient on the record's own line.
    + pp.Opt(_TAB + t.ANY_TEXT("rest"))
    + _END,
)
# A recipient of the record above: indented by tabs or spaces, then its name and,
# for reports, the recipient report status (0 delivered, 1 not delivered).
EX5_RECIPIENT = compile_grammar(
    "tracking-5x-recipient",
    pp.Regex(r"[ \t]*")
    + pp.Regex(r"[^\t ][^\t]*")("recipient")
    + pp.Opt(_TAB + pp.Regex(r"[0-9]*")("report_status"))
    + pp.Regex(r"[ \t]*")
    + _END,
)

# --- the later layouts, one grammar per field list ---------------------------------


def column_name(field: str) -> str:
    """``Client-IP`` -> ``f_client_ip``: a field as a group name, prefixed so that no
    field of the log (Exchange 2007+ has one called ``source``) takes the name of a
    column of ours."""
    return "f_" + (re.sub(r"[^A-Za-z0-9]+", "_", field).strip("_").lower() or "field")


def _unique(fields: tuple[str, ...]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in (column_name(f) for f in fields):
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return out


@cache
def tab_grammar(fields: tuple[str, ...]) -> LineGrammar:
    """Exchange 2000/2003: one tab-delimited value per field; trailing empty
    fields may be left off."""
    names = _unique(fields)
    element: pp.ParserElement = _FIELD(names[0])
    optional: pp.ParserElement | None = None
    for name in reversed(names[1:]):
        step = _TAB + _FIELD(name)
        optional = pp.Opt(step + optional) if optional is not None else pp.Opt(step)
    if optional is not None:
        element = element + optional
    return compile_grammar("tracking-2000-record", element + pp.Regex(r"[\t ]*") + _END)


_QUOTED = pp.Regex(r'"(?:[^"]|"")*"')
_BARE = pp.Regex(r'[^,"]*')


@cache
def csv_grammar(fields: tuple[str, ...]) -> LineGrammar:
    """Exchange 2007+: one CSV value (quoted with ``""`` inside, or bare) per field."""
    names = _unique(fields)
    element: pp.ParserElement = (_QUOTED | _BARE)(names[0])
    for name in names[1:]:
        element = element + pp.Literal(",") + (_QUOTED | _BARE)(name)
    return compile_grammar("tracking-2007-record", element + _END)


# The source-context of an SMTP RECEIVE or SEND event starts with the protocol log's
# session id: "08D5FB570744A765;2018-08-20T09:32:29.010Z;0".
SOURCE_CONTEXT = compile_grammar(
    "tracking-source-context",
    pp.Regex(r"[0-9A-Fa-f]{16}")("session") + pp.Opt(pp.Literal(";") + t.ANY_TEXT("more")) + _END,
)
# The recipient status of a FAIL event in later builds wraps the last error with the
# host that gave it: "[{LRT=};{LED=550 5.7.1 Unable to relay};{FQDN=relay.x};{IP=...}]".
_BRACED = pp.Regex(r"[^{}]*")
FAIL_STATUS = compile_grammar(
    "tracking-fail-status",
    pp.Literal("[")
    + pp.Opt(pp.Literal("{LRT=") + _BRACED + pp.Literal("};"))
    + pp.Literal("{LED=")
    + _BRACED("reply")
    + pp.Literal("}")
    + pp.Opt(pp.Literal(";{FQDN=") + _BRACED("fqdn") + pp.Literal("}"))
    + pp.Opt(pp.Literal(";{IP=") + _BRACED("ip") + pp.Literal("}"))
    + t.ANY_TEXT("more")
    + _END,
)

# --- which file is which ----------------------------------------------------------
_2007 = re.compile(r"^#Log-type:[ \t]*Message Tracking Log", re.MULTILINE)
_2007_FIELDS = re.compile(r"^#Fields:[ \t]*date-time,", re.MULTILINE)
_2000 = re.compile(r"^#[ \t]*Message Tracking Log File", re.MULTILINE)
_2000_FIELDS = re.compile(r"^#[ \t]*Date\tTime\t", re.MULTILINE | re.IGNORECASE)
# A 5.x record: id, event number, a date with a clock, then ten more tab fields.
_5X = re.compile(
    r"^[^\t\r\n ][^\t\r\n]*\t[0-9]{1,5}\t[ 0-9/.\-]+ [0-9]{1,2}:[0-9]{1,2}[^\t\r\n]*"
    r"(?:\t[^\t\r\n]*){10}",
    re.MULTILINE,
)


# A MSGTRK row as rows copied without their header arrive: an ISO UTC time, six
# fields (quoted or bare), then the source and the event id, both upper-case words.
_CSV_FIELD = r'(?:"(?:[^"]|"")*"|[^,"]*)'
BARE_ROW = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?Z?"
    + rf"(?:,{_CSV_FIELD}){{6}},[A-Z]+,[A-Z]+,"
)


def _bare_2007(sample: str) -> bool:
    """The first non-blank line and most of the first twenty are such rows."""
    lines = [line for line in sample.splitlines()[:100] if line.strip()][:20]
    hits = [BARE_ROW.match(line) is not None for line in lines]
    return bool(hits) and hits[0] and sum(hits) * 2 > len(hits)


def looks_like_2007(sample: str) -> bool:
    return bool(_2007.search(sample) and _2007_FIELDS.search(sample)) or _bare_2007(sample)


def looks_like_2000(sample: str) -> bool:
    return bool(_2000.search(sample[:4096]) and _2000_FIELDS.search(sample[:8192]))


def looks_like_5x(sample: str) -> bool:
    """At least two records among the first lines: one tab-delimited line of another
    kind does not make a tracking log."""
    return len(_5X.findall(sample[:16384], 0)) >= 2 or (
        sample.count("\n") <= 3 and bool(_5X.search(sample))
    )
