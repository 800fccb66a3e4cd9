"""What a Unix mail server's reader is to the syslog reader: the lines of its programs
in, SMTP events out.

A syslog file mixes programs (Postfix's daemons, Sendmail, Exim, dovecot, amavis,
cron ...). The syslog reader (:mod:`forensics.readers.syslog`) splits every line into
its header's fields once, and hands each mail server's lines to that server's
:class:`Mta`; Exim's own mainlog, rejectlog and paniclog come the same way, their
stamps read by the same reader. So a server's reader never sees a raw line, a
header, a year or a file order: only its own messages, in reading order.

The rows an :class:`Mta` is given (one per line, in reading order):

========  ========  ==============================================================
column    type      what
========  ========  ==============================================================
fid       UInt32    the file's number in reading order
source    String    the file, as the inputs table names it
line      UInt32    the line's number in its file (1-based)
_g        UInt32    the line's number in the whole stream (orders lines across
                    rotated files; unique, so it can stand for the line)
ts        Datetime  the line's time
_fam      String    the log family of its file (``mail.log`` for ``mail.log.2.gz``)
host      String    the syslog host (null in Exim's own logs)
prog      String    the program as written (``postfix/smtpd``, ``sm-mta``, ``exim``)
pid       String    the process id, where written
daemon    String    the last part of ``prog`` (``smtpd``)
msg       String    the message: the rest of the line after the header
========  ========  ==============================================================

It returns an :class:`MtaResult`: the events (:data:`forensics.core.frames.EVENTS`,
plus nothing else), the service's own starts and stops where its lines show them,
and the lines it did not understand, each with the reason (a line of a known
server that no grammar took is reported, never silently counted as read).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from forensics.core.lineparse import Engine

# The columns of the rows every Mta is given (see the module's table).
ROW_COLUMNS = ("fid", "source", "line", "_g", "ts", "_fam", "host", "prog", "pid", "daemon", "msg")

UNKNOWN = pl.Schema({"_g": pl.UInt32, "reason": pl.String})


@dataclass
class MtaResult:
    events: pl.DataFrame
    service_events: pl.DataFrame | None = None
    # ``_g`` and ``reason`` of each line read as this server's that no grammar took.
    unknown: pl.DataFrame | None = None


@dataclass(frozen=True)
class Mta:
    """A mail server whose lines come through syslog (or its own log, read alike)."""

    name: str  # the key of knowledge/syslog.toml [mta] and of servers.toml [name]
    read: Callable[[pl.DataFrame, Engine], MtaResult]


def unknown_rows(rows: pl.DataFrame, reason: str) -> pl.DataFrame:
    """``rows`` as lines of this server not understood, with why."""
    return rows.select(pl.col("_g").cast(pl.UInt32), pl.lit(reason, pl.String).alias("reason"))
