"""Whether a message is a bounce at all, and the failed recipients of a bounce whose
report names them in no form the report readers know (a header, the returned message)."""

from __future__ import annotations

import email.utils
import re
from email.message import Message

from forensics.readers.ndr.reply import REPLY_IN_TEXT
from forensics.readers.ndr.row import Row

_BOUNCE_FROM = re.compile(r"mailer-daemon|postmaster|mail delivery|system administrator", re.I)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|returned mail|delivery (status notification|failure|has failed)|"
    r"mail delivery failed|failure notice|non.?deliver|delivery failed|could not be delivered|"
    r"returned to sender|undelivered",
    re.I,
)


def is_bounce(msg: Message) -> bool:
    report_type = str(msg.get_param("report-type") or "").lower()
    if msg.get_content_type() == "multipart/report" and report_type == "delivery-status":
        return True
    return bool(
        msg.get("X-MS-Embedded-Report") is not None
        or _BOUNCE_FROM.search(str(msg.get("From") or ""))
        or _BOUNCE_SUBJECT.search(str(msg.get("Subject") or ""))
        or str(msg.get("Return-Path") or "").strip() == "<>"
    )


def unnamed_rows(msg: Message, body: str, original: Message | None) -> list[Row]:
    """A bounce's failed recipients from its X-Failed-Recipients header, else the
    returned message's one recipient; none for a message that is not a bounce."""
    if not is_bounce(msg):
        return []
    rows: list[Row] = []
    if msg.get("X-Failed-Recipients"):
        # Exim and Google name the failed addresses in a header of their own.
        failed = re.findall(r"[^\s<>,;]+@[^\s<>,;]+", str(msg.get("X-Failed-Recipients")))
        diagnostic = next((m.group(0) for m in REPLY_IN_TEXT.finditer(body)), None)
        rows = [Row(a, "x-failed-recipients", diagnostic=diagnostic) for a in failed]
    if not rows and original is not None:
        # The report names no recipient ("Delivery report unavailable"): when the
        # returned message had exactly one, that is who it was, and the row says
        # it was inferred.
        named = email.utils.getaddresses(
            [str(v) for v in original.get_all("To", []) + original.get_all("Cc", [])]
        )
        addresses = {a.lower() for _n, a in named if "@" in a}
        if len(addresses) == 1:
            rows = [
                Row(
                    addresses.pop(),
                    "inferred",
                    diagnostic="recipient not named in the report; taken from the returned message",
                )
            ]
    return rows
