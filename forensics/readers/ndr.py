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
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import email.utils
import multiprocessing
import re
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from email.message import Message

import polars as pl
import pyparsing as pp

from forensics.core import frames
from forensics.core.evidence import Evidence
from forensics.core.replies import refusal_category
from forensics.core.text import split_lines
from forensics.core.versions import software_from_banner
from forensics.readers.base import Format, FormatReader, Reading, ReadOptions, counted
from grammars import ndr as g
from grammars.twin import to_regex

_TIME_TAIL = re.compile(r"^[0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?(?: ?[AaPp][Mm])?(?: [+\-][0-9]{4})?$")
_BOUNCE_FROM = re.compile(r"mailer-daemon|postmaster|mail delivery|system administrator", re.I)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|returned mail|delivery (status notification|failure|has failed)|"
    r"mail delivery failed|failure notice|non.?deliver|delivery failed|could not be delivered|"
    r"returned to sender|undelivered",
    re.I,
)
# A refusal quoted in free text: the first 4xx/5xx reply code, its enhanced status.
_REPLY_IN_TEXT = re.compile(
    r"(?:^|[\s:(#'\"])([45][0-9]{2})[ \-]((?:[45]\.[0-9]{1,3}\.[0-9]{1,3})?)\s*([^\n]*)"
)


@dataclass
class _Row:
    recipient: str
    generator: str
    reason_text: str | None = None
    diagnostic: str | None = None
    action: str | None = None
    dsn_status: str | None = None
    remote_mta: str | None = None
    msexch: dict[str, str] = field(default_factory=dict)


@dataclass
class NdrResult:
    ndrs: pl.DataFrame
    unparsed: pl.DataFrame
    records: list[int]
    unparsed_counts: list[int]
    processes: int = 1  # how many processes read the messages


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


def _text_of(part: Message) -> str:
    try:
        payload = part.get_payload(decode=True)
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


def _walk_report(msg: Message) -> tuple[list[str], list[Message], Message | None]:
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
                original = original or inner[0]
            elif isinstance(inner, str):
                original = original or email.message_from_string(inner)
        elif part.is_multipart():
            payload = part.get_payload()
            if isinstance(payload, list):
                stack[0:0] = payload
        elif part.get_content_maintype() == "text" and ctype != "text/html":
            texts.append(_text_of(part))
    return texts, statuses, original


