"""A plain SMTP test session an admin saved from telnet (the steps to reproduce of
Q243045, the port-25 test of Q153119): the commands typed and the server's replies,
one per line, with no times and no arrows. Other lines are the terminal's own
(``Trying 192.0.2.25...``, ``Connected to ...``, ``Escape character is '^]'.``).
"""

from __future__ import annotations

import re

import pyparsing as pp

from grammars import tokens as t
from grammars.twin import compile_grammar

__all__ = ["LINE", "looks_like"]

_END = pp.StringEnd()
_VERB = pp.Regex("(?i:" + "|".join(re.escape(v) for v in t.SMTP_VERBS) + ")")
_COMMAND = _VERB("verb") + pp.Opt(pp.Regex(r"[ \t:]") + t.ANY_TEXT("arg"))
_REPLY = t.REPLY_CODE("code") + pp.Opt(pp.Regex(r"[ \-]") + t.ANY_TEXT("reply_text"))
# A reply first: "250 OK" never reads as a command, while a command never starts
# with three digits.
LINE = compile_grammar(
    "transcript-line",
    t.OPT_SPACE + (_REPLY | _COMMAND) + _END,
)

_GREETING = re.compile(r"^220[ \-]", re.MULTILINE)
_HELLO = re.compile(r"^[ \t]*(?:HELO|EHLO)\b", re.MULTILINE | re.IGNORECASE)
_STAMPED = re.compile(r"^[0-9]{1,4}[/\-.][0-9]{1,2}[/\-.][0-9]{1,4}[ T]", re.MULTILINE)


def looks_like(sample: str) -> bool:
    """A greeting, a HELO or EHLO typed, and no time stamps (a log has them)."""
    return bool(_GREETING.search(sample) and _HELLO.search(sample) and not _STAMPED.search(sample))
