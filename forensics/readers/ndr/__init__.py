"""Non-delivery reports -> the ``ndrs`` frame: one row per failed recipient.

Files hold one message (``.eml``, a pasted ``.txt``) or many (mbox). The standard
library's ``email`` package takes the MIME structure apart; the grammars in
:mod:`grammars.ndr` read the report texts. Each report form is recognised by its
own wording, in this order, and the first that yields recipients is used:

* RFC 3464 delivery status notifications (``message/delivery-status`` parts):
  Postfix, Sendmail, Exchange 2000+, Office 365 and most modern servers;
* Exchange 4.0/5.x reports, as the IMS writes them and as Outlook renders them;
* Exchange 2007+ text (``Diagnostic information for administrators:``);
* Exim, qmail and Sendmail texts when there is no DSN part.

Messages that are not bounces (ordinary mail, auto-replies, read receipts) give no
rows; a bounce whose recipients cannot be found is counted as unparsed.

This package only gathers the names others use; each job is a module of its own:
:mod:`.mbox` (messages and lines in a file), :mod:`.mime` (the MIME parts),
:mod:`.dsn`, :mod:`.exchange` and :mod:`.plain` (the report forms), :mod:`.bounce`
(bounces naming no one in a known form), :mod:`.reply` (the remote's reply),
:mod:`.original` (the returned message), :mod:`.message` (one message's rows),
:mod:`.files` and :mod:`.parallel` (reading in one process or two), :mod:`.frame`
(the frames) and :mod:`.reader` (the registry's reader).
"""

from __future__ import annotations

from forensics.readers.ndr.mbox import split_messages
from forensics.readers.ndr.message import read_message
from forensics.readers.ndr.parallel import PARALLEL_MIN_CHARS
from forensics.readers.ndr.reader import READER, NdrResult, read, read_files

__all__ = [
    "PARALLEL_MIN_CHARS",
    "READER",
    "NdrResult",
    "read",
    "read_files",
    "read_message",
    "split_messages",
]