def _dsn_rows(statuses: list[Message]) -> tuple[list[_Row], str | None]:
    rows: list[_Row] = []
    reporting = None
    for part in statuses:
        blocks = part.get_payload()
        if not isinstance(blocks, list):
            continue
        for block in blocks:
            if block.get("Reporting-MTA"):
                reporting = _typed(block.get("Reporting-MTA"))
            recipient = _recipient_field(block)
            if not recipient:
                continue
            action = (block.get("Action") or "").strip().lower() or None
            if action in ("delivered", "relayed", "expanded"):
                continue
            rows.append(
                _Row(
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


# The DSN field grammar's regex twin: the same grammar, without pyparsing's per-call
# overhead on values of a few dozen characters.
_DSN_TYPED = re.compile(to_regex(g.DSN_TYPED))


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


def _block_after(text: str, end: int, stop: int) -> list[str]:
    """The lines under a recipient line, up to a blank line or the next recipient."""
    lines = []
    for line in text[end:stop].split("\n")[1:]:
        if not line.strip():
            if lines:
                break
            continue
        lines.append(line.strip())
    return lines


def _exchange5_rows(text: str) -> list[_Row]:
    if not re.search(
        r"did not reach the following recipient|could not be reached|did not receive the attached",
        text,
    ):
        return []
    rows = []
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
    for (found, _start, end), stop in zip(matches, stops, strict=True):
        block = _block_after(text, end, stop)
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
        rows.append(
            _Row(
                recipient=found["recipient"],
                generator="exchange-imc" if component == "IMC" else "exchange-ims",
                reason_text=" ".join(reasons) if reasons else None,
                diagnostic=diagnostic,
                msexch=msexch,
                dsn_status=status,
            )
        )
    return rows


def _exchange2007_rows(text: str) -> list[_Row]:
    if "Diagnostic information for administrators" not in text:
        return []
    tail = text.split("Diagnostic information for administrators", 1)[1]
    found = g.scan(g.EXCHANGE2007_RECIPIENT, tail) + g.scan(g.EXCHANGE2007_REMOTE, tail)
    return [
        _Row(recipient=f["recipient"], generator="exchange-2007", diagnostic=f["diagnostic"])
        for f, _s, _e in sorted(found, key=lambda x: x[1])
    ]


def _plain_rows(text: str) -> list[_Row]:
    for marker, grammar, generator in (
        ("DragonFly Mail Agent", g.DRAGONFLY, "dragonfly"),
        ("was not delivered to:", g.DOMINO, "domino"),
        ("Failure Reasons", g.NOTES, "notes"),
        ("The problem appears to be", g.MIMECAST, "mimecast"),
    ):
        if marker in text:
            found = [
                _Row(f["recipient"], generator, diagnostic=" ".join(f["diagnostic"].split()))
                for f, _s, _e in g.scan(grammar, text)
            ]
            if found:
                return found
    if "qmail-send program" in text or "unable to deliver your message to the following" in text:
        return [
            _Row(f["recipient"], "qmail", diagnostic=" ".join(f["diagnostic"].split()))
            for f, _s, _e in g.scan(g.QMAIL_BLOCK, text)
        ]
    # "This is the Postfix program", "... the Postfix on SuSE Linux 6.4 (i386) program",
    # "This is the mail system at host ...": vendors name their builds.
    if re.search(r"This is the (?:Postfix\b[^\n]*? program|mail system) at host", text):
        return [
            _Row(f["recipient"], "postfix", diagnostic=" ".join(f["diagnostic"].split()))
            for f, _s, _e in g.scan(g.POSTFIX_RECIPIENT, text)
        ]
    marker = re.search(
        r"following address(?:es|\(es\))? failed:"
        r"|address(?:es)? to which the message has not yet been delivered (?:is|are):",
        text,
    )
    if marker:
        body = text[marker.end() :].split("------ This is a copy", 1)[0]
        return [
            _Row(f["recipient"], "exim", diagnostic=" ".join(f.get("diagnostic", "").split()))
            for f, _s, _e in g.scan(g.EXIM_BLOCK, body)
        ]
    if "Transcript of session follows" in text:
        body = text.split("Transcript of session follows", 1)[1].split("Unsent message follows", 1)[
            0
        ]
        found = g.scan(g.SENDMAIL_RCPT_EXCHANGE, body) + g.scan(g.SENDMAIL_TRANSCRIPT, body)
        remote = [(m.start(), m.group(1)) for m in re.finditer(r"(?m)^<<< ([^\n]*)", body)]
        rows: dict[str, _Row] = {}
        for f, start, _e in sorted(found, key=lambda x: x[1]):
            # "554 <x>... Remote protocol error" says only that the remote refused;
            # its own reply is the "<<<" line above (after MAIL FROM, say).
            said = [reply for at, reply in remote if at < start]
            diagnostic = f["diagnostic"]
            if said and said[-1] not in diagnostic:
                diagnostic = f"{said[-1]} ({diagnostic.strip()})"
            rows.setdefault(
                f["recipient"].lower(), _Row(f["recipient"], "sendmail", diagnostic=diagnostic)
            )
        if rows:
            return list(rows.values())
    marker = re.search(r"-----\s*The following addresses had permanent fatal errors\s*-----", text)
    if marker:
        body = text[marker.end() :].split("-----", 1)[0]
        return [
            _Row(f["recipient"], "sendmail", diagnostic=f.get("diagnostic", "").strip() or None)
            for f, _s, _e in g.scan(g.SENDMAIL_RECIPIENT, body)
        ]
    return []


def _remote_reply(row: _Row) -> tuple[int | None, str | None, str | None]:
    """(code, enhanced status, text) of the remote server's reply, where known."""
    number = row.msexch.get("number")
    if number and number.isdigit() and int(number) >= 3000:
        # When the remote refused, Exchange writes 3000 + its reply code and then the
        # reply itself ("3550 (000B09AA) 550 Relaying mail to ..."). Other numbers
        # are Exchange's own ("3902 (000B099C) Host Unknown"): no remote reply.
        text = row.msexch.get("text") or ""
        m = _REPLY_IN_TEXT.match(" " + text)
        if m and int(m.group(1)) == int(number) - 3000:
            return int(m.group(1)), m.group(2) or None, m.group(3).strip() or None
        return None, None, None
    if row.diagnostic and not row.msexch:
        m = _REPLY_IN_TEXT.search(" " + row.diagnostic)
        if m:
            return int(m.group(1)), m.group(2) or row.dsn_status, m.group(3).strip() or None
    return None, row.dsn_status, None


def _original(
    original: Message | None, texts: list[str]
) -> tuple[str | None, str | None, str | None]:
    if original is not None:
        return original.get("From"), original.get("Subject"), original.get("Date")
    # Exchange 5.x: "Your message\n  To: ...\n  Subject: ...\n  Sent: ..."
    for text in texts:
        m = re.search(r"Subject:\s*([^\n]*)\n\s*Sent:\s*([^\n]*)", text)
        if m:
            return None, m.group(1).strip(), m.group(2).strip()
    return None, None, None


def _original_id(body: str, original: Message | None, statuses: list[Message]) -> str | None:
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


def _when(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError):
        return None
    # As written by the reporting server: its local wall-clock time.
    return parsed.replace(tzinfo=None) if parsed else None


def _is_bounce(msg: Message) -> bool:
    report_type = str(msg.get_param("report-type") or "").lower()
    if msg.get_content_type() == "multipart/report" and report_type == "delivery-status":
        return True
    return bool(
        msg.get("X-MS-Embedded-Report") is not None
        or _BOUNCE_FROM.search(str(msg.get("From") or ""))
        or _BOUNCE_SUBJECT.search(str(msg.get("Subject") or ""))
        or str(msg.get("Return-Path") or "").strip() == "<>"
    )


_RETURNED = re.compile(r"(?im)^content-type:[ \t]*(?:message/rfc822|text/rfc822-headers)")
# How much of the returned message to keep: its headers, not its attachments.
_RETURNED_KEEP = 16_384


def _without_returned_body(text: str) -> str:
    """The message cut some way into the returned original: RFC 3464 puts it last,
    and only its headers matter here, while parsing its attachments costs most of
    the time. Not cut when a delivery-status part follows it (a non-standard order)."""
    found = _RETURNED.search(text)
    if found is None or len(text) - found.end() <= _RETURNED_KEEP:
        return text
    if "delivery-status" in text[found.end() :].lower():
        return text
    return text[: found.end() + _RETURNED_KEEP]


def read_message(text: str) -> tuple[list[dict[str, object]], bool]:
    """Rows of one message, and whether it is a bounce at all."""
    try:
        msg = email.message_from_string(_without_returned_body(text), policy=email.policy.compat32)
    except Exception:  # the parser is lenient; this is the last line of defence
        return [], False
    if msg.get_content_type() == "multipart/report" and (
        (msg.get_param("report-type") or "").lower() == "disposition-notification"
    ):
        return [], False  # a read receipt
    texts, statuses, original = _walk_report(msg)
    rows, reporting = _dsn_rows(statuses)
    body = "\n".join(texts).replace("\r\n", "\n").replace("\r", "\n")
    if not rows and re.search(r"(?im)^Final-Recipient:", body):
        # Malformed MIME (a boundary indented, a part without headers) leaves the
        # delivery-status fields in the text: read them from there.
        blocks = [email.message_from_string(b) for b in re.split(r"\n[ \t]*\n", body)]
        status = email.message.Message()
        status.set_payload(
            [b for b in blocks if b.get("Final-Recipient") or b.get("Reporting-MTA")]
        )
        rows, reporting = _dsn_rows([status])
    for reader in (_exchange5_rows, _exchange2007_rows, _plain_rows):
        if rows:
            break
        rows = reader(body)
    if not rows and _is_bounce(msg) and msg.get("X-Failed-Recipients"):
        # Exim and Google name the failed addresses in a header of their own.
        failed = re.findall(r"[^\s<>,;]+@[^\s<>,;]+", str(msg.get("X-Failed-Recipients")))
        diagnostic = next((m.group(0) for m in _REPLY_IN_TEXT.finditer(body)), None)
        rows = [_Row(a, "x-failed-recipients", diagnostic=diagnostic) for a in failed]
    if not rows and _is_bounce(msg) and original is not None:
        # The report names no recipient ("Delivery report unavailable"): when the
        # returned message had exactly one, that is who it was, and the row says
        # it was inferred.
        named = email.utils.getaddresses(
            [str(v) for v in original.get_all("To", []) + original.get_all("Cc", [])]
        )
        addresses = {a.lower() for _n, a in named if "@" in a}
        if len(addresses) == 1:
            rows = [
                _Row(
                    addresses.pop(),
                    "inferred",
                    diagnostic="recipient not named in the report; taken from the returned message",
                )
            ]
    bounce = bool(rows) or _is_bounce(msg)
    if not rows:
        return [], bounce
    x_mailer = msg.get("X-Mailer")
    orig_from, orig_subject, orig_sent = _original(original, texts)
    original_id = _original_id(body, original, statuses)
    out = []
    for row in rows:
        code, status, remote_text = _remote_reply(row)
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
                "original_id": original_id,
            }
        )
    return out, True


