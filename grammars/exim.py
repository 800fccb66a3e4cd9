"""Exim's log lines (mainlog, rejectlog, paniclog, and the same through syslog).

The syslog reader (grammars/syslog.py) reads every line's header: Exim's own stamp
``2024-01-02 10:11:12[.123] [+0100] [[pid]] `` in its own logs, the syslog header
(``exim[123]: ``) otherwise, and Exim's stamp at the start of a message written
through syslog. These grammars read what follows (docs/formats/exim.md says what
each field means, from Exim's specification, chapter "Log files"):

- PART: the parts of an entry syslog split (``[1/5] ...``), joined before anything;
- LEAD: what may still open a message (Exim's stamp, syslog-ng's ``host exim[pid]:``
  and ``[pid]`` where the header reader left them), then the message id (old
  ``1Glsgv-0002wv-00``, 6-6-2 base 62; new, since 4.97, ``10HmaX-000000005vi-0000``,
  6-11-4), then the rest;
- ARRIVAL: ``<= sender`` (``(=`` a fake reject) with the fields Exim writes after
  it, in the order it writes them: ``R= H= I= U= Ci= P= L X= CV= DN= SNI= A=``;
- DELIVERY: ``=> -> >> *> ** ==`` then the address, its parent ``(p)`` and original
  ``<o>``, ``F=<> P=<> R= T=`` and ``defer (errno)``; the rest (``H=host [ip]``,
  ``C="..."``, the error) is the tail, read by HOST_IN_TAIL, CONFIRMATION and
  REMOTE_ERROR;
- REJECT: the client's fields (``H=name (helo) [ip]:port``, any ``KEY=value`` but
  F=, ``F=<sender>``) then ``[temporarily ]rejected RCPT <x>|MAIL <x>|after DATA|
  connection|EHLO or HELO ...[: why]``; LOCAL_SCAN: ``F= H= ... rejected by
  local_scan(): why``;
- the lines that name a client in their text: CONNECT (``SMTP connection from
  host (TCP/IP connection count = n)``), ENDED (closed by QUIT, lost, timeouts),
  NO_MAIL, DROPPED, PROTOCOL_ERROR, SYNC_ERROR, AUTH_FAILED, VERIFY (sender
  verify fail/defer), WARNING, NO_HOST_NAME, NO_HOST_ADDRESS;
- DAEMON: ``exim 4.96 daemon started`` (a start reads the configuration again);
- KNOWN: what Exim says that is no SMTP fact (Completed, queue runs, Frozen, ...).
"""

from __future__ import annotations

import pyparsing as pp

from grammars import tokens as t
from grammars.twin import compile_grammar

__all__ = [
    "ARRIVAL",
    "AUTH_FAILED",
    "CONFIRMATION",
    "CONNECT",
    "CONNECTION_ID",
    "DAEMON",
    "DELIVERY",
    "DROPPED",
    "ENDED",
    "FOR_SPLIT",
    "HOST_IN_TAIL",
    "HOST_NAMED",
    "KNOWN",
    "LEAD",
    "LOCAL_SCAN",
    "MESSAGE_ID",
    "NO_HOST_ADDRESS",
    "NO_HOST_NAME",
    "NO_MAIL",
    "PART",
    "PROTOCOL_ERROR",
    "REJECT",
    "REJECTED_FROM",
    "REJECTED_HELO",
    "REMOTE_ERROR",
    "REMOTE_ERROR_SPLIT",
    "SYNC_ERROR",
    "VERIFY",
    "VRFY_FAILED",
    "WARNING",
]

_END = pp.StringEnd()
_WORD = r"[^ \t]+"

