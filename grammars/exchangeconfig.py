"""Exchange 2007-2019 configuration as admins paste it from the Exchange Management
Shell: ``Get-AcceptedDomain`` (its default table, ``Name DomainName DomainType
Default``, or ``| fl``), ``Get-ReceiveConnector | fl`` (``Format-List``: one
``Property : value`` line per property, a blank line between objects, long values
wrapped onto lines indented to the value column) and ``Get-ADPermission ... |
ft User,ExtendedRights`` (``NT AUTHORITY\\ANONYMOUS LOGON {ms-Exch-SMTP-...}``).
"""

from __future__ import annotations

import re

import pyparsing as pp

from grammars.twin import compile_grammar

__all__ = ["ACCEPTED_ROW", "DOMAIN_TYPES", "PERMISSION_ROW", "PROPERTY", "looks_like"]

DOMAIN_TYPES = ("Authoritative", "InternalRelay", "ExternalRelay")
# Format-List: the property name at the start of the line, padded to the longest
# name, " : ", the value (empty for a property without one).
PROPERTY = compile_grammar(
    "exchange-property",
    pp.Regex(r"[A-Za-z][A-Za-z0-9_\-]*")("prop")
    + pp.Regex(r"[ \t]*:")
    + pp.Regex(r"[ \t]*")
    + pp.Regex(r".*")("value")
    + pp.StringEnd(),
)
# Get-AcceptedDomain's table: the name (it may hold spaces), the domain, its type and
# whether it is the default; one token, so both engines split it the same way.
ACCEPTED_ROW = compile_grammar(
    "exchange-accepted-domain",
    pp.Regex(
        r"(?P<ad_name>[^ \t](?:.*?[^ \t])?)[ \t]+(?P<ad_domain>[^ \t]+)[ \t]+"
        r"(?P<ad_type>" + "|".join(DOMAIN_TYPES) + r")[ \t]+(?P<ad_default>True|False)[ \t]*"
    )
    + pp.StringEnd(),
)
# Get-ADPermission ... | ft User,ExtendedRights: the account, then the rights in braces.
PERMISSION_ROW = compile_grammar(
    "exchange-adpermission",
    pp.Regex(r"(?P<user>[^ \t{](?:[^{]*[^ \t{])?)[ \t]+\{(?P<rights>[^{}]*)\}[ \t]*")
    + pp.StringEnd(),
)

_TABLE_HEAD = re.compile(r"^Name[ \t]+DomainName[ \t]+DomainType[ \t]+Default[ \t]*$", re.M)
_PROPERTY = re.compile(r"^([A-Za-z][A-Za-z0-9_\-]*)[ \t]*:[ \t]", re.M)
_CONNECTOR = {"RemoteIPRanges", "PermissionGroups", "AuthMechanism", "Bindings"}
_RIGHTS = re.compile(r"\{ms-Exch-[A-Za-z\-]+\}")


def looks_like(sample: str) -> bool:
    """Get-AcceptedDomain's table header; or Format-List output that writes an
    accepted domain (DomainName and DomainType) or a receive connector (two of
    Bindings, RemoteIPRanges, PermissionGroups, AuthMechanism); or ms-Exch-SMTP
    extended rights in braces."""
    head = "\n".join(sample.splitlines()[:400])
    if _TABLE_HEAD.search(head):
        return True
    props = set(_PROPERTY.findall(head))
    if {"DomainName", "DomainType"} <= props or len(props & _CONNECTOR) >= 2:
        return True
    return len(_RIGHTS.findall(head)) >= 2
