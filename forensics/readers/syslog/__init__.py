"""Syslog files and Exim's own logs -> each mail server's events, every line counted.

A syslog file mixes programs: Postfix's daemons, Sendmail, Exim, and those that are
not mail transfer (dovecot, amavis, opendkim, cron). This reader reads the lines'
headers once, whatever their shape (traditional, RFC 3339, RFC 5424, rsyslog's
``<pri>`` forwarding, bare ``prog[pid]:`` lines, Exim's own stamps), their times
once, and hands each mail server's lines to its reader
(:class:`~forensics.readers.mta.Mta`). Rotated files (``mail.log.2.gz``,
``mail.log.1``, ``mail.log``) are read as one stream, oldest first, so a session
or a queue id that crosses a rotation stays whole. Traditional headers have no
year: it comes from the file's modification time (the year of its last line),
rolling back over each New Year, or from ``year`` (the year of the first line).

Modules: :mod:`.stream` (the reading order), :mod:`.headers` (the header's fields),
:mod:`.stamps` (the year and the time stamps), :mod:`.accounting` (the counts, the
programs and the unparsed lines), :mod:`.reader` (the registry's reader).
"""

from __future__ import annotations

from forensics.readers.syslog.reader import MTAS, READER, read, read_files
from forensics.readers.syslog.stream import stream_order

__all__ = ["MTAS", "READER", "read", "read_files", "stream_order"]