# --- what opens a message ---------------------------------------------------------
MESSAGE_ID = r"[0-9A-Za-z]{6}-[0-9A-Za-z]{6,11}-[0-9A-Za-z]{2,4}"
_STAMP = pp.Regex(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?(?: [+\-][0-9]{4})?"
)
# Through syslog Exim splits an entry longer than 870 characters, and at each newline
# (the headers under a reject-log entry), into parts marked "[n/m] " ("[n\\m] " where
# it split at a newline); the text of a part follows the mark's space unchanged.
PART = compile_grammar(
    "exim-part",
    pp.Literal("[")
    + pp.Regex(r"[0-9]+")("part")
    + pp.Regex(r"[/\\]")("cut")
    + pp.Regex(r"[0-9]+")("parts")
    + pp.Literal("] ")
    + t.ANY_TEXT("content")
    + _END,
)
LEAD = compile_grammar(
    "exim-lead",
    pp.Opt(_STAMP + pp.Literal(" "))
    # syslog-ng's "host exim[pid]: " after a stamp (fail2ban's samples keep such lines)
    + pp.Opt(pp.Regex(r"(?:[^ \t\[\]:]+ )?exim4?\[(?P<spid>[0-9]+)\]: "))
    + pp.Opt(pp.Literal("[") + pp.Regex(r"[0-9]+")("lpid") + pp.Literal("] "))
    + pp.Opt(pp.Regex(MESSAGE_ID)("qid") + pp.Literal(" "))
    + t.ANY_TEXT("rest")
    + _END,
)


# --- the client: "name (helo) [ip]:port", each part but the address optional --------
def _host(p: str) -> pp.ParserElement:
    """A host as Exim writes the client (``sender_fullhost``): the verified name, the
    HELO name in parentheses, the address in brackets (only it can be relied on)."""
    return (
        pp.Opt(pp.Regex(r"[^ \t()\[\]]+")(p + "name") + pp.Literal(" "))
        + pp.Opt(pp.Literal("(") + pp.Regex(r"[^)]*")(p + "helo") + pp.Literal(") "))
        + pp.Literal("[")
        + pp.Regex(r"[^\] \t]+")(p + "ip")
        + pp.Literal("]")
        + pp.Opt(pp.Literal(":") + pp.Regex(r"[0-9]+")(p + "port"))
    )


# Any "KEY=value" Exim adds about the client (U= I= Ci= X= CV= SNI= DS ...) but F=,
# the sender; a value may be quoted, and never ends in the colon after it.
_FIELD = pp.Regex(
    r'(?:[A-EG-Z][A-Za-z0-9]*|F[A-Za-z0-9]+)=(?:"[^"]*"|[^ \t"]*[^ \t":)])?|DS|TFO\*?'
)
_FIELDS = pp.ZeroOrMore(_FIELD + pp.Literal(" "))
_SENDER = pp.Regex(r"<[^>]*>|[^ \t<>]+")
_CLIENT = (
    pp.Opt(pp.Literal("H=") + _host("") + pp.Literal(" "))
    + _FIELDS
    + pp.Opt(pp.Literal("F=") + _SENDER("sender") + pp.Literal(" "))
    + _FIELDS
)
# The same after the host, each field with its space first ("[ip]:25 I=[..]:25: 535").
_AFTER_HOST = pp.ZeroOrMore(pp.Literal(" ") + _FIELD)

# --- message arrival ----------------------------------------------------------------
ARRIVAL = compile_grammar(
    "exim-arrival",
    pp.Regex(r"<=|\(=")("flag")
    + pp.Literal(" ")
    + pp.Regex(_WORD)("sender")
    + pp.Opt(pp.Literal(" R=") + pp.Regex(_WORD)("ref"))
    + pp.Opt(pp.Literal(" DS"))
    + pp.Opt(pp.Literal(" H=") + _host("") + pp.Opt(pp.Literal(" I=") + pp.Regex(_WORD)("iface")))
    + pp.Opt(pp.Regex(r" TFO\*?"))
    + pp.Opt(pp.Literal(" U=") + pp.Regex(_WORD)("user"))
    + pp.Opt(pp.Literal(" Ci=") + pp.Regex(_WORD)("ci"))
    + pp.Opt(pp.Literal(" P=") + pp.Regex(_WORD)("proto"))
    + pp.Opt(pp.Regex(r" L[*.\-]?"))
    + pp.Opt(pp.Literal(" X=") + pp.Regex(_WORD)("tls"))
    + pp.Opt(pp.Literal(" CV=") + pp.Regex(_WORD))
    + pp.Opt(pp.Literal(" DN=") + pp.Regex(r'"[^"]*"'))
    + pp.Opt(pp.Literal(" SNI=") + pp.Regex(_WORD))
    + pp.Opt(
        pp.Literal(" A=")
        + pp.Regex(r"[^ \t:]+")("authenticator")
        + pp.Opt(pp.Literal(":") + pp.Regex(r"[^ \t:]+")("auth_id"))
        + pp.Opt(pp.Literal(":") + pp.Regex(_WORD))
    )
    + t.ANY_TEXT("more")
    + _END,
)
# The recipients Exim lists after "for" at the end of an arrival (received_recipients):
# after any quoted subject (T="..."), so the list holds no quote.
FOR_SPLIT = r' for ([^"]+)$'

