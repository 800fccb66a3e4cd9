"""The headers of the line logs Unix mail servers write (FORMATS.md section 5).

A line is a header and a message. The header is one of these shapes, tried in this
order (the first that matches a line is its shape):

- ``syslog``: ``[<pri>]Jan 28 06:40:37 host prog[pid]: `` (traditional, BSD) or
  ``[<pri>]2021-01-28T06:40:37.123+00:00 host prog[pid]: `` (RFC 3339, rsyslog's
  high-precision format); the ``<pri>`` prefix is rsyslog's forwarding format, a
  ``<mail.notice>`` before the host is syslogd's ``-v`` (facility and level).
- ``rfc5424``: ``<pri>1 2021-03-06T04:07:38.25+00:00 host app procid msgid [sd] ``
  (RFC 5424; ``-`` for what is not known).
- ``bare``: ``[host ]prog[pid]: `` with no time: lines cut out of a syslog file
  (OSSEC's samples, tickets, fail2ban's) or continuing a block. The process id is
  required, so prose with a colon ("Portion of the log(s): ...") is not taken for
  a program.
- ``exim``: Exim's own mainlog, rejectlog and paniclog, ``2024-01-02 10:11:12[.123]
  [+0100] [[pid]] ``: dated with the year, no host, no program (it is Exim). Exim
  writes the same stamp at the start of its messages when it logs through syslog
  (``exim[123]: 2006-11-21 15:01:33 1Glsgv-0002wv-00 ...``); the reader takes the
  line's time from it then, as it carries the year.

Every shape gives the same names (``mon day hh mi ss`` for a traditional stamp, ``ry
rmo rd rhh rmi rss`` for a dated one, ``host prog pid msg``); a shape lacks some.
"""

from __future__ import annotations

import re
from functools import lru_cache

import pyparsing as pp

from grammars import tokens as t
from grammars.twin import LineGrammar, compile_head_tail

__all__ = [
    "BARE_LINE",
    "EXIM_HEADER_DUMP",
    "EXIM_LINE",
    "LINE",
    "RFC5424_LINE",
    "SHAPES",
    "SNIFF_LINES",
    "looks_like_exim",
    "looks_like_syslog",
    "sample_programs",
]

_MONTH = pp.Regex(r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)")
_TRADITIONAL = (
    _MONTH("mon")
    + pp.Regex(r" {1,2}")
    + pp.Regex(r"[0-9]{1,2}")("day")
    + pp.Literal(" ")
    + pp.Regex(r"[0-9]{2}")("hh")
    + pp.Literal(":")
    + pp.Regex(r"[0-9]{2}")("mi")
    + pp.Literal(":")
    + pp.Regex(r"[0-9]{2}")("ss")
)
_PRI = pp.Regex(r"<[0-9]{1,3}>")
_HOST = pp.Regex(r"[^ \t\[\]:]+")
_PROGRAM = pp.Regex(r"[^ \t\[\]:]+")
_PID = pp.Literal("[") + pp.Regex(r"[0-9]+")("pid") + pp.Literal("]")
_HEAD = (
    pp.Opt(_PRI)
    + (_TRADITIONAL | t.iso_stamp("r"))
    + pp.Literal(" ")
    # syslogd's -v (and some rsyslog templates) put the facility and level first.
    + pp.Opt(pp.Regex(r"<[a-z0-9]+\.[a-z]+> "))
    + _HOST("host")
    + pp.Literal(" ")
    + _PROGRAM("prog")
    + pp.Opt(_PID)
    + pp.Literal(":")
    + t.OPT_SPACE
)
# The message is the rest of the line: the fast path matches the header only.
LINE = compile_head_tail("syslog-line", _HEAD, "msg")

_NIL = pp.Literal("-")
_SD = pp.Regex(r"(?:\[[^\]]*\])+")
_RFC5424_HEAD = (
    _PRI
    + pp.Literal("1 ")
    + t.iso_stamp("r")
    + pp.Literal(" ")
    + _HOST("host")
    + pp.Literal(" ")
    + _PROGRAM("prog")
    + pp.Literal(" ")
    + (pp.Regex(r"[0-9]+")("pid") | _NIL)
    + pp.Literal(" ")
    + pp.Regex(r"[^ \t]+")
    + pp.Literal(" ")
    + (_NIL | _SD)
    + t.OPT_SPACE
)
RFC5424_LINE = compile_head_tail("syslog-rfc5424", _RFC5424_HEAD, "msg")

_BARE_HEAD = (
    pp.Opt(_HOST("host") + pp.Literal(" "))
    + pp.Regex(r"[A-Za-z][A-Za-z0-9_./-]*")("prog")
    + _PID
    + pp.Literal(":")
    + t.OPT_SPACE
)
BARE_LINE = compile_head_tail("syslog-bare", _BARE_HEAD, "msg")


def _part(digits: int, name: str) -> pp.ParserElement:
    return pp.Regex(f"[0-9]{{{digits}}}")(name)


