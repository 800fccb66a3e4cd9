"""Small named terminals shared by every grammar.

Each terminal is a pyparsing ``Regex`` whose pattern stays inside the syntax common
to Python's ``re`` and Rust's ``regex`` (no look-around, no back-references), so the
regex twin derived by :mod:`grammars.twin` runs unchanged in polars. Terminals are
unnamed; a grammar names them where it uses them, because one grammar may use a
terminal twice. The exceptions are the compound timestamp tokens, whose parts carry
fixed names (``d1 d2 d3`` for the date, ``hh mi ss ampm`` for the time) because a
line has at most one timestamp.
"""

from __future__ import annotations

import pyparsing as pp

__all__ = [
    "ADDRESS",
    "ANY_TEXT",
    "BASE64_BLOB",
    "BLANK",
    "ENHANCED_STATUS",
    "IPV4",
    "IPV6",
    "OPT_SPACE",
    "REPLY_CODE",
    "SMTP_VERBS",
    "SPACE",
    "US_DATE",
    "US_TIME",
    "VERB",
    "iso_stamp",
    "stamp",
]

# --- spacing ---------------------------------------------------------------------
# The blanks both regex engines agree on (their \s differ on \x1c-\x1f): for
# character classes, as in f"[^<>{BLANK}]".
BLANK = " \\t\\r\\n\\x0b\\x0c"
SPACE = pp.Regex(r"[ \t]+")
OPT_SPACE = pp.Regex(r"[ \t]*")
ANY_TEXT = pp.Regex(r".*")

# --- time ------------------------------------------------------------------------
# The date as written by the server's short locale format: M/D/YY in the US, but the
# order is a setting, so the parts stay neutral (d1/d2/d3) and the reader maps them.
# Day and month may be space-padded ("12/ 2/1997", Dr. Watson) and the separator may
# be '/', '.' or '-'.
US_DATE = (
    pp.Regex(r"[0-9]{1,4}")("d1")
    + pp.Regex(r"[/.\-] ?")
    + pp.Regex(r"[0-9]{1,2}")("d2")
    + pp.Regex(r"[/.\-] ?")
    + pp.Regex(r"[0-9]{1,4}")("d3")
)
# h:mm[:ss] with an optional AM/PM marker; 24-hour clocks simply have no marker.
US_TIME = (
    pp.Regex(r"[0-9]{1,2}")("hh")
    + pp.Literal(":")
    + pp.Regex(r"[0-9]{2}")("mi")
    + pp.Opt(pp.Literal(":") + pp.Regex(r"[0-9]{2}")("ss"))
    + pp.Opt(pp.Regex(r" ?") + pp.Regex(r"(?i:[ap]\.?m\.?)")("ampm"))
)


def iso_stamp(prefix: str = "") -> pp.ParserElement:
    """``2021-01-28T06:40:37[.fraction][Z|+01:00]`` (ISO 8601 / RFC 3339), its parts
    named ``<prefix>y mo d hh mi ss``; the fraction and the zone are not kept (times
    stay as the log wrote them)."""

    def part(digits: int, name: str) -> pp.ParserElement:
        return pp.Regex(f"[0-9]{{{digits}}}")(prefix + name)

    return (
        part(4, "y")
        + pp.Literal("-")
        + part(2, "mo")
        + pp.Literal("-")
        + part(2, "d")
        + pp.Literal("T")
        + part(2, "hh")
        + pp.Literal(":")
        + part(2, "mi")
        + pp.Literal(":")
        + part(2, "ss")
        + pp.Regex(r"(?:\.[0-9]{1,9})?(?:Z|[+\-][0-9]{2}:?[0-9]{2})?")
    )


def stamp() -> pp.ParserElement:
    """``<date> <time>``, the way Windows-era servers start a log line."""
    return US_DATE + SPACE + US_TIME


# --- SMTP ------------------------------------------------------------------------
REPLY_CODE = pp.Regex(r"[0-9]{3}")
# RFC 3463 enhanced status code: class.subject.detail.
ENHANCED_STATUS = pp.Regex(r"[245]\.[0-9]{1,3}\.[0-9]{1,3}")
VERB = pp.Regex(r"[A-Za-z][A-Za-z0-9_\-]*")
# The verbs a client may send; used to tell a command from free text where a log
# line carries no direction arrow.
SMTP_VERBS = (
    "HELO",
    "EHLO",
    "MAIL",
    "RCPT",
    "DATA",
    "BDAT",
    "QUIT",
    "RSET",
    "NOOP",
    "VRFY",
    "EXPN",
    "HELP",
    "TURN",
    "ETRN",
    "ATRN",
    "AUTH",
    "STARTTLS",
    "XEXCH50",
    "X-EXPS",
    "X-LINK2STATE",
    "XSHADOW",
    "SEND",
    "SOML",
    "SAML",
)
# A bare base64 token of some length: an AUTH exchange's continuation. Credentials:
# readers mask it, never keep it.
BASE64_BLOB = pp.Regex(r"[A-Za-z0-9+/]{16,}={0,2}")
# An address as written in MAIL/RCPT or a log: local@domain, no spaces or brackets.
ADDRESS = pp.Regex(rf"[^<>{BLANK}]*")

_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
IPV4 = pp.Regex(rf"{_OCTET}(?:\.{_OCTET}){{3}}")
IPV6 = pp.Regex(r"(?i:[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}(?::[0-9.]+)?)")
