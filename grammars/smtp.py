"""Grammars for SMTP protocol text that every log format shares."""

from __future__ import annotations

import pyparsing as pp

from grammars import tokens as t
from grammars.twin import compile_grammar as _grammar

__all__ = ["PATH_ARG"]

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