# Exim: "2024-01-02 10:11:12", a fraction with log_selector +millisec, the zone with
# log_timezone, the process id with +pid. Times stay as written (the zone is not kept).
_EXIM_STAMP = (
    _part(4, "ry")
    + pp.Literal("-")
    + _part(2, "rmo")
    + pp.Literal("-")
    + _part(2, "rd")
    + pp.Literal(" ")
    + _part(2, "rhh")
    + pp.Literal(":")
    + _part(2, "rmi")
    + pp.Literal(":")
    + _part(2, "rss")
    + pp.Regex(r"(?:\.[0-9]{1,6})?(?: [+\-][0-9]{4})?")
)
_EXIM_HEAD = _EXIM_STAMP + pp.Literal(" ") + pp.Opt(_PID + pp.Literal(" "))
EXIM_LINE = compile_head_tail("exim-line", _EXIM_HEAD, "msg")

# (shape, grammar), in the order they are tried.
SHAPES: tuple[tuple[str, LineGrammar], ...] = (
    ("syslog", LINE),
    ("rfc5424", RFC5424_LINE),
    ("bare", BARE_LINE),
    ("exim", EXIM_LINE),
)

# --- recognising a file by its first lines ----------------------------------------
# How many of a file's first lines that are neither comments nor blank are looked at.
SNIFF_LINES = 20

_LOOKS = re.compile(
    r"^(?:<[0-9]{1,3}>)?(?:"
    r"(?:[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2}|"
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(?:Z|[+\-][0-9:]+)?) "
    r"(?:<[a-z0-9]+\.[a-z]+> )?[^ ]+ (?P<p>[^ \[:]+)(?:\[[0-9]+\])?: |"
    r"1 [0-9]{4}-[0-9]{2}-[0-9]{2}T[^ ]+ [^ ]+ (?P<p5>[^ ]+) |"
    r"(?P<pb>[A-Za-z][A-Za-z0-9_./-]*)\[[0-9]+\]: )"
)
_EXIM_LOOKS = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?: [+\-][0-9]{4})?"
    r"(?: \[[0-9]+\])? "
)
# The lines Exim's rejectlog writes under a refusal: the envelope, then the message's
# headers, each after a one-letter flag (as in its spool files), continued on
# indented lines.
EXIM_HEADER_DUMP = r"^(?:Envelope-(?:from|to): |[A-Z*] [A-Za-z][A-Za-z0-9-]*: |[ \t]+[^ \t])"
# What only Exim writes after its stamp: a message id (old 6-6-2 or new 6-11-4
# base-62), a host field, a queue run, its daemon's start.
_EXIM_SAYS = re.compile(
    r"[0-9A-Za-z]{6}-[0-9A-Za-z]{6,11}-[0-9A-Za-z]{2,4} |\bH=|Start queue run|"
    r"exim [0-9.]+ daemon started|SMTP connection from|no host name found"
)


def _sample_lines(sample: str, count: int = SNIFF_LINES) -> list[str]:
    """The first ``count`` lines of ``sample`` that are neither blank nor comments."""
    return [
        line
        for line in sample.splitlines()[: count * 20]
        if line.strip() and not line.lstrip().startswith("#")
    ][:count]


@lru_cache(maxsize=8)
def _programs(sample: str) -> tuple[bool, tuple[str, ...]]:
    """(whether the sample is syslog, the programs of its headed lines in order)."""
    lines = _sample_lines(sample)
    if not lines:
        return False, ()
    found = [_LOOKS.match(line) for line in lines]
    headed = sum(m is not None for m in found)
    # A mail log often opens with other programs' lines (dovecot, a cron job): the
    # programs are looked for further than the shape is.
    further = [_LOOKS.match(line) for line in _sample_lines(sample, SNIFF_LINES * 20)]
    syslog = found[0] is not None or headed * 2 > len(lines)
    programs = tuple(
        (m["p"] or m["p5"] or m["pb"]).split("/")[0].lower() for m in further if m is not None
    )
    return syslog, programs


def looks_like_syslog(sample: str) -> bool:
    """A syslog file: most of its first lines that are neither blank nor comments
    (``#``, as fail2ban's and logwatch's saved logs open) have a syslog header."""
    return _programs(sample)[0]


def sample_programs(sample: str) -> tuple[str, ...]:
    """The programs of the sample's headed lines, in order, as written before any
    ``/`` and lower-cased (``postfix/smtpd`` -> ``postfix``, ``sm-mta``)."""
    return _programs(sample)[1]


def looks_like_exim(sample: str) -> bool:
    """Exim's own log: its first line, or half its first lines, carry its stamp, and
    one says what only Exim says (a message id, ``H=``, a queue run, its daemon)."""
    lines = _sample_lines(sample)
    if not lines:
        return False
    stamped = [line for line in lines if _EXIM_LOOKS.match(line)]
    # A copied log may open with a line of its own (a harness's '*** SERVER ***'):
    # half its first lines stamped is enough then.
    enough = stamped[:1] == lines[:1] or len(stamped) * 2 >= len(lines)
    return bool(stamped) and enough and any(_EXIM_SAYS.search(line) for line in stamped)
