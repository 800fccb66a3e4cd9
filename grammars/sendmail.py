"""Sendmail's syslog messages (docs/formats/sendmail.md).

The syslog header is grammars.syslog's; these grammars read the message after it,
for the programs ``sendmail``, ``sm-mta``, ``sm-msp-queue`` and
``sm-acceptingconnections``. Most messages open with the queue id
(``k79IaGJL011761: ``); Solaris writes a message tag before it (``[ID 801593
mail.info] ``). Most are ``name=value`` pairs separated by ``, `` in a fixed order:

- the sender record, once per message received: ``from=<a>, size=N, class=N,
  [pri=N, ]nrcpts=N, [msgid=<m>, ][bodytype=B, ][proto=ESMTP, ][daemon=MTA, ]
  relay=host [ip]`` (``relay=user@localhost`` for mail submitted on the command line);
- the delivery record, once per attempt: ``to=<x>[,<y>...], [ctladdr=c (uid/gid), ]
  delay=D, [xdelay=D, ][mailer=M, ][pri=N, ][relay=host. [ip], ][dsn=X.Y.Z, ]
  stat=Sent (reply)`` (also ``Deferred: ...``, ``User unknown``, ``Service
  unavailable``, ``queued``);
- a policy refusal: ``ruleset=check_rcpt, arg1=<x>, relay=host [ip], reject=550
  5.7.1 <x>... Relaying denied`` (check_mail, check_relay with ``arg2=ip`` too);
- ``AUTH=server, relay=..., authid=U, mech=M, bits=N`` (an authenticated client),
  ``AUTH failure (MECH): ..., user=U, relay=...``;
- the client named as ``host [ip]`` (``[ip]`` when it has no name, ``(may be
  forged)`` after it when the name does not resolve back): ``possible SMTP attack``,
  ``did not issue MAIL/EXPN/VRFY/ETRN``, ``lost input channel``, ``rejecting
  commands ... pre-greeting traffic``, ``EXPN root [rejected]``;
- ``<x>... User unknown`` (a recipient refused or failed), ``QID: NEWQID: DSN:
  reason`` (a delivery status notification generated), milter refusals;
- the daemon starting, restarting (SIGHUP: sendmail.cf read again) and stopping.
"""

from __future__ import annotations

import pyparsing as pp

from grammars import tokens as t
from grammars.twin import compile_grammar

__all__ = [
    "ATTACK",
    "AUTH_FAILURE",
    "AUTH_RELAY_SPLIT",
    "AUTH_SERVER",
    "DAEMON",
    "DSN",
    "EXPN_VRFY",
    "FROM",
    "KNOWN",
    "LOST",
    "MILTER",
    "NO_MAIL",
    "PREGREET",
    "RCPT_TEXT",
    "REJECT",
    "RELAY",
    "STAT_REPLY",
    "TIMEOUT",
    "TO",
]

_END = pp.StringEnd()
# Solaris's message tag, then the queue id (NOQUEUE where there is none yet).
_TAG = pp.Opt(pp.Regex(r"\[ID [0-9]+ [a-z0-9]+\.[a-z]+\] "))
_QID = pp.Regex(r"NOQUEUE|[0-9A-Za-z]{8,20}")
_HEAD = _TAG + pp.Opt(_QID("qid") + pp.Literal(": "))
_FIELD = pp.Regex(r"[^,]*")  # a value up to the next ", "
_ADDR = pp.Regex(r"<[^>]*>|[^ ,]*")
# The client as Sendmail names it in free text: "host [ip]", " [ip]", "[ip]", with
# "(may be forged)" when its name does not resolve back to its address.
_CLIENT = pp.Regex(r"[^\[\]]*\[[^\]]*\](?: \(may be forged\))?")


def _field(name: str, group: str | None = None) -> pp.ParserElement:
    value = _FIELD(group) if group else _FIELD
    return pp.Literal(f", {name}=") + value


# --- a relay= value -> the client's name and address -------------------------------
RELAY = compile_grammar(
    "sendmail-relay",
    pp.Regex(r"[^\[\] ]*")("rname")
    + pp.Regex(r" *")
    + pp.Literal("[")
    + pp.Opt(pp.Literal("IPv6:"))
    + pp.Regex(r"[^\]]*")("raddr")
    + pp.Literal("]")
    + t.ANY_TEXT
    + _END,
)

