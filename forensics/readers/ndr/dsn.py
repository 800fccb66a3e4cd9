"""RFC 3464 delivery status notifications -> failed recipients: the fields of each
``message/delivery-status`` part, or of its text where the MIME around it is broken."""

from __future__ import annotations

import email
import re
from email.message import Message
from typing import cast

from forensics.readers.ndr.row import Row
from grammars import ndr as g
from grammars.twin import to_regex

# The DSN field grammar's regex twin: the same grammar, without pyparsing's per-call
# overhead on values of a few dozen characters.
_DSN_TYPED = re.compile(to_regex(g.DSN_TYPED))


def dsn_rows(statuses: list[Message]) -> tuple[list[Row], str | None]:
    """The recipients not delivered, and the Reporting-MTA."""
    rows: list[Row] = []
    reporting = None
    for part in statuses:
        blocks = part.get_payload()
        if not isinstance(blocks, list):
            continue
        # A delivery-status part's payload is a list of field blocks.
        for block in cast("list[Message]", blocks):
            if block.get("Reporting-MTA"):
                reporting = _typed(block.get("Reporting-MTA"))
            recipient = _recipient_field(block)
            if not recipient:
                continue
            action = (block.get("Action") or "").strip().lower() or None
            if action in ("delivered", "relayed", "expanded"):
                continue
            rows.append(
                Row(
                    recipient=recipient.strip("<>"),
                    generator="dsn",
                    # X.400 gateways put the remote's words in a field of their own.
                    diagnostic=" | ".join(
                        v
                        for v in (
                            _typed(block.get("Diagnostic-Code")),
                            _typed(block.get("X400-Supplementary-Info")),
                        )
                        if v
                    )
                    or None,
                    action=action,
                    dsn_status=(block.get("Status") or "").strip() or None,
                    remote_mta=_typed(block.get("Remote-MTA")),
                )
            )
    return rows, reporting


def dsn_rows_in_text(body: str) -> tuple[list[Row], str | None]:
    """:func:`dsn_rows` of the delivery-status fields that malformed MIME (a boundary
    indented, a part without headers) leaves in the text."""
    blocks = [email.message_from_string(b) for b in re.split(r"\n[ \t]*\n", body)]
    status = Message()
    status.set_payload([b for b in blocks if b.get("Final-Recipient") or b.get("Reporting-MTA")])
    return dsn_rows([status])


def _recipient_field(block: Message) -> str | None:
    """The failed address: Final-Recipient when it is an Internet address, else an
    Internet Original-Recipient (an X.400 gateway writes an O/R address as final)."""
    for name in ("Final-Recipient", "Original-Recipient"):
        raw = block.get(name)
        if raw is None:
            continue
        text = " ".join(str(raw).split())
        found = _DSN_TYPED.match(text)
        kind = (found.group("type") or "rfc822").lower() if found else "rfc822"
        if kind in ("rfc822", "utf-8") and "@" in text:
            return _typed(raw)
    return _typed(block.get("Final-Recipient") or block.get("Original-Recipient"))


def _typed(value: object) -> str | None:
    """The value of a typed DSN field ("rfc822; x@y" -> "x@y")."""
    if value is None:
        return None
    text = " ".join(str(value).split())
    found = _DSN_TYPED.match(text)
    value_text = found.group("value") if found else text
    return (value_text or "").strip() or None
