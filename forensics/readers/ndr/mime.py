"""A message's MIME structure taken apart: its texts, its delivery-status parts and
the returned original's headers, parsing no more of the original than those need."""

from __future__ import annotations

import email
import re
from email.message import Message
from typing import cast

_RETURNED = re.compile(r"(?im)^content-type:[ \t]*(?:message/rfc822|text/rfc822-headers)")
# How much of the returned message to keep: its headers, not its attachments.
_RETURNED_KEEP = 16_384


def without_returned_body(text: str) -> str:
    """The message cut some way into the returned original: RFC 3464 puts it last,
    and only its headers matter here, while parsing its attachments costs most of
    the time. Not cut when a delivery-status part follows it (a non-standard order)."""
    found = _RETURNED.search(text)
    if found is None or len(text) - found.end() <= _RETURNED_KEEP:
        return text
    if "delivery-status" in text[found.end() :].lower():
        return text
    return text[: found.end() + _RETURNED_KEEP]


def _text_of(part: Message) -> str:
    try:
        # A part that is not multipart decodes to bytes (or None).
        payload = cast("bytes | None", part.get_payload(decode=True))
    except Exception:  # malformed transfer encoding: take it as it is
        payload = None
    if payload is None:
        raw = part.get_payload()
        return raw if isinstance(raw, str) else ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:  # an unknown charset name
        return payload.decode("utf-8", errors="replace")


def walk_report(msg: Message) -> tuple[list[str], list[Message], Message | None]:
    """(texts, delivery-status parts, the returned original's headers), without
    descending into the returned message itself."""
    texts: list[str] = []
    statuses: list[Message] = []
    original: Message | None = None
    stack = [msg]
    while stack:
        part = stack.pop(0)
        ctype = part.get_content_type()
        if ctype in ("message/delivery-status", "message/global-delivery-status"):
            statuses.append(part)
        elif ctype in ("message/rfc822", "message/global", "text/rfc822-headers"):
            inner = part.get_payload()
            if isinstance(inner, list) and inner:
                # A message/* part's payload is a list of messages.
                original = original or cast(Message, inner[0])
            elif isinstance(inner, str):
                original = original or email.message_from_string(inner)
        elif part.is_multipart():
            payload = part.get_payload()
            if isinstance(payload, list):
                # A multipart's payload is a list of messages.
                stack[0:0] = cast("list[Message]", payload)
        elif part.get_content_maintype() == "text" and ctype != "text/html":
            texts.append(_text_of(part))
    return texts, statuses, original
