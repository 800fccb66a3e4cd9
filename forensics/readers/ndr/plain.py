"""Plain-text bounces (no DSN part) -> failed recipients: each MTA's wording, from
DragonFly, Domino, Notes and Mimecast to qmail, Postfix, Exim and Sendmail."""

from __future__ import annotations

import re

from forensics.readers.ndr.row import Row
from grammars import ndr as g


def plain_rows(text: str) -> list[Row]:
    for marker, grammar, generator in (
        ("DragonFly Mail Agent", g.DRAGONFLY, "dragonfly"),
        ("was not delivered to:", g.DOMINO, "domino"),
        ("Failure Reasons", g.NOTES, "notes"),
        ("The problem appears to be", g.MIMECAST, "mimecast"),
    ):
        if marker in text:
            named = [
                Row(f["recipient"], generator, diagnostic=" ".join(f["diagnostic"].split()))
                for f, _s, _e in g.scan(grammar, text)
            ]
            if named:
                return named
    if "qmail-send program" in text or "unable to deliver your message to the following" in text:
        return [
            Row(f["recipient"], "qmail", diagnostic=" ".join(f["diagnostic"].split()))
            for f, _s, _e in g.scan(g.QMAIL_BLOCK, text)
        ]
    # "This is the Postfix program", "... the Postfix on SuSE Linux 6.4 (i386) program",
    # "This is the mail system at host ...": vendors name their builds.
    if re.search(r"This is the (?:Postfix\b[^\n]*? program|mail system) at host", text):
        return [
            Row(f["recipient"], "postfix", diagnostic=" ".join(f["diagnostic"].split()))
            for f, _s, _e in g.scan(g.POSTFIX_RECIPIENT, text)
        ]
    exim = re.search(
        r"following address(?:es|\(es\))? failed:"
        r"|address(?:es)? to which the message has not yet been delivered (?:is|are):",
        text,
    )
    if exim:
        body = text[exim.end() :].split("------ This is a copy", 1)[0]
        return [
            Row(f["recipient"], "exim", diagnostic=" ".join(f.get("diagnostic", "").split()))
            for f, _s, _e in g.scan(g.EXIM_BLOCK, body)
        ]
    if "Transcript of session follows" in text:
        transcript = _sendmail_transcript_rows(text)
        if transcript:
            return transcript
    fatal = re.search(r"-----\s*The following addresses had permanent fatal errors\s*-----", text)
    if fatal:
        body = text[fatal.end() :].split("-----", 1)[0]
        return [
            Row(f["recipient"], "sendmail", diagnostic=f.get("diagnostic", "").strip() or None)
            for f, _s, _e in g.scan(g.SENDMAIL_RECIPIENT, body)
        ]
    return []


def _sendmail_transcript_rows(text: str) -> list[Row]:
    """The recipients a Sendmail session transcript shows refused, once each."""
    body = text.split("Transcript of session follows", 1)[1].split("Unsent message follows", 1)[0]
    found = g.scan(g.SENDMAIL_RCPT_EXCHANGE, body) + g.scan(g.SENDMAIL_TRANSCRIPT, body)
    remote = [(m.start(), m.group(1)) for m in re.finditer(r"(?m)^<<< ([^\n]*)", body)]
    rows: dict[str, Row] = {}
    for f, start, _e in sorted(found, key=lambda x: x[1]):
        # "554 <x>... Remote protocol error" says only that the remote refused;
        # its own reply is the "<<<" line above (after MAIL FROM, say).
        said = [reply for at, reply in remote if at < start]
        diagnostic = f["diagnostic"]
        if said and said[-1] not in diagnostic:
            diagnostic = f"{said[-1]} ({diagnostic.strip()})"
        rows.setdefault(
            f["recipient"].lower(), Row(f["recipient"], "sendmail", diagnostic=diagnostic)
        )
    return list(rows.values())