# --- the sender record ---------------------------------------------------------------
FROM = compile_grammar(
    "sendmail-from",
    _HEAD
    + pp.Literal("from=")
    + _ADDR("from_addr")
    + pp.Literal(", size=")
    + pp.Regex(r"[0-9]+")
    + pp.Opt(_field("class"))
    + pp.Opt(_field("pri"))
    + pp.Opt(pp.Literal(", nrcpts=") + pp.Regex(r"[0-9]+")("nrcpts"))
    + pp.Opt(_field("msgid"))
    + pp.Opt(_field("bodytype"))
    + pp.Opt(_field("proto", "proto"))
    + pp.Opt(_field("daemon", "daemon_name"))
    + pp.Opt(pp.Literal(", relay=") + t.ANY_TEXT("relay"))
    + _END,
)

# --- the delivery record -------------------------------------------------------------
TO = compile_grammar(
    "sendmail-to",
    _HEAD
    + pp.Literal("to=")
    + pp.Regex(r"[^ ]*[^ ,]")("to_list")
    + pp.Opt(_field("ctladdr"))
    + _field("delay")
    + pp.Opt(_field("xdelay"))
    + pp.Opt(_field("mailer", "mailer"))
    + pp.Opt(_field("pri"))
    + pp.Opt(_field("relay", "relay"))
    + pp.Opt(_field("dsn", "dsn"))
    + pp.Literal(", stat=")
    + t.ANY_TEXT("stat")
    + _END,
)
# A stat= that quotes the remote's reply: "Deferred: 451 4.7.1 Try later" (the
# reply is read by grammars.smtp.REPLY), or "Sent (<id> Message accepted ...)".
STAT_REPLY = compile_grammar(
    "sendmail-stat-reply",
    pp.Regex(r"[A-Za-z][A-Za-z ]*[A-Za-z]")("stat_word")
    + pp.Opt(pp.Regex(r": |: ?\(| \(") + pp.Regex(r"[245][0-9][0-9][ -].*")("said"))
    + t.ANY_TEXT
    + _END,
)

# --- policy refusals (the check_* rule sets, the access database) --------------------
REJECT = compile_grammar(
    "sendmail-reject",
    _HEAD
    + pp.Literal("ruleset=")
    + pp.Regex(r"[A-Za-z_0-9]+")("ruleset")
    + _field("arg1", "arg1")
    + pp.Opt(_field("arg2", "arg2"))
    + _field("relay", "relay")
    + pp.Literal(", reject=")
    + t.ANY_TEXT("reply")
    + _END,
)
MILTER = compile_grammar(
    "sendmail-milter",
    _HEAD
    + pp.Literal("Milter: ")
    + pp.Regex(r"data|connect|helo|from=<[^>]*>|to=<[^>]*>")("stage")
    + pp.Literal(", reject=")
    + t.ANY_TEXT("reply")
    + _END,
)

# --- authentication ----------------------------------------------------------------
AUTH_SERVER = compile_grammar(
    "sendmail-auth-server",
    _HEAD
    + pp.Literal("AUTH=server, relay=")
    + _FIELD("relay")
    + _field("authid", "authid")
    + _field("mech", "mech")
    + pp.Literal(", bits=")
    + t.ANY_TEXT
    + _END,
)
AUTH_FAILURE = compile_grammar(
    "sendmail-auth-failure",
    _HEAD
    + pp.Literal("AUTH failure (")
    + pp.Regex(r"[^)]*")("mech")
    + pp.Literal("): ")
    + t.ANY_TEXT("rest")
    + _END,
)
# The client is the last relay= of the line: a user name may hold ", relay=" itself.
AUTH_RELAY_SPLIT = r"^(.*), relay=(.*)$"

