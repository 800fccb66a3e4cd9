"""Postfix syslog lines (FORMATS.md section 5).

A line is a syslog header (traditional ``Jan 28 06:40:37 host prog[pid]: `` or
RFC 3339 ``2021-01-28T06:40:37.123+00:00 host prog[pid]: ``) and a message. The
messages the sessions need are grammars of their own, each applied to the message
of the lines whose program is that Postfix daemon:

- smtpd: ``connect from host[ip]``, ``disconnect from host[ip] ...``,
  ``QUEUEID: client=host[ip][, sasl_method=M, sasl_username=U]``, and
  ``NOQUEUE: reject: RCPT from host[ip]: 554 5.7.1 <x>: Relay access denied; from=<a>
  to=<x> proto=ESMTP helo=<h>`` (the reply and the trailer are cut apart at the last
  ``; from=<``, see REJECT_TRAILER_SPLIT);
- qmgr: ``QUEUEID: from=<a>, size=N, nrcpt=N (queue active)``;
- master: ``daemon started -- version 3.4.13, configuration /etc/postfix``,
  ``reload -- version ...`` (``postfix reload``: main.cf read again; older releases
  write ``reload configuration /etc/postfix``) and ``terminating on signal 15``;
- smtp, lmtp, local, virtual, pipe, error: ``QUEUEID: to=<x>, [orig_to=<y>, ]relay=R,
  ..., dsn=5.7.1, status=bounced (detail)``, the detail holding the remote reply as
  ``host h[ip] said: 550 ... (in reply to RCPT TO command)``.
"""

from __future__ import annotations

import pyparsing as pp

from grammars import syslog
from grammars import tokens as t
from grammars.twin import compile_grammar

__all__ = [
    "CLIENT",
    "CONNECT",
    "DELIVERY",
    "DISCONNECT",
    "IN_REPLY_SPLIT",
    "LINE",
    "MASTER",
    "QMGR_FROM",
    "REJECT",
    "REJECT_TRAILER",
    "REJECT_TRAILER_SPLIT",
    "SAID",
]

_END = pp.StringEnd()
# The syslog header is grammars.syslog's (every Unix mail server's lines share it).
LINE = syslog.LINE

# --- smtpd ------------------------------------------------------------------------
_QID = pp.Regex(r"[0-9A-Za-z]{5,20}")
_CLIENT_NAME = pp.Regex(r"[^\[\] \t]*")
_CLIENT_ADDR = pp.Regex(r"[^\[\] \t]*")
_PEER = _CLIENT_NAME("name") + pp.Literal("[") + _CLIENT_ADDR("addr") + pp.Literal("]")

