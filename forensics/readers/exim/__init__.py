"""Exim's logs -> the ``events`` frame, so that sessions and recipients come out of
sessions.build as they do for Postfix and the IMS (DESIGN principle 4).

Exim logs no SMTP dialogue. Its main log has one line per message received (``<=``,
with the client in ``H=name (helo) [ip]``, the protocol in ``P=``, the login in
``A=``), one per delivery, failure or deferral (``=> -> ** ==``), one per refusal
(``H=... F=<sender> rejected RCPT <x>: relay not permitted``), and lines about
clients that misbehaved; its reject log repeats the refusals (with the message's
headers under them), and its panic log holds what went badly wrong. The events are
rebuilt from those facts, each citing the line that shows it (docs/formats/exim.md):

- an inbound session is one client connection: the lines of one client address
  (and process id, or connection id, where Exim logs them) until a line that ends
  it, a new ``SMTP connection from``, or five minutes of silence; its connect names
  the client of its first line, so no session is without its address;
- a refusal is the command it answered and Exim's reply, 550 (451 for "temporarily
  rejected"): Exim's log gives the reason, not the code;
- a message received is AUTH when the client logged in (``A=``), MAIL with the
  sender, one accepted RCPT per recipient its lines name (``queued; delivered by
  local transport=<T>`` when a local transport delivered it: the domain is local)
  and DATA; mail submitted on the server itself (no ``H=``) is no inbound session;
- a delivery line that names a host (``H=name [ip]``) is an outbound session: MAIL,
  RCPT and the remote's reply as the line quotes it, DATA when it was sent.

The syslog reader (:mod:`forensics.readers.syslog`) reads the files, Exim's own
stamps as much as syslog headers, and hands Exim's lines (the programs exim and
exim4) to :data:`MTA`, in reading order. The jobs are modules: :mod:`.fields` (what
every step uses), :mod:`.inbound`, :mod:`.messages` and :mod:`.outbound` (the
steps), :mod:`.events` (gathering them), :mod:`.service` (the daemon's starts) and
:mod:`.reader` (the :class:`~forensics.readers.mta.Mta`).
"""

from __future__ import annotations

from forensics.readers.exim.reader import MTA

__all__ = ["MTA"]