# --- the client named in free text -------------------------------------------------
ATTACK = compile_grammar(
    "sendmail-attack",
    _HEAD
    + _CLIENT("client")
    + pp.Literal(": possible SMTP attack: command=")
    + pp.Regex(r"[A-Za-z]+")("command")
    + pp.Literal(", count=")
    + pp.Regex(r"[0-9]+")
    + _END,
)
EXPN_VRFY = compile_grammar(
    "sendmail-expn-vrfy",
    _HEAD
    + _CLIENT("client")
    + pp.Literal(": ")
    + pp.Regex(r"EXPN|VRFY|expn|vrfy")("command")
    + pp.Literal(" ")
    + pp.Regex(r"[^ ]*")("arg")
    + pp.Literal(" [rejected]")
    + _END,
)
NO_MAIL = compile_grammar(
    "sendmail-no-mail",
    _HEAD
    + _CLIENT("client")
    + pp.Literal(" did not issue MAIL/EXPN/VRFY/ETRN during connection to ")
    + t.ANY_TEXT("daemon_name")
    + _END,
)
LOST = compile_grammar(
    "sendmail-lost",
    _HEAD
    + pp.Literal("lost input channel from ")
    + _CLIENT("client")
    + pp.Literal(" to ")
    + t.ANY_TEXT("where")
    + _END,
)
PREGREET = compile_grammar(
    "sendmail-pregreet",
    _HEAD
    + pp.Literal("rejecting commands from ")
    + _CLIENT("client")
    + pp.Literal(" due to pre-greeting traffic")
    + t.ANY_TEXT
    + _END,
)
TIMEOUT = compile_grammar(
    "sendmail-timeout",
    _HEAD
    + pp.Literal("timeout waiting for input from ")
    + _CLIENT("client")
    + pp.Literal(" during ")
    + t.ANY_TEXT("where")
    + _END,
)

# --- a recipient's own line, a generated DSN -----------------------------------------
RCPT_TEXT = compile_grammar(
    "sendmail-rcpt-text",
    _TAG
    + _QID("qid")
    + pp.Literal(": <")
    + pp.Regex(r"[^>]*")("rcpt")
    + pp.Literal(">... ")
    + t.ANY_TEXT("text")
    + _END,
)
DSN = compile_grammar(
    "sendmail-dsn",
    _TAG
    + _QID("qid")
    + pp.Literal(": ")
    + pp.Opt(pp.Regex(r"[0-9A-Za-z]{8,20}")("dsn_qid") + pp.Literal(": "))
    + pp.Literal("DSN: ")
    + t.ANY_TEXT("dsn_text")
    + _END,
)

# --- the daemon ----------------------------------------------------------------------
DAEMON = compile_grammar(
    "sendmail-daemon",
    _TAG
    + pp.Regex(r"starting daemon|restarting|stopping daemon")("action")
    + pp.Opt(pp.Literal(" (") + pp.Regex(r"[^)]*")("version") + pp.Literal(")"))
    + t.ANY_TEXT
    + _END,
)

# --- read, and of no use to the sessions ---------------------------------------------
# TLS negotiated, alias rebuilds, the queue's own bookkeeping, bounces to the sender
# and postmaster, a milter's header edits, a connection that could not be made: each
# line is read (so it is not unparsed) and gives no event.
KNOWN = compile_grammar(
    "sendmail-known",
    _HEAD
    + pp.Regex(
        r"STARTTLS|TLS: |ALERT: |alias database |[^ ]*aliases: [0-9]+ aliases|"
        r"Losing |[^ ]*: savemail panic|savemail panic|SYSERR|done; delay=|clone |"
        r"sender notify: |return to sender: |postmaster notify: |"
        r"Authentication-Warning: |collect: |Saved message in |Milter|milter_|"
        r"makeconnection|error connecting to filter|discarded|"
        r"ruleset=[A-Za-z_0-9]+, arg1=[^,]*, relay=[^,]*, (?:discard|quarantine)|"
        r"NOQUEUE: connect from |connect from |accepting connections again|"
        r"rejecting connections on daemon |runqueue|grew WorkList|"
        r"[A-Za-z0-9]+: to=[^ ]*, delay=[^,]*, stat=|queueing for |headers too large|"
        r"message size \(|cannot open |unable to |timeout |lost input channel "
    )("known")
    + t.ANY_TEXT
    + _END,
)
