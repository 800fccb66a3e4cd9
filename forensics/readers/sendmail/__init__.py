"""Sendmail syslog -> the ``events`` frame, so that sessions and recipients come out
of sessions.build as they do for Postfix and the IMS (DESIGN principle 4).

Sendmail logs no SMTP dialogue and, at its default LogLevel 9, not even a
connection's start or end: it logs one sender record per message received
(``from=``, with the client in ``relay=``), one delivery record per attempt
(``to=``, with ``mailer=``, ``relay=``, ``dsn=``, ``stat=``), each policy refusal
(``ruleset=check_rcpt ... reject=550 5.7.1 ... Relaying denied``), logins
(``AUTH=server``) and a few lines about clients that misbehaved. The events are
rebuilt from those facts, each citing the line that shows it (docs/formats/sendmail.md):

- an inbound session is one Sendmail process (Sendmail forks one per connection)
  from its first line to its last, a new one after an hour's silence (process ids
  come round again); its connect names the client of the first of its lines that
  names one, so no session whose lines name a client is left without it;
- a refusal is the command its rule set screens (check_relay: the connection,
  check_mail: MAIL, check_rcpt: RCPT) with the reply from ``reject=``;
- a message received is MAIL with the sender, one accepted RCPT per recipient its
  delivery records name, with the reply ``queued; delivered by <mailer> mailer=
  <mailer>`` (``mailer=local``: delivered on this server, which proves the domain
  local) and DATA;
- a delivery record naming a host is an outbound session: MAIL, the RCPT of each
  recipient and the reply its ``stat=`` and ``dsn=`` give, DATA when sent.

The syslog reader (:mod:`forensics.readers.syslog`) reads the files and hands
Sendmail's lines (the programs sendmail, sm-mta, sm-msp-queue and
sm-acceptingconnections) to :data:`MTA`, in reading order. The jobs are modules:
:mod:`.fields` (what every step uses), :mod:`.inbound`, :mod:`.messages` and
:mod:`.outbound` (the steps), :mod:`.events` (gathering them), :mod:`.service` (the
daemon's starts) and :mod:`.reader` (the :class:`~forensics.readers.mta.Mta`).
"""

from __future__ import annotations

from forensics.readers.sendmail.reader import MTA

__all__ = ["MTA"]
