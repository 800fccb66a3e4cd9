"""One message -> its rows of the ``ndrs`` frame: each report form is tried in turn
(DSN, Exchange 5.x, Exchange 2007+, plain text, then what a bounce's headers and
returned message tell), and the first that yields recipients is used."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import email.utils
import re
from email.message import Message
from typing import cast

from forensics.readers.ndr.bounce import is_bounce, unnamed_rows
from forensics.readers.ndr.dsn import dsn_rows, dsn_rows_in_text
from forensics.readers.ndr.exchange import exchange5_rows, exchange2007_rows
from forensics.readers.ndr.mime import walk_report, without_returned_body
from forensics.readers.ndr.original import original_fields, original_id
from forensics.readers.ndr.plain import plain_rows
from forensics.readers.ndr.reply import remote_reply
from forensics.readers.ndr.row import Row


def read_message(text: str) -> tuple[list[dict[str, object]], bool]:
    """Rows of one message, and whether it is a bounce at all."""
    try:
        msg = email.message_from_string(without_returned_body(text), policy=email.policy.compat32)
    except Exception:  # the parser is lenient; this is the last line of defence
        return [], False
    if msg.get_content_type() == "multipart/report" and (
        # A parameter value is a str unless RFC 2231 encoded it.
        cast(str, msg.get_param("report-type") or "").lower() == "disposition-notification"
    ):
        return [], False  # a read receipt
    texts, statuses, original = walk_report(msg)
    body = "\n".join(texts).replace("\r\n", "\n").replace("\r", "\n")
    rows, reporting = _failed_recipients(msg, body, statuses, original)
    if not rows:
        return [], is_bounce(msg)
    return _frame_rows(msg, rows, reporting, texts, body, original, statuses), True


def _failed_recipients(
    msg: Message, body: str, statuses: list[Message], original: Message | None
) -> tuple[list[Row], str | None]:
    """The failed recipients as the first report form that names any gives them, and
    the Reporting-MTA."""
    rows, reporting = dsn_rows(statuses)
    if not rows and re.search(r"(?im)^Final-Recipient:", body):
        rows, reporting = dsn_rows_in_text(body)
    for reader in (exchange5_rows, exchange2007_rows, plain_rows):
        if rows:
            break
        rows = reader(body)
    if not rows:
        rows = unnamed_rows(msg, body, original)
    return rows, reporting


def _frame_rows(
    msg: Message,
    rows: list[Row],
    reporting: str | None,
    texts: list[str],
    body: str,
    original: Message | None,
    statuses: list[Message],
) -> list[dict[str, object]]:
    """The failed recipients as rows of the frame, with what the message says of
    itself and of the message it returns."""
    x_mailer = msg.get("X-Mailer")
    orig_from, orig_subject, orig_sent = original_fields(original, texts)
    returned_id = original_id(body, original, statuses)
    out: list[dict[str, object]] = []
    for row in rows:
        code, status, remote_text = remote_reply(row)
        out.append(
            {
                "ts": _when(msg.get("Date")),
                "generator": row.generator,
                "software": str(x_mailer) if x_mailer else reporting,
                "original_from": str(orig_from) if orig_from else None,
                "original_subject": str(orig_subject) if orig_subject else None,
                "original_sent": _when(orig_sent),
                "recipient": row.recipient.lower(),
                "reason_text": row.reason_text,
                "diagnostic": row.diagnostic,
                "msexch_component": row.msexch.get("component"),
                "msexch_org": row.msexch.get("org"),
                "msexch_site": row.msexch.get("site"),
                "msexch_server": row.msexch.get("server"),
                "msexch_code": row.msexch.get("number"),
                "msexch_hex": row.msexch.get("hex"),
                "remote_code": code,
                "remote_status": status,
                "remote_text": remote_text,
                "action": row.action,
                "remote_mta": row.remote_mta,
                "reporting_mta": reporting,
                "original_id": returned_id,
            }
        )
    return out


def _when(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError):
        return None
    # As written by the reporting server: its local wall-clock time.
    return parsed.replace(tzinfo=None) if parsed else None
