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

Every line whose syslog header parses is read (lines of other programs and other
Postfix messages are read and kept out of the sessions); a line whose header does
not parse is unparsed, with its file and line. Rotated files (``mail.log.2.gz``,
``mail.log.1``, ``mail.log``) are read as one stream, oldest first, so a session
or a queue id that crosses a rotation stays whole. Traditional headers have no
year: it comes from the file's modification time (the year of its last line),
rolling back over each New Year, or from ``year`` (the year of the first line).

This package only gathers the names others use; each job is a module of its own:
:mod:`.stream` (the reading order), :mod:`.stamps` (the year and the time stamps),
:mod:`.accounting` (the counts and unparsed lines), :mod:`.fields` and
:mod:`.event_rows` (what every step uses), :mod:`.smtpd`, :mod:`.rejects`,
:mod:`.queue`, :mod:`.accepted` and :mod:`.outbound` (the steps), :mod:`.events`
(gathering them), :mod:`.service` (master's events) and :mod:`.reader` (the
registry's reader).
"""

from __future__ import annotations

from forensics.readers.postfix.outbound import OUTBOUND_AGENTS
from forensics.readers.postfix.reader import READER, read, read_files
from forensics.readers.postfix.stream import stream_order

__all__ = ["OUTBOUND_AGENTS", "READER", "read", "read_files", "stream_order"]