def _line_of(text: str, recipient: str, default: int) -> int:
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


# Reading mail is pure Python (the email package): past this much text, half of the
# files are read in a second process while this one reads the other half. Below it,
# starting a process costs more than it saves.
PARALLEL_MIN_CHARS = 4_000_000
# A worker process takes about 0.4 s to start (it imports the reader), the time this
# one needs to read about this much mail: the worker's share is smaller by as much.
_WORKER_START_CHARS = 2_000_000

_Part = tuple[list[dict[str, object]], list[dict[str, object]], list[int], list[int]]


def _read_files(texts: list[str], sources: list[str]) -> _Part:
    """(rows, unparsed rows, records per file, unparsed lines per file): plain Python
    values, so that a worker process can hand them back."""
    rows: list[dict[str, object]] = []
    unparsed: list[dict[str, object]] = []
    records = [0] * len(texts)
    unparsed_counts = [0] * len(texts)
    for fid, (text, source) in enumerate(zip(texts, sources, strict=True)):
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        for first_line, message in split_messages(text):
            found, bounce = read_message(message)
            for row in found:
                line = first_line - 1 + _line_of(message, str(row["recipient"]), 1)
                rows.append({"source": source, "line": line, **row})
            records[fid] += len(found)
            if bounce and not found:
                unparsed.append(
                    {
                        "source": source,
                        "line": first_line,
                        "reason": "a bounce whose failed recipients could not be found",
                        "text": message.split("\n\n", 1)[0][:200],
                    }
                )
                unparsed_counts[fid] += message.count("\n") + (not message.endswith("\n"))
    return rows, unparsed, records, unparsed_counts