CONNECT = compile_grammar("postfix-connect", pp.Literal("connect from ") + _PEER + _END)
DISCONNECT = compile_grammar(
    "postfix-disconnect", pp.Literal("disconnect from ") + _PEER + t.ANY_TEXT + _END
)
CLIENT = compile_grammar(
    "postfix-client",
    _QID("qid")
    + pp.Literal(": client=")
    + _PEER
    + pp.Opt(pp.Regex(r"(?::[0-9]+)?"))
    + pp.Opt(
        pp.Literal(", sasl_method=")
        + pp.Regex(r"[^, \t]*")("sasl_method")
        + pp.Literal(", sasl_username=")
        + pp.Regex(r"[^, \t]*")("sasl_username")
    )
    + t.ANY_TEXT
    + _END,
)
REJECT = compile_grammar(
    "postfix-reject",
    pp.Regex(r"NOQUEUE|[0-9A-Za-z]{5,20}")("qid")
    + pp.Literal(": ")
    # A milter's refusal reads as smtpd's own, with its command (END-OF-MESSAGE too).
    + pp.Opt(pp.Literal("milter-"))
    + pp.Literal("reject: ")
    + pp.Regex(r"[A-Z][A-Z-]*")("cmd")
    + pp.Literal(" from ")
    + _PEER
    + pp.Opt(pp.Literal(":") + pp.Regex(r"[0-9]+")("port"))
    + pp.Literal(": ")
    + t.ANY_TEXT("reply")
    + _END,
)
# The reply ends where Postfix's trailer begins: at the last "; from=<" or "; to=<"
# (VRFY has no sender) (a reply
# text that contains one itself comes from the client and must not end it early).
REJECT_TRAILER_SPLIT = r"^(.*); ((?:from|to)=<.*)$"
_SEP = pp.Regex(r",? ")  # space-separated as Postfix writes it; some tools add commas
REJECT_TRAILER = compile_grammar(
    "postfix-reject-trailer",
    pp.Opt(pp.Literal("from=<") + pp.Regex(r"[^>]*")("from_addr") + pp.Literal(">") + _SEP)
    + pp.Opt(pp.Literal("to=<") + pp.Regex(r"[^>]*")("to_addr") + pp.Literal(">"))
    + pp.Opt(_SEP + pp.Literal("proto=") + pp.Regex(r"[A-Z]+")("proto"))
    + pp.Opt(_SEP + pp.Literal("helo=<") + pp.Regex(r"[^>]*")("helo") + pp.Literal(">"))
    + t.ANY_TEXT
    + _END,
)
# --- master: the service starting, rereading its configuration, stopping -------------
MASTER = compile_grammar(
    "postfix-master",
    pp.Regex(r"daemon started|reload|terminating")("action")
    + pp.Opt(pp.Literal(" -- version ") + pp.Regex(r"[^,]*")("version") + pp.Literal(","))
    + t.ANY_TEXT
    + _END,
)
# --- qmgr and the delivery agents ---------------------------------------------------
QMGR_FROM = compile_grammar(
    "postfix-qmgr-from",
    _QID("qid")
    + pp.Literal(": from=<")
    + pp.Regex(r"[^>]*")("from_addr")
    + pp.Literal(">,")
    + t.ANY_TEXT
    + _END,
)
DELIVERY = compile_grammar(
    "postfix-delivery",
    _QID("qid")
    + pp.Literal(": to=<")
    + pp.Regex(r"[^>]*")("to_addr")
    + pp.Literal(">")
    + pp.Opt(pp.Literal(", orig_to=<") + pp.Regex(r"[^>]*")("orig_to") + pp.Literal(">"))
    + pp.Literal(", relay=")
    + pp.Regex(r"[^,]*")("relay")
    + pp.Opt(pp.Literal(", conn_use=") + pp.Regex(r"[0-9]+"))
    + pp.Literal(", delay=")
    + pp.Regex(r"[0-9.]+")
    + pp.Opt(pp.Literal(", delays=") + pp.Regex(r"[0-9./]+"))
    # Postfix before 2.3 writes no dsn=; "undeliverable-but-not-cached" is a status
    # of address verification.
    + pp.Opt(pp.Literal(", dsn=") + pp.Regex(r"[0-9]\.[0-9]{1,3}\.[0-9]{1,3}")("dsn"))
    + pp.Literal(", status=")
    + pp.Regex(r"[a-z][a-z-]*")("status")
    + pp.Opt(pp.Literal(" (") + t.ANY_TEXT("detail"))
    + _END,
)
# "host mx.b.example[192.0.2.1] said: 550 5.7.1 ... (in reply to RCPT TO command)"
SAID = compile_grammar(
    "postfix-said",
    pp.Literal("host ") + _PEER + pp.Literal(" said: ") + t.ANY_TEXT("said") + _END,
)
# Where the remote reply ends and which command it answered.
IN_REPLY_SPLIT = r"^(.*) \(in reply to (.+) command\)\)?$"

# --- what must be read ---------------------------------------------------------------
# The beginnings of the messages that state an SMTP fact: a client connecting or
# leaving, a refusal (smtpd's, a milter's, cleanup's header and body checks), a queued
# message, a sender, a delivery. A Postfix line that begins so and that the grammar
# of its kind above does not read is reported, never counted as read: a refusal
# must not vanish because its wording is new. Kind -> (a text every such message
# holds, the start of its messages).
FACT_STARTS = {
    "connect": ("connect from ", r"^connect from "),
    "disconnect": ("disconnect from ", r"^disconnect from "),
    "reject": ("reject: ", r"^(?:NOQUEUE|[0-9A-Za-z]{5,20}): (?:milter-)?reject: "),
    "client": (": client=", r"^[0-9A-Za-z]{5,20}: client="),
    "sender": (": from=<", r"^[0-9A-Za-z]{5,20}: from=<"),
    "delivery": (": to=<", r"^[0-9A-Za-z]{5,20}: to=<"),
}
