"""Line numbers in a file of mail: where each message starts (an mbox holds many) and
the line of each recipient's own entry, the evidence a row cites."""

from __future__ import annotations

import re


def split_messages(text: str) -> list[tuple[int, str]]:
    """(first line number, text) of each message: an mbox is cut at its ``From ``
    lines, anything else is one message."""
    if not text.startswith("From "):
        return [(1, text)]
    starts = [0] + [m.start() + 1 for m in re.finditer(r"\n(?=From )", text)]
    out = []
    for a, b in zip(starts, [*starts[1:], len(text)], strict=True):
        first_line = text.count("\n", 0, a) + 1
        chunk = text[a:b]
        out.append((first_line + 1, chunk.split("\n", 1)[1] if "\n" in chunk else ""))
    return out


def line_of(text: str, recipient: str, default: int) -> int:
    """The 1-based line of a recipient's own entry in a message, the evidence to
    cite: its Final-Recipient line, else a line that starts with the address, else
    its first mention after the headers."""
    lower, needle = text.lower(), recipient.lower()
    body_at = max(text.find("\n\n"), 0)
    hits = []
    at = lower.find(needle, body_at)
    while at >= 0:
        hits.append(at)
        at = lower.find(needle, at + 1)
    if not hits:
        return default

    def prefix(at: int) -> str:
        return lower[lower.rfind("\n", 0, at) + 1 : at]

    for keep in (
        lambda p: p.startswith(("final-recipient:", "original-recipient:")),
        lambda p: p.strip(" \t'\"<") == "",
        lambda p: True,
    ):
        chosen = next((at for at in hits if keep(prefix(at))), None)
        if chosen is not None:
            return text.count("\n", 0, chosen) + 1
    return default