def _read_in_two(texts: list[str], sources: list[str]) -> tuple[_Part, int]:
    """The later files in a worker process, the first ones (a little over half of
    the text) here; joined in file order. A worker that cannot start or dies
    leaves the work here: (the parts, the processes that read them)."""
    goal, here, cut = (sum(map(len, texts)) + _WORKER_START_CHARS) // 2, 0, 0
    while cut < len(texts) - 1 and here < goal:
        here += len(texts[cut])
        cut += 1
    try:
        # forkserver: the worker starts from a clean process, not a fork of this one
        # and its polars threads.
        context = multiprocessing.get_context("forkserver")
        with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
            later = pool.submit(_read_files, texts[cut:], sources[cut:])
            first = _read_files(texts[:cut], sources[:cut])
            second = later.result()
    except (OSError, BrokenProcessPool, ValueError):
        # No process to be had (OSError), a worker that died (BrokenProcessPool), a
        # platform without forkserver (ValueError): this process reads it all.
        return _read_files(texts, sources), 1
    joined = (
        first[0] + second[0],
        first[1] + second[1],
        first[2] + second[2],
        first[3] + second[3],
    )
    return joined, 2


def read(texts: list[str], sources: list[str], *, parallel: bool | None = None) -> NdrResult:
    """Every message of every file -> rows (with their file and line). ``parallel``:
    read in two processes (default: when there is enough text to gain from it)."""
    if parallel is None:
        parallel = len(texts) > 1 and sum(map(len, texts)) >= PARALLEL_MIN_CHARS
    if parallel and len(texts) > 1:
        (rows, unparsed, records, unparsed_counts), processes = _read_in_two(texts, sources)
    else:
        (rows, unparsed, records, unparsed_counts), processes = _read_files(texts, sources), 1
    frame = pl.DataFrame(rows, schema=_ROW_SCHEMA)
    return NdrResult(
        ndrs=_finish(frame),
        unparsed=frames.conform(pl.DataFrame(unparsed), frames.UNPARSED)
        if unparsed
        else frames.empty(frames.UNPARSED),
        records=records,
        unparsed_counts=unparsed_counts,
        processes=processes,
    )


# The rows as read_message builds them, before the refusal and software columns.
_ROW_SCHEMA = {
    name: dtype
    for name, dtype in {**frames.NDRS, "remote_code": pl.Int64}.items()
    if name != "refusal"
}


def _finish(frame: pl.DataFrame) -> pl.DataFrame:
    if frame.height == 0:
        return frames.empty(frames.NDRS)
    # A failed NDR is a failure: without a reply code, 5xx unless the DSN status or
    # action says it was temporary.
    code = pl.coalesce(
        pl.col("remote_code").cast(pl.Int64),
        pl.when(pl.col("remote_status").str.starts_with("4") | (pl.col("action") == "delayed"))
        .then(450)
        .otherwise(550),
    )
    evidence = pl.concat_str(
        [pl.col("remote_text"), pl.col("diagnostic"), pl.col("reason_text")],
        separator=" | ",
        ignore_nulls=True,
    )
    frame = frame.with_columns(
        refusal_category(code, evidence).alias("refusal"),
        software_from_banner(frame["software"]).alias("software"),
    )
    return frames.conform(frame, frames.NDRS)


def read_files(items: list[Evidence], options: ReadOptions) -> Reading:
    found = read([m.text or "" for m in items], [m.source for m in items])
    lines = [len(split_lines(m.text or "")) for m in items]
    return counted(
        items,
        found.records,
        found.unparsed_counts,
        lines,
        frames={"ndrs": found.ndrs},
        unparsed_rows=found.unparsed,
    )


# A file that opens with mail headers is a message, whatever it quotes (a Sendmail
# transcript inside an NDR has ">>>" and "<<<" lines, as IMS logs do): before ims.
READER = FormatReader(
    formats=(Format("email", 20, g.looks_like),),
    frames=("ndrs",),
    read_files=read_files,
)
