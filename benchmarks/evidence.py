"""The configuration evidence of the sample scenarios: directory export, the admin's
change log, registry snapshots and event-log exports, consistent with each story in
sample_logs/README.md. Written next to the IMS logs by benchmarks.samples."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from benchmarks.imsgen import Session

IMC_KEY = r"HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\MSExchangeIMC\Parameters"


def gal(users: list[str], path: Path) -> None:
    """An Exchange administrator directory export, with two custom recipients."""
    lines = ["Obj-Class,Directory Name,Display Name,E-mail Addresses"]
    for address in users:
        local = address.split("@")[0]
        alias = local.replace(".", "")[:8].upper()
        name = " ".join(part.capitalize() for part in local.split("."))
        lines.append(
            f'Mailbox,{alias},{name},"SMTP:{address}%X400:c=US;a= ;p=Org;o=Site;s={alias};'
            f'%MS:ORG/SITE/{alias}"'
        )
    lines.append("Remote,PARTNERA,Partner A Sales,SMTP:sales@partner-a.example")
    lines.append("Remote,SUPPLIER,Supplier Desk,SMTP:desk@supplier.example")
    _write(path, lines, "cp1252")


def changes(rows: list[tuple[dt.datetime, str, str, str, str, str]], path: Path) -> None:
    lines = ["time,component,setting,old,new,note"]
    for when, component, setting, old, new, note in rows:
        cells = [when.strftime("%Y-%m-%d %H:%M"), component, setting, old, new, note]
        lines.append(",".join(f'"{c}"' if "," in c else c for c in cells))
    _write(path, lines, "utf-8")


def _multi_sz_hex(entries: list[str], unicode: bool) -> str:
    data = "".join(e + "\0" for e in entries) + "\0"
    raw = data.encode("utf-16-le" if unicode else "cp1252")
    return ",".join(f"{b:02x}" for b in raw)


def registry(values: dict[str, int | list[str] | None], path: Path, *, unicode: bool) -> None:
    """A snapshot of the IMC Parameters key; a None value is absent."""
    lines = ["Windows Registry Editor Version 5.00" if unicode else "REGEDIT4", "", f"[{IMC_KEY}]"]
    lines.append('"LogDirectory"="C:\\\\exchsrvr\\\\imcdata\\\\log"')
    for name, value in values.items():
        if value is None:
            continue
        if isinstance(value, int):
            lines.append(f'"{name}"=dword:{value:08x}')
        else:
            hexed = _multi_sz_hex(value, unicode)
            # Long values continue on the next lines after a backslash, as exports do.
            first, rest = f'"{name}"=hex(7):', hexed
            chunks = [rest[i : i + 75] for i in range(0, len(rest), 75)]
            lines.append(first + chunks[0] + ("\\" if len(chunks) > 1 else ""))
            lines += [
                "  " + c + ("\\" if i < len(chunks) - 2 else "") for i, c in enumerate(chunks[1:])
            ]
    lines.append("")
    if unicode:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\xff\xfe" + "\r\n".join(lines).encode("utf-16-le"))
    else:
        _write(path, lines, "cp1252")


def events(
    rows: list[tuple[dt.datetime, str, str, str, int, str]], server: str, path: Path
) -> None:
    """NT4 Event Viewer 'Save As' text, tab-delimited, no header."""
    lines = []
    for when, source, kind, category, event_id, message in sorted(rows):
        hour = when.hour % 12 or 12
        half = "PM" if when.hour >= 12 else "AM"
        stamp = f"{when.month}/{when.day}/{when.year % 100:02d}\t{hour}:{when:%M:%S} {half}"
        lines.append(f"{stamp}\t{source}\t{kind}\t{category}\t{event_id}\tN/A\t{server}\t{message}")
    _write(path, lines, "cp1252")


def refused_outbound_events(
    sessions: list[Session],
) -> list[tuple[dt.datetime, str, str, str, int, str]]:
    """MSExchangeIMC 4031 for each outbound recipient the next hop refused."""
    out = []
    for s in sessions:
        if s.direction != "outbound":
            continue
        for r in s.rcpts:
            if not r.accepted:
                out.append(
                    (
                        s.start + dt.timedelta(seconds=2),
                        "MSExchangeIMC",
                        "Error",
                        "SMTP Interface Events",
                        4031,
                        "The message could not be delivered. The destination server "
                        f"reported: {r.code} {r.text}",
                    )
                )
    return out


def service_cycle(at: dt.datetime) -> list[tuple[dt.datetime, str, str, str, int, str]]:
    return [
        (
            at,
            "MSExchangeIMC",
            "Information",
            "Service Control",
            1001,
            "The Internet Mail Service was shut down successfully.",
        ),
        (
            at + dt.timedelta(seconds=40),
            "MSExchangeIMC",
            "Information",
            "Service Control",
            1000,
            "The Internet Mail Service started successfully.",
        ),
    ]


def _rfc2822(when: dt.datetime) -> str:
    # The servers of the stories run on US Eastern time; the log times are local.
    return when.strftime("%a, %d %b %Y %H:%M:%S -0500")


def mts_id(s: Session, org: str, short: str) -> str:
    """The X.400 id Exchange 5.x gives an outbound message, as its NDR quotes it and
    its tracking log names it (sent four seconds before the session began)."""
    sent = s.start - dt.timedelta(seconds=4)
    return f"c=US;a= ;p={org};l={short}-{sent:%y%m%d%H%M%S}Z-{s.start.second}"


def ims_ndr(
    s: Session, server: str, org: str, site: str, build: str, domain: str, path: Path
) -> None:
    """The Internet Mail Service's own NDR for the recipients the next hop refused in
    outbound session ``s`` (FORMATS.md section 2, the MIME form), as a user forwards
    it: the remote reply embedded in the MSEXCH diagnostic, wrapped to column 0."""
    refused = [r for r in s.rcpts if not r.accepted]
    sent = s.start - dt.timedelta(seconds=4)
    back = s.start + dt.timedelta(seconds=3)
    short = server.split(".")[0]
    boundary = f"----_=_NextPart_000_01BEB1A2.{s.start:%d%H%M%S}"
    to = "; ".join(r.address for r in s.rcpts)
    lines = [
        f"Received: by {server} with Internet Mail Service ({build})",
        f"\tid <NDR.{s.start:%H%M%S}@{server}>; {_rfc2822(back)}",
        f"Message-ID: <NDR.{s.start:%Y%m%d%H%M%S}@{server}>",
        f"From: System Administrator <postmaster@{domain}>",
        f"To: {s.mail_from}",
        f"Subject: Undeliverable: {s.subject}",
        f"Date: {_rfc2822(back)}",
        "MIME-Version: 1.0",
        f"X-Mailer: Internet Mail Service ({build})",
        "X-MS-Embedded-Report: ",
        f'Content-Type: multipart/mixed; boundary="{boundary}"',
        "",
        f"--{boundary}",
        'Content-Type: text/plain; charset="iso-8859-1"',
        "",
        "Your message",
        "",
        f"  To:      {to}",
        f"  Subject: {s.subject}",
        f"  Sent:    {_rfc2822(sent)}",
        "",
        "did not reach the following recipient(s):",
        "",
    ]
    for r in refused:
        reply = f"{r.code} {r.text}"
        head, _, tail = reply.partition(" <")
        lines += [
            f"{r.address} on {_rfc2822(back)}",
            "    The recipient name is not recognized",
            f"\tThe MTS-ID of the original message is: {mts_id(s, org, short)}",
            f"    MSEXCH:IMS:{org}:{site}:{short} 3550 (000B09AA) {head}",
            f"<{tail}" if tail else "",
        ]
    lines += [
        "",
        f"--{boundary}",
        "Content-Type: message/rfc822",
        "",
        f"From: {s.mail_from}",
        f"To: {to}",
        f"Subject: {s.subject}",
        f"Date: {_rfc2822(sent)}",
        "",
        "Please see below.",
        "",
        f"--{boundary}--",
    ]
    _write(path, lines, "cp1252")


def customer_bounce(s: Session, server: str, server_ip: str, path: Path) -> None:
    """A bounce a customer forwards: their own server's RFC 3464 report for the
    recipients the analysed server refused in inbound session ``s``."""
    refused = [r for r in s.rcpts if not r.accepted]
    back = s.start + dt.timedelta(seconds=5)
    reporting = s.helo
    boundary = f"{s.start:%Y%m%d%H%M%S}.report/{reporting}"
    lines = [
        f"From: MAILER-DAEMON@{reporting} (Mail Delivery System)",
        f"To: {s.mail_from}",
        "Subject: Undelivered Mail Returned to Sender",
        f"Date: {_rfc2822(back)}",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"',
        "",
        f"--{boundary}",
        "Content-Description: Notification",
        "Content-Type: text/plain; charset=us-ascii",
        "",
        f"This is the mail system at host {reporting}.",
        "",
        "I'm sorry to have to inform you that your message could not",
        "be delivered to one or more recipients.",
        "",
    ]
    for r in refused:
        lines += [
            f"<{r.address}>: host {server}[{server_ip}] said: {r.code} {r.text} (in reply to "
            "RCPT TO command)",
            "",
        ]
    lines += [
        f"--{boundary}",
        "Content-Description: Delivery report",
        "Content-Type: message/delivery-status",
        "",
        f"Reporting-MTA: dns; {reporting}",
        f"Arrival-Date: {_rfc2822(s.start)}",
        "",
    ]
    for r in refused:
        lines += [
            f"Final-Recipient: rfc822; {r.address}",
            "Action: failed",
            "Status: 5.0.0",
            f"Remote-MTA: dns; {server}",
            f"Diagnostic-Code: smtp; {r.code} {r.text}",
            "",
        ]
    lines += [f"--{boundary}--"]
    _write(path, lines, "us-ascii")


def _write(path: Path, lines: list[str], encoding: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
