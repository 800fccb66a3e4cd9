"""The remote server's own reply (code, enhanced status, text) in a failed
recipient's diagnostic, where the report quotes one."""

from __future__ import annotations

import re

from forensics.readers.ndr.row import Row

# A refusal quoted in free text: the first 4xx/5xx reply code, its enhanced status.
REPLY_IN_TEXT = re.compile(
    r"(?:^|[\s:(#'\"])([45][0-9]{2})[ \-]((?:[45]\.[0-9]{1,3}\.[0-9]{1,3})?)\s*([^\n]*)"
)


def remote_reply(row: Row) -> tuple[int | None, str | None, str | None]:
    """(code, enhanced status, text) of the remote server's reply, where known."""
    number = row.msexch.get("number")
    if number and number.isdigit() and int(number) >= 3000:
        # When the remote refused, Exchange writes 3000 + its reply code and then the
        # reply itself ("3550 (000B09AA) 550 Relaying mail to ..."). Other numbers
        # are Exchange's own ("3902 (000B099C) Host Unknown"): no remote reply.
        text = row.msexch.get("text") or ""
        m = REPLY_IN_TEXT.match(" " + text)
        if m and int(m.group(1)) == int(number) - 3000:
            return int(m.group(1)), m.group(2) or None, m.group(3).strip() or None
        return None, None, None
    if row.diagnostic and not row.msexch:
        m = REPLY_IN_TEXT.search(" " + row.diagnostic)
        if m:
            return int(m.group(1)), m.group(2) or row.dsn_status, m.group(3).strip() or None
    return None, row.dsn_status, None