# --- deliveries, failures, deferrals ---------------------------------------------------
DELIVERY = compile_grammar(
    "exim-delivery",
    # OSSEC's excerpts show old deferrals with the flag blank ("id  addr ... defer").
    pp.Regex(r"=>|->|>>|\*>|\*\*|==|")("flag")
    + pp.Literal(" ")
    # (a routing failure puts its colon straight after the address: "** x@y: ...")
    # (">user": a filter's autoreply, logged as a delivery to the one it answers)
    + pp.Regex(r">?[^ \t<>()]*[^ \t<>():]")("addr")
    + pp.Opt(pp.Literal(" (") + pp.Regex(r"[^)]*")("parent") + pp.Literal(")"))
    + pp.Opt(pp.Literal(" <") + pp.Regex(r"[^>]*")("orig") + pp.Literal(">"))
    + pp.Opt(pp.Literal(" F=<") + pp.Regex(r"[^>]*")("from_addr") + pp.Literal(">"))
    + pp.Opt(pp.Literal(" Q=") + pp.Regex(_WORD))
    + pp.Opt(pp.Literal(" P=<") + pp.Regex(r"[^>]*")("return_path") + pp.Literal(">"))
    + pp.Opt(pp.Literal(" R=") + pp.Regex(r"[^ \t:]+")("router"))
    + pp.Opt(pp.Literal(" T=") + pp.Regex(r"[^ \t:]+")("transport"))
    + pp.Opt(pp.Literal(" defer (") + pp.Regex(r"-?[0-9]+")("errno") + pp.Literal(")"))
    + t.ANY_TEXT("tail")
    + _END,
)
# The host a delivery talked to, in its tail: "H=name [ip]:port*" (a local transport
# may name a host without an address: "T=dev_null H=myhost.test.ex").
HOST_IN_TAIL = r"(?:^| )H=([^ \t\[\]]+)(?: DS)? \[([^\] \t]+)\](?::([0-9]+))?"
# Any host a delivery names, with an address or not (a router gave the transport one).
HOST_NAMED = r"(?:^| )H=([^ \t\[\]]+)"
# The remote's confirmation on a delivery: C="250 OK id=..."
CONFIRMATION = r' C="((?:[^"\\]|\\.)*)"'
# Where a remote's refusal is quoted: "SMTP error from remote mail server after ...".
REMOTE_ERROR_SPLIT = r"SMTP error from remote mail(?:er| server) after (.*)$"
REMOTE_ERROR = compile_grammar(
    "exim-remote-error",
    pp.Opt(pp.Literal("pipelined "))
    # "RCPT TO:<x@y>", "MAIL FROM:<x> SIZE=123", "end of data", "initial connection"
    + pp.Regex(r"[A-Za-z][A-Za-z ]*(?::<[^>]*>)?[^:]*")("after")
    + pp.Literal(": ")
    + pp.Opt(
        pp.Literal("host ")
        + pp.Regex(r"[^ \t\[\]]+")("rname")
        + pp.Literal(" [")
        + pp.Regex(r"[^\] \t]+")("rip")
        + pp.Literal("]")
        + pp.Opt(pp.Literal(":") + pp.Regex(r"[0-9]+"))
        + pp.Literal(": ")
    )
    + t.ANY_TEXT("said")
    + _END,
)

