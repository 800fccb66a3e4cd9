"""Postfix configuration as admins paste it: ``postconf -n`` output or main.cf.

Both are ``name = value`` lines. main.cf also has ``#`` comments, blank lines and
values continued on lines that start with white space (Postfix's own rule: such a
line belongs to the parameter above it).
"""

from __future__ import annotations

import re

import pyparsing as pp

from grammars.twin import compile_grammar

__all__ = ["LINE", "PARAMETERS", "looks_like"]

_NAME = pp.Regex(r"[A-Za-z][A-Za-z0-9_.\-]*")
_VALUE = pp.Regex(r".*")
LINE = compile_grammar(
    "postconf-line",
    _NAME("name") + pp.Regex(r"[ \t]*=[ \t]*") + _VALUE("value") + pp.StringEnd(),
)

# Parameters every Postfix knows; a file that sets some of them is its configuration.
PARAMETERS = frozenset(
    {
        "alias_maps",
        "command_directory",
        "daemon_directory",
        "inet_interfaces",
        "mail_owner",
        "mydestination",
        "mydomain",
        "myhostname",
        "mynetworks",
        "mynetworks_style",
        "queue_directory",
        "relay_domains",
        "relayhost",
        "smtpd_recipient_restrictions",
        "smtpd_relay_restrictions",
        "virtual_alias_domains",
        "virtual_mailbox_domains",
    }
)
_SETTING = re.compile(r"^([a-z][a-z0-9_]*)[ \t]*=", re.MULTILINE)


def looks_like(sample: str) -> bool:
    """Three or more well-known Postfix parameters set, and most setting-shaped
    lines of the head are settings (a log that quotes one is not a configuration)."""
    lines = [s for s in sample.splitlines()[:200] if s.strip() and not s.lstrip().startswith("#")]
    names = [m.group(1) for m in map(_SETTING.match, lines) if m]
    known = {n for n in names if n in PARAMETERS}
    return len(known) >= 3 and len(names) * 2 >= len(lines)
