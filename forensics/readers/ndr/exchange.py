"""Exchange report texts -> failed recipients: 4.0/5.x reports (as the IMS writes
them and as Outlook renders them) and Exchange 2007+ text."""

from __future__ import annotations

import re

import pyparsing as pp

from forensics.readers.ndr.row import Row
from grammars import ndr as g

_TIME_TAIL = re.compile(r"^[0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?(?: ?[AaPp][Mm])?(?: [+\-][0-9]{4})?$")


def exchange5_rows(text: str) -> list[Row]:
    if not re.search(
        r"did not reach the following recipient|could not be reached|did not receive the attached",
        text,
    ):
        return []
    matches = g.scan(g.IMS_RECIPIENT, text)
    if not matches and "did not receive the attached" in text:
        tail_at = text.index("did not receive the attached")
        matches = [
            (f, start + tail_at, end + tail_at)
            for f, start, end in g.scan(g.IMS_ADMIN_RECIPIENT, text[tail_at:])
        ]
    if not matches:
        return []
    stops = [start for _f, start, _e in matches[1:]] + [len(text)]
    return [
        _exchange5_row(found, _block_after(text, end, stop))
        for (found, _start, end), stop in zip(matches, stops, strict=True)
    ]


def _block_after(text: str, end: int, stop: int) -> list[str]:
    """The lines under a recipient line, up to a blank line or the next recipient."""
    lines: list[str] = []
    for line in text[end:stop].split("\n")[1:]:
        if not line.strip():
            if lines:
                break
            continue
        lines.append(line.strip())
    return lines


def _exchange5_row(found: dict[str, str], block: list[str]) -> Row:
    """One recipient line's row from the lines under it: the reason, and the MSEXCH
    diagnostic or an Exchange 2000 status."""
    diag_at = next((i for i, line in enumerate(block) if line.startswith("MSEXCH:")), None)
    msexch: dict[str, str] = {}
    diagnostic = None
    if diag_at is not None:
        # The diagnostic may wrap onto the next lines, even to column 0.
        diagnostic = " ".join(block[diag_at:])
        try:
            msexch = g.MSEXCH.parse_string(diagnostic, parse_all=True).as_dict()
        except pp.ParseException:
            msexch = {}
    reasons = [
        line
        for line in block[: diag_at if diag_at is not None else len(block)]
        # Not the MTS-ID line, its wrapped tail (";p=..."), nor the wrapped tail
        # of the recipient line's date ("17:12:28 -0400").
        if not line.startswith(("The MTS-ID", ";")) and not _TIME_TAIL.match(line)
    ]
    status = None
    if diag_at is None and reasons:
        found_status = g.scan(g.EXCHANGE2000_STATUS, reasons[-1])
        if found_status:
            status = found_status[0][0]["status"]
            diagnostic = reasons.pop()
    component = msexch.get("component", "IMS").upper()
    return Row(
        recipient=found["recipient"],
        generator="exchange-imc" if component == "IMC" else "exchange-ims",
        reason_text=" ".join(reasons) if reasons else None,
        diagnostic=diagnostic,
        msexch=msexch,
        dsn_status=status,
    )


def exchange2007_rows(text: str) -> list[Row]:
    if "Diagnostic information for administrators" not in text:
        return []
    tail = text.split("Diagnostic information for administrators", 1)[1]
    found = g.scan(g.EXCHANGE2007_RECIPIENT, tail) + g.scan(g.EXCHANGE2007_REMOTE, tail)
    return [
        Row(recipient=f["recipient"], generator="exchange-2007", diagnostic=f["diagnostic"])
        for f, _s, _e in sorted(found, key=lambda x: x[1])
    ]
