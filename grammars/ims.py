"""Exchange 4.0/5.0/5.5 Internet Mail Service protocol log (``L0000000.LOG``).

FORMATS.md section 1. A log line is ``<date> <time> : <payload>``; the payload is a
connection notice, ``<<< text`` (received) or ``>>> text`` (sent), ``IO: |raw`` at
Maximum logging, or arrow-less text on some outbound logs. Multi-line replies carry
no timestamp on their continuation lines, and the excerpts quoted in KB articles are
indented, re-wrapped and sometimes wrapped in quotes, so reading is two-staged:

1. ``LINE`` splits every physical line into indent, quote, stamp, arrow, IO marker
   and body. It always matches. ``STARTER``, ``REPLY_HEAD`` and ``DASH_REPLY`` tell
   which lines start a record and which continue the one above.
2. ``PAYLOAD`` reads the logical record (the start line's body plus its wrapped
   continuations) into one of: connection accepted, connection established,
   rescheduling summary, reply, AUTH blob, command.

Each grammar has a regex twin (:mod:`grammars.twin`) for the vectorized path.
"""

from __future__ import annotations

import re

import pyparsing as pp

from grammars import tokens as t
from grammars.twin import compile_grammar as _grammar
from grammars.twin import compile_head_tail

__all__ = [
    "DASH_REPLY",
    "LINE",
    "PAYLOAD",
    "PAYLOAD_COMMON",
    "REPLY_HEAD",
    "RESCHEDULE_PHRASE",
    "STARTER",
    "looks_like",
]


_END = pp.StringEnd()

# --- stage 1: the physical line ---------------------------------------------------
# The separator needs a blank before its colon, as every IMS line has ("2:36:27 PM : ",
# "17:20:01 : "). Without it "0:00:00" could read as time "0:00" then ":" in the regex
# (which backtracks into the optional seconds) but not in pyparsing (which does not).
_STAMP = t.stamp() + pp.Regex(r"[ \t]+:[ \t]?")
_ARROW = pp.Regex(r"<<<|>>>")("arrow") + pp.Regex(r"[ \t]?")
_IO = pp.Regex(r"IO: ?\|")("io")

LINE = compile_head_tail(
    "ims-line",
    t.OPT_SPACE("indent")
    + pp.Opt(pp.Literal('"')("quote"))
    + pp.Opt(_STAMP)
    + pp.Opt(_ARROW)
    + pp.Opt(_IO),
    "body",
)

_VERB_HEAD = pp.Regex(
    "(?i:" + "|".join(re.escape(v).replace("\\-", "-") for v in t.SMTP_VERBS) + r")(?:[ \t:]|$)"
)
_REPLY_SEP = pp.Regex(r"[ \-]|$")

# A line with no stamp, arrow or IO marker starts a record only at column 0 and only
# when its text is recognisably a log payload; otherwise it continues the one above.
STARTER = _grammar(
    "ims-record-start",
    pp.MatchFirst(
        [
            pp.Literal("A connection ") + t.ANY_TEXT + _END,
            t.REPLY_CODE + _REPLY_SEP + t.ANY_TEXT + _END,
            _VERB_HEAD + t.ANY_TEXT + _END,
            pp.Regex(r".*Message subject:.*") + _END,
        ]
    ),
)
REPLY_HEAD = _grammar("ims-reply-head", t.REPLY_CODE + _REPLY_SEP + t.ANY_TEXT + _END)
DASH_REPLY = _grammar("ims-dash-reply", t.REPLY_CODE + pp.Literal("-") + t.ANY_TEXT + _END)

# --- stage 2: the logical record ---------------------------------------------------
_CONNECT_IN = (
    pp.Literal("A connection was accepted from")
    + t.SPACE
    + pp.Regex(r"(?P<in_host>.*?)\.?$")
    + _END
)
_CONNECT_OUT = (
    pp.Literal("A connection to")
    + t.SPACE
    + pp.Regex(r"(?P<out_addr>.*?) was established\.?$")
    + _END
)
# "<code> <text> Message subject: "<subject>". Rescheduling delivery for later."
# (the KB's own template writes placeholders instead of the code and text).
_RESCHEDULE = (
    pp.Opt(t.REPLY_CODE("rs_code") + t.SPACE)
    + pp.Regex(
        r"(?P<rs_text>.*?) ?Message subject: ?(?P<rs_subject>.*?)\.? ?"
        r"Rescheduling delivery for later\.?$"
    )
    + _END
)
_REPLY = t.REPLY_CODE("code") + pp.MatchFirst(
    [
        _END,
        pp.Regex(r"[ \-]")("sep")
        + pp.Opt(t.ENHANCED_STATUS("status") + pp.Regex(r"[ \t]+|$"))
        + t.ANY_TEXT("text")
        + _END,
    ]
)
_AUTH_BLOB = t.BASE64_BLOB("blob") + _END
_COMMAND = t.VERB("verb") + pp.Opt(t.SPACE + t.ANY_TEXT("arg")) + _END

PAYLOAD = _grammar(
    "ims-payload",
    pp.MatchFirst([_CONNECT_IN, _CONNECT_OUT, _RESCHEDULE, _REPLY, _AUTH_BLOB, _COMMAND]),
)
# The same grammar without the rescheduling summary, for the fast path: a payload
# without this phrase can never match that alternative, so on such payloads the two
# grammars are the same; and the summary's lazy scan, cheap alone, doubles the cost
# of the whole alternation when it runs on every payload.
RESCHEDULE_PHRASE = "Rescheduling delivery for later"
PAYLOAD_COMMON = _grammar(
    "ims-payload", pp.MatchFirst([_CONNECT_IN, _CONNECT_OUT, _REPLY, _AUTH_BLOB, _COMMAND])
)

# --- verification ------------------------------------------------------------------
# Any one of: the IMS stamp with its " : " separator, a connection notice, an arrow,
# a raw IO line, the rescheduling summary.
_SNIFF = re.compile(
    r"^[ \t]*\"?(?:[0-9]{1,4}[/.\-] ?[0-9]{1,2}[/.\-] ?[0-9]{1,4}[ \t]+[0-9]{1,2}:[0-9]{2}"
    r"(?::[0-9]{2})?(?: ?[AaPp]\.?[Mm]\.?)?[ \t]+: "
    r"|A connection (?:was accepted from|to .* was established)"
    r"|(?:<<<|>>>) |IO: ?\|)"
    r"|Rescheduling delivery for later",
    re.MULTILINE,
)


def looks_like(sample: str) -> bool:
    """Cheap check on the start of a file: is this an IMS protocol log?

    Two telltale payloads among the sampled lines (one is enough for a short file),
    so that a stray ``>>>`` in some other text does not claim it.
    """
    hits = 0
    for _ in _SNIFF.finditer(sample, 0, 64 * 1024):
        hits += 1
        if hits == 2:
            return True
    return hits == 1 and sample.count("\n", 0, 4096) <= 3
