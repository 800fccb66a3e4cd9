"""Sendmail's configuration files as admins paste them: /etc/mail/access (text form,
before makemap), /etc/mail/local-host-names and /etc/mail/relay-domains.

access: one entry a line, ``LHS<white space>RHS``; the left side may carry a tag
(``Connect:``, ``From:``, ``To:``, ``Spam:``, ``GreetPause:``, ...), the right side
is the action (``OK``, ``RELAY``, ``REJECT``, ``DISCARD``, ``SKIP``,
``ERROR:...``, ``550 text``, ``QUARANTINE:...``; ``YES``/``NO`` for Try_TLS and
the like). local-host-names and relay-domains: one name (relay-domains: or network
prefix) a line. In all three a line that starts with ``#`` is a comment.

These files have no marker of their own, so recognition is cautious: an access
file is one whose entries are access-shaped and at least one of them carries a
Sendmail tag (an untagged ``pattern action`` list is also Postfix's access(5)
shape); a bare name list only when a line of its head names the file
(``local-host-names``/``relay-domains``: Fedora's own header comment, or the shell
prompt that printed it) and every other line is a name.
"""

from __future__ import annotations

import re

import pyparsing as pp

from grammars.twin import compile_grammar

__all__ = ["ACCESS", "NAME", "TAGS", "TAG_PATTERN", "looks_like"]

# The tags of sendmail.cf's access map (cf/README "access_db", the rulesets' tags).
TAGS = (
    "Connect",
    "From",
    "To",
    "Spam",
    "GreetPause",
    "ClientRate",
    "ClientConn",
    "Try_TLS",
    "TLS_Clt",
    "TLS_Srv",
    "TLS_Rcpt",
    "Srv_Features",
    "Clt_Features",
    "Auth",
    "AuthInfo",
    "Compat",
    "QGRP",
    "MAIL",
    "RCPT",
)
# The tag is read off the left side by the reader (TAG_PATTERN), not by the grammar:
# an optional tag before a free left side is where pyparsing (no backtracking) and
# a regex engine could part ways.
TAG_PATTERN = "^(" + "|".join(TAGS) + "):"
ACCESS = compile_grammar(
    "sendmail-access",
    pp.Regex(r"[^ \t#][^ \t]*")("lhs")
    + pp.Regex(r"[ \t]+")
    + pp.Regex(r"[^ \t](?:.*[^ \t])?")("rhs")
    + pp.Regex(r"[ \t]*")
    + pp.StringEnd(),
)
# A host or domain name, an IPv4 address or prefix (relay-domains), an address
# literal in brackets.
NAME = compile_grammar(
    "sendmail-name",
    pp.Regex(r"[ \t]*")
    + pp.Regex(r"(?:\[[0-9A-Fa-f.:]+\]|[A-Za-z0-9_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_])?\.?)")("name")
    + pp.Regex(r"[ \t]*")
    + pp.StringEnd(),
)

_TAGGED = re.compile(r"^(?:" + "|".join(TAGS) + r"):[^ \t]+[ \t]+[^ \t]")
_ACCESS = re.compile(r"^(?:[A-Za-z_]+:)?[^ \t#][^ \t]*[ \t]+[^ \t]")
_NAME = re.compile(
    r"^[ \t]*(?:\[[0-9A-Fa-f.:]+\]|[A-Za-z0-9_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_])?\.?)[ \t]*$"
)
_NAMED = re.compile(r"(?:^|[/ \t])(?:local-host-names|relay-domains)(?:[ \t:]|$)")
_ACTION = re.compile(r"[ \t](?:OK|RELAY|REJECT|DISCARD|SKIP|ERROR:|QUARANTINE:|[45][0-9][0-9] )")


def looks_like(sample: str) -> bool:
    """An access file (access-shaped entries, one with a Sendmail tag and one with an
    action) or a name list whose head names it (local-host-names, relay-domains)."""
    lines = [s for s in sample.splitlines()[:200] if s.strip()]
    body = [s for s in lines if not s.lstrip().startswith("#")]
    if not body:
        return False
    tagged = [s for s in body if _TAGGED.match(s)]
    shaped = [s for s in body if _ACCESS.match(s)]
    if tagged and any(_ACTION.search(s) for s in tagged) and len(shaped) * 10 >= len(body) * 9:
        return True
    marker = [i for i, s in enumerate(lines) if _NAMED.search(s)]
    if not marker or marker[0] > 3:
        return False
    names = [s for s in body if _NAME.match(s)]
    others = [s for s in body if not _NAME.match(s) and not _NAMED.search(s)]
    return len(names) >= 1 and not others
