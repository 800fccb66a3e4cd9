"""The CSV evidence an admin brings: the change log and directory exports
(FORMATS.md section 3). The standard library's ``csv`` splits the records; these
grammars read the cells.

* ``TIME``: a change log's ``time`` cell, ISO 8601 (``2000-05-15 09:00``,
  ``2000-05-15T09:00:00``) or the log's local format (``5/15/00 9:00 AM``).
* ``PROXY``: one entry of an address cell: ``SMTP:a@b`` (primary), ``smtp:a@b``,
  a bare ``a@b``, or another address type (``X400:``, ``X500:``, ``MS:``) to ignore.
"""

from __future__ import annotations

import re

import pyparsing as pp

from grammars import tokens as t
from grammars.twin import compile_grammar

__all__ = [
    "ADDRESS_COLUMNS",
    "CHANGELOG_HEADER",
    "CRASH_MARKER",
    "CRASH_TIME",
    "EVENT_TIME",
    "PROXY",
    "TIME",
    "looks_like_changelog",
    "looks_like_directory",
    "looks_like_eventlog",
]

_END = pp.StringEnd()

_ISO = (
    pp.Regex(r"[0-9]{4}")("y")
    + pp.Literal("-")
    + pp.Regex(r"[0-9]{1,2}")("mo")
    + pp.Literal("-")
    + pp.Regex(r"[0-9]{1,2}")("dd")
    + pp.Regex(r"[T ]")
    + pp.Regex(r"[0-9]{1,2}")("h")
    + pp.Literal(":")
    + pp.Regex(r"[0-9]{2}")("mn")
    + pp.Opt(pp.Literal(":") + pp.Regex(r"[0-9]{2}")("s"))
    + pp.Opt(pp.Regex(r"\.[0-9]+"))
)
TIME = compile_grammar(
    "change-time",
    t.OPT_SPACE + pp.MatchFirst([_ISO + t.OPT_SPACE + _END, t.stamp() + t.OPT_SPACE + _END]),
)

PROXY = compile_grammar(
    "proxy-address",
    t.OPT_SPACE
    + pp.Opt(pp.Regex(r"[A-Za-z0-9]+")("type") + pp.Literal(":"))
    + pp.Regex(rf"[^{t.BLANK}@:;%]+@[^{t.BLANK}@;%]+")("address")
    + t.OPT_SPACE
    + _END,
)

# The names a directory export gives its address column (compared case-insensitively).
ADDRESS_COLUMNS = (
    "e-mail addresses",
    "proxy-addresses",
    "proxyaddresses",
    "e-mail address",
    "mail",
    "primarysmtpaddress",
    "emailaddress",
    "smtp address",
)

CHANGELOG_HEADER = re.compile(r"^\ufeff?\s*time\s*,(?=.*\bsetting\b).*$", re.IGNORECASE)


def looks_like_changelog(sample: str) -> bool:
    """The project's change-log format: a CSV whose header has time and setting."""
    first = sample.lstrip("\ufeff").split("\n", 1)[0].strip()
    return bool(CHANGELOG_HEADER.match(first))


def looks_like_directory(sample: str) -> bool:
    """A CSV whose header names an address column, or a plain list of addresses."""
    lines = [line.strip() for line in sample.lstrip("\ufeff").splitlines()[:50] if line.strip()]
    if not lines:
        return False
    header = [c.strip().strip('"').lower() for c in re.split(r"[,;\t]", lines[0])]
    if any(c in ADDRESS_COLUMNS for c in header):
        return True
    addressy = sum(
        1
        for line in lines
        if re.fullmatch(r"(?:smtp:)?[^\s@,;]+@[^\s@,;]+\.[A-Za-z]{2,}", line, re.I)
    )
    return addressy >= max(2, len(lines) * 9 // 10)


# --- event logs ------------------------------------------------------------------
# NT4 Event Viewer "Save As" text: Date, Time, Source, Type, Category, Event, User,
# Computer, Description, tab- or comma-delimited, with or without a header line.
# The newer Event Viewer CSV: "Level,Date and Time,Source,Event ID,Task Category"
# and the description last (quoted, possibly over several lines).
EVENT_TIME = compile_grammar("event-time", t.OPT_SPACE + t.stamp() + t.OPT_SPACE + _END)
# Dr. Watson's description carries the crash time to the millisecond, with day and
# month space-padded: "... The error occurred on 12/ 2/1997 @ 17:27:29.240 ...".
# The grammar reads what follows CRASH_MARKER (the reader cuts the text there: a
# leading ".*?" would let the regex twin backtrack to a later marker where
# pyparsing, which never backtracks into a token, would fail).
CRASH_MARKER = "error occurred on "
CRASH_TIME = compile_grammar(
    "crash-time",
    t.OPT_SPACE
    + t.US_DATE
    + t.OPT_SPACE
    + pp.Literal("@")
    + t.OPT_SPACE
    + t.US_TIME
    + t.ANY_TEXT
    + _END,
)
_NT4_LINE = re.compile(
    r"^\s*[0-9]{1,4}[/.\-] ?[0-9]{1,2}[/.\-] ?[0-9]{1,4}[\t,]\s*[0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?"
    r"(?: ?[AaPp][Mm])?[\t,][^\t,]*[\t,]"
    r"(?:Information|Warning|Error|Success Audit|Failure Audit)[\t,]",
    re.IGNORECASE,
)
_EVENT_HEADER = re.compile(
    r"^\ufeff?\s*(?:Level,Date and Time,Source,Event ID"
    r"|Date[\t,]Time[\t,]Source[\t,]Type[\t,]Category[\t,]Event)",
    re.IGNORECASE,
)


def looks_like_eventlog(sample: str) -> bool:
    first = sample.lstrip("\ufeff").split("\n", 1)[0]
    return bool(_EVENT_HEADER.match(first) or _NT4_LINE.match(first))
