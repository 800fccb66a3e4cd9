"""Grammars for SMTP protocol text that every log format shares."""

from __future__ import annotations

import pyparsing as pp

from grammars import tokens as t
from grammars.twin import compile_grammar as _grammar

__all__ = ["PATH_ARG", "REPLY"]

_END = pp.StringEnd()

# "FROM:<a@b> SIZE=1460", "To:<c@d> NOTIFY=FAILURE", "FROM: <bob@x>", "FROM:bob@x"
PATH_ARG = _grammar(
    "smtp-path-argument",
    pp.Regex(r"(?i:from|to)")
    + t.OPT_SPACE
    + pp.Literal(":")
    + t.OPT_SPACE
    + pp.Regex(rf"<?(?P<addr>[^<>{t.BLANK}]*)>?")
    + pp.Opt(t.SPACE + t.ANY_TEXT("params"))
    + _END,
)

# A reply as logs write it: the code, then (after a space, or a dash on the lines of
# a multi-line reply) an optional enhanced status and the text.
# "550 5.7.54 SMTP; Unable to relay ...", "250-EX01 Hello [203.0.113.7]", "354 Send data".
REPLY = _grammar(
    "smtp-reply",
    t.REPLY_CODE("code")
    + pp.Opt(
        pp.Regex(r"[ \-]")
        + pp.Opt(t.ENHANCED_STATUS("status") + pp.Regex(r" ?"))
        + t.ANY_TEXT("text")
    )
    + _END,
)
