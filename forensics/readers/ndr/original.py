"""What a report tells of the message it returns: its sender, subject and date, and
the id the tracking logs know it by."""

from __future__ import annotations

import re
from email.message import Message

from grammars import ndr as g


def original_fields(
    original: Message | None, texts: list[str]
) -> tuple[str | None, str | None, str | None]:
    """(From, Subject, Date) of the returned message."""
    if original is not None:
        return original.get("From"), original.get("Subject"), original.get("Date")
    # Exchange 5.x: "Your message\n  To: ...\n  Subject: ...\n  Sent: ..."
    for text in texts:
        m = re.search(r"Subject:\s*([^\n]*)\n\s*Sent:\s*([^\n]*)", text)
        if m:
            return None, m.group(1).strip(), m.group(2).strip()
    return None, None, None


def original_id(body: str, original: Message | None, statuses: list[Message]) -> str | None:
    """What the tracking logs call the returned message: its MTS-ID (Exchange
    4.0/5.x), else its Message-ID, else the DSN's Original-Envelope-Id."""
    found = g.scan(g.MTS_ID, body)
    if found:
        # A wrapped id continues after the line break: join the pieces.
        return re.sub(r"\n[ \t]*", "", found[0][0]["mts_id"]).strip() or None
    if original is not None and original.get("Message-ID"):
        return str(original.get("Message-ID")).strip()
    for part in statuses:
        text = part.as_string() if isinstance(part, Message) else str(part)
        envelope = g.scan(g.ENVELOPE_ID, text)
        if envelope:
            return envelope[0][0]["envelope_id"].strip() or None
    return None
