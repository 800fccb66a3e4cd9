"""Exim's configuration as admins paste it: ``exim -bP`` output (one ``name = value``
line per main option, booleans as ``name`` or ``no_name``, named lists as
``domainlist local_domains = ...``) and the main section of a configuration file
(exim.conf, exim4.conf.template, Debian's update-exim4.conf.conf ``dc_*`` settings).

A line that ends in a backslash continues on the next (Exim's rule); ``#`` starts a
comment line; ``begin <section>`` starts the routers, transports, ACLs ...;
``.include``/``.ifdef`` lines are directives of the file, not settings.
"""

from __future__ import annotations

import re

import pyparsing as pp

from grammars.twin import compile_grammar

__all__ = ["BEGIN", "FLAG", "LIST_KINDS", "OPTIONS", "SETTING", "looks_like"]

LIST_KINDS = ("domainlist", "hostlist", "addresslist", "localpartlist")
_INDENT = pp.Regex(r"[ \t]*")
_NAME = pp.Regex(r"[A-Za-z_][A-Za-z0-9_]*")
_EQUALS = pp.Regex(r"[ \t]*=[ \t]*")
_VALUE = pp.Regex(r".*")
# Two whole alternatives (each to the end of the line), so that pyparsing and the
# regex twin agree on which one a line is.
SETTING = compile_grammar(
    "exim-setting",
    (
        _INDENT
        + pp.Regex("|".join(LIST_KINDS))("kind")
        + pp.Regex(r"[ \t]+")
        + _NAME("name")
        + _EQUALS
        + _VALUE("value")
        + pp.StringEnd()
    )
    | (_INDENT + _NAME("name2") + _EQUALS + _VALUE("value2") + pp.StringEnd()),
)
# A boolean option as -bP prints it (and as the file may set it): name or no_name.
# Every boolean main option's name holds an underscore; a stray word is no option.
FLAG = compile_grammar(
    "exim-flag",
    _INDENT + pp.Regex(r"[a-z][a-z0-9]*_[a-z0-9_]+")("flag") + pp.Regex(r"[ \t]*") + pp.StringEnd(),
)
BEGIN = compile_grammar(
    "exim-begin",
    _INDENT
    + pp.Literal("begin")
    + pp.Regex(r"[ \t]+")
    + pp.Regex(r"[a-z_]+")("section")
    + pp.Regex(r"[ \t]*")
    + pp.StringEnd(),
)

# Main options every Exim knows (the spec's chapter 14); Debian's dc_* settings.
OPTIONS = frozenset(
    {
        "acl_smtp_connect",
        "acl_smtp_data",
        "acl_smtp_helo",
        "acl_smtp_mail",
        "acl_smtp_rcpt",
        "daemon_smtp_ports",
        "exim_group",
        "exim_user",
        "host_lookup",
        "ignore_bounce_errors_after",
        "local_domains",
        "local_interfaces",
        "log_file_path",
        "never_users",
        "primary_hostname",
        "qualify_domain",
        "received_header_text",
        "relay_from_hosts",
        "relay_to_domains",
        "rfc1413_hosts",
        "rfc1413_query_timeout",
        "smtp_accept_max",
        "smtp_banner",
        "spool_directory",
        "timeout_frozen_after",
        "tls_advertise_hosts",
        "trusted_users",
        "dc_eximconfig_configtype",
        "dc_local_interfaces",
        "dc_other_hostnames",
        "dc_relay_domains",
        "dc_relay_nets",
        "dc_smarthost",
    }
)
_LIST = re.compile(r"^[ \t]*(?:domainlist|hostlist)[ \t]+[A-Za-z_][A-Za-z0-9_]*[ \t]*=")
_OPTION = re.compile(r"^[ \t]*([a-z_][a-z0-9_]*)[ \t]*=")


def looks_like(sample: str) -> bool:
    """A domainlist or hostlist definition, or three or more well-known Exim main
    options set, on lines that are not syslog or log records (those start with a time
    or a month, never with an option name)."""
    lines = [s for s in sample.splitlines()[:400] if s.strip() and not s.lstrip().startswith("#")]
    if any(_LIST.match(s) for s in lines):
        return True
    known = {m.group(1) for m in map(_OPTION.match, lines) if m and m.group(1) in OPTIONS}
    return len(known) >= 3
