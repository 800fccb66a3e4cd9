"""Postfix syslog -> the ``events`` frame, so that sessions and recipients come out of
sessions.build exactly as they do for the IMS (DESIGN principle 4).

Postfix does not log SMTP dialogues; it logs facts about them, and the events are
rebuilt from those facts, each citing the line that shows it:

- an inbound session is one smtpd process from ``connect from`` to ``disconnect``;
  a refused RCPT is its ``reject: RCPT`` line (sender, recipient, HELO and the reply
  are in it); an accepted message is its ``client=`` line, with the sender from the
  queue manager's ``from=`` line and one accepted RCPT per recipient its delivery
  lines name (the SMTP dialogue accepted them, whatever became of them later);
- an outbound session is one smtp/lmtp delivery attempt to a relay: MAIL, RCPT and
  the remote's reply as the ``status=`` detail quotes it (``host h[ip] said: 550 ...
  (in reply to RCPT TO command)``), DATA when it was sent.

The syslog reader (:mod:`forensics.readers.syslog`) reads the files: headers, the
year of yearless stamps, the order of rotated files, the accounting of every line;
it hands Postfix's lines (the programs ``postfix/*``, also ``postfix-<instance>/*``
of multi-instance setups) to :data:`MTA`, in reading order.

This package only gathers the names others use; each job is a module of its own:
:mod:`.fields` and
:mod:`.event_rows` (what every step uses), :mod:`.smtpd`, :mod:`.rejects`,
:mod:`.queue`, :mod:`.accepted` and :mod:`.outbound` (the steps), :mod:`.events`
(gathering them), :mod:`.service` (master's events) and :mod:`.reader` (the
:class:`~forensics.readers.mta.Mta` the syslog reader calls).
"""

from __future__ import annotations

from forensics.readers.postfix.outbound import OUTBOUND_AGENTS
from forensics.readers.postfix.reader import MTA

__all__ = ["MTA", "OUTBOUND_AGENTS"]