# --- refusals ---------------------------------------------------------------------
REJECT = compile_grammar(
    "exim-reject",
    _CLIENT
    + pp.Opt(pp.Literal("temporarily "))("temp")
    + pp.Literal("rejected ")
    + pp.Regex(
        r"RCPT|MAIL|VRFY|EXPN|ETRN|AUTH|STARTTLS|BDAT|DATA|EHLO or HELO|"
        r"after (?:DATA|MAIL|RCPT|BDAT)|connection"
    )("cmd")
    + pp.Opt(pp.Literal(" ") + pp.Regex(r"<[^>]*>|[^ \t<>:]+")("arg"))
    + pp.Opt(pp.Literal(":"))
    + t.OPT_SPACE
    + t.ANY_TEXT("why")
    + _END,
)
# HELO/EHLO refused for its syntax before any H= is known ("rejected EHLO from
# [192.0.2.1]: syntactically invalid argument(s): _").
REJECTED_HELO = compile_grammar(
    "exim-rejected-helo",
    pp.Literal("rejected ")
    + pp.Regex(r"EHLO|HELO")("cmd")
    + pp.Literal(" from ")
    + _host("")
    + _AFTER_HOST
    + pp.Literal(": ")
    + t.ANY_TEXT("why")
    + _END,
)
# A message refused while its data was read ("rejected from <s> H=...: why").
REJECTED_FROM = compile_grammar(
    "exim-rejected-from",
    pp.Literal("rejected from ")
    + _SENDER("sender")
    + pp.Literal(" H=")
    + _host("")
    + _AFTER_HOST
    + pp.Literal(": ")
    + t.ANY_TEXT("why")
    + _END,
)
LOCAL_SCAN = compile_grammar(
    "exim-local-scan",
    pp.Literal("F=")
    + _SENDER("sender")
    + pp.Literal(" H=")
    + _host("")
    + _AFTER_HOST
    + pp.Literal(" ")
    + pp.Opt(pp.Literal("temporarily "))("temp")
    + pp.Literal("rejected by local_scan(): ")
    + t.ANY_TEXT("why")
    + _END,
)

# --- lines that name the client in their text -----------------------------------------
CONNECT = compile_grammar(
    "exim-connect",
    pp.Literal("SMTP connection from ")
    + _host("")
    + _AFTER_HOST
    + pp.Literal(" (TCP/IP connection count = ")
    + pp.Regex(r"[0-9]+")("count")
    + pp.Literal(")")
    + _END,
)
ENDED = compile_grammar(
    "exim-ended",
    pp.Regex(
        r"SMTP connection (?:Ci=[^ \t]+ )?from |SMTP (?:data|command) timeout "
        r"(?:\(message abandoned\) )?on connection from |unexpected disconnection "
        r"while reading SMTP command from |TLS error on connection from |"
        r"Connection from |SMTP connection lost after final dot from "
    )("ended")
    + _host("")
    + _AFTER_HOST
    + pp.Regex(r" (?:closed by |lost|refused|D=|F=|\()|$")
    + t.ANY_TEXT("how")
    + _END,
)
NO_MAIL = compile_grammar(
    "exim-no-mail",
    pp.Regex(r"no MAIL in (?:[A-Z]+ )?SMTP connection from ")
    + _host("")
    + t.ANY_TEXT("rest")
    + _END,
)
DROPPED = compile_grammar(
    "exim-dropped",
    pp.Regex(r"SMTP call from |H=")
    + _host("")
    + _AFTER_HOST
    + pp.Regex(r" dropped(?::| by) ")
    + t.ANY_TEXT("why")
    + _END,
)
# The command is quoted as the client sent it; the client is the last "H=" after it
# (a client can put '" H=' into its command).
PROTOCOL_ERROR = compile_grammar(
    "exim-protocol-error",
    pp.Regex(r'SMTP (?:protocol|syntax) error in "(?P<command>.*)" H=')
    + _host("")
    + t.ANY_TEXT("why")
    + _END,
)
SYNC_ERROR = compile_grammar(
    "exim-sync-error",
    pp.Regex(
        r"SMTP protocol synchronization error \((?P<why>[^)]*)\): rejected "
        r'(?:connection from|"[^"]*") H='
    )
    + _host("")
    + t.ANY_TEXT("rest")
    + _END,
)
AUTH_FAILED = compile_grammar(
    "exim-auth-failed",
    pp.Regex(r"[^ \t]+")("authenticator")
    + pp.Literal(" authenticator failed for ")
    + pp.Opt(pp.Literal("H="))  # 4.9x writes the client as everywhere else
    + _host("")
    + _AFTER_HOST
    + pp.Literal(": ")
    + t.ANY_TEXT("reply")
    + _END,
)
VERIFY = compile_grammar(
    "exim-verify",
    _CLIENT
    + pp.Regex(r"(?:sender|recipient) verify (?:fail|defer)")("verify")
    + pp.Literal(" for ")
    + t.ANY_TEXT("why")
    + _END,
)
WARNING = compile_grammar(
    "exim-warning",
    pp.Literal("H=")
    + _host("")
    + pp.Literal(" ")
    + _FIELDS
    + pp.Literal("Warning: ")
    + t.ANY_TEXT("why")
    + _END,
)
VRFY_FAILED = compile_grammar(
    "exim-vrfy-failed",
    pp.Literal("VRFY failed for ")
    + _SENDER("arg")
    + pp.Literal(" H=")
    + _host("")
    + t.ANY_TEXT("rest")
    + _END,
)
NO_HOST_NAME = compile_grammar(
    "exim-no-host-name",
    pp.Literal("no host name found for IP address ") + pp.Regex(r"[^ \t]+")("ip") + _END,
)
NO_HOST_ADDRESS = compile_grammar(
    "exim-no-host-address",
    pp.Literal("no IP address found for host ")
    + pp.Regex(r"[^ \t]+")("lookup")
    + pp.Literal(" (during SMTP connection from ")
    + _host("")
    + _AFTER_HOST
    + pp.Literal(")")
    + _END,
)

# --- the daemon, and what Exim says that is no SMTP fact ------------------------------
DAEMON = compile_grammar(
    "exim-daemon",
    pp.Literal("exim ")
    + pp.Regex(r"[^ \t]+")("version")
    + pp.Literal(" daemon started")
    + t.ANY_TEXT
    + _END,
)
KNOWN = compile_grammar(
    "exim-known",
    pp.Regex(
        r"Completed|Start queue run|End queue run|Frozen|Unfrozen|Message is frozen|"
        r"retry time not reached|Spool file is locked|spool file locked|"
        r"SMTP connection outbound|cwd=|Warning: |SA: |DKIM: |error ignored|"
        r"Failed to connect to |SMTP error from remote mail|"
        r"no immediate delivery|bind of |recipient verify defer|"
        r"another process is handling this message|"
        r"listen backlog|pid written to|pid [0-9]+: SIGHUP received|removed by |"
        r"original recipients ignored|[^ \t]+: error ignored|TLS session: |"
        r"\[[^\] \t]*\](?::[0-9]+)? SSL verify error|"
        r"cancelled by timeout_frozen_after|moved from input|"
        # what one host of a delivery said, before the delivery's own line
        r"H=[^ \t]+ \[[^\] \t]*\](?::[0-9]+)?(?:: | (?:Connection refused|Connection "
        r"timed out|Network Error|Remote host closed connection|Malformed SMTP reply|SMTP "
        r"error from remote mail))|"
        # SMTP over a local process's standard input (-bs): a login name, no address
        r"(?:SMTP connection|SMTP command timeout on connection|no MAIL in SMTP "
        r"connection) from [A-Za-z][^ \t\[\]()]*(?: |$)"
    )("known")
    + t.ANY_TEXT
    + _END,
)

# The connection id (log_selector +connection_id, Exim 4.97 and later) anywhere in a
# line about a client: " Ci=30416".
CONNECTION_ID = r"(?:^| )Ci=([^ \t:]+)"
