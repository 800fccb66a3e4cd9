"""Write message tracking logs for a scenario's sessions, and know what is in them.

Exchange 5.x (FORMATS.md section 4, Q173280): ``exchsrvr/tracking.log/yyyymmdd.log``,
one file per GMT day, tab-delimited records over several lines (fields 1-13, then
one line per recipient), times in GMT: the server's local time plus ``gmt_hours``.
An outbound message is queued for the IMS (1010), then transferred out (1011) for
the recipients the next hop took and reported (1017, an NDR, seconds later) for the
ones it refused; an inbound message is received (1012) and handed to the store (1013).

Exchange 2013 (``TransportRoles/Logs/MessageTracking/MSGTRK<date>-1.LOG``): CSV under
``#Fields:``, times as the protocol logs write them; SMTP events name the protocol
log's session id in ``source-context``; a recipient the smart host refused FAILs with
its reply in ``recipient-status``, and a DSN follows.

Nothing here draws on the scenario's random generator: ids are made from what a
session is, so the other evidence of a scenario stays as it was.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.evidence import mts_id
from benchmarks.exchangegen import csv_field, session_id
from benchmarks.imsgen import Session


@dataclass
class TrackingTruth:
    """What the writer wrote: lines, records, and the paths a reader must rebuild."""

    files: int = 0
    lines: int = 0
    records: int = 0  # events (5.x: records; 2013: rows)
    immediate_ndrs: list[tuple[str, str]] = field(default_factory=list)  # (message, rcpt)
    delivered: int = 0  # recipients handed on or delivered


def _digest(*parts: object) -> str:
    return hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()


def _gmt_stamp(t: dt.datetime) -> str:
    return f"{t.month}/{t.day}/{t.year % 100:02d} {t.hour}:{t.minute:02d}:{t.second:02d} GMT"


def write_5x(
    sessions: list[Session], root: Path, *, org: str, site: str, server: str, gmt_hours: int
) -> TrackingTruth:
    truth = TrackingTruth()
    short = server.split(".")[0]
    shift = dt.timedelta(hours=gmt_hours)
    records: list[tuple[dt.datetime, list[str]]] = []

    def record(
        when: dt.datetime, message: str, event: int, sender: str, rcpts: list[str], size: int
    ) -> None:
        at = when + shift
        gateway = "IMS" if event >= 1010 else ""
        fields = [message, str(event), _gmt_stamp(at), gateway, "MTA", "", sender]
        head = "\t".join([*fields, "0", str(size), "0", "1", "", str(len(rcpts))])
        records.append((at, [head] + [f"\t{r}" for r in rcpts]))

    for s in sessions:
        if not s.mail_from:
            continue
        taken = [r.address for r in s.rcpts if r.accepted]
        refused = [r.address for r in s.rcpts if not r.accepted]
        size = 1200 + int(_digest(s.start, s.mail_from)[:3], 16)
        if s.direction == "outbound":
            message = mts_id(s, org, short)
            sender = (
                f"/O={org.upper()}/OU={site.upper()}/CN=RECIPIENTS/CN={s.mail_from.split('@')[0]}"
            )
            everyone = [r.address for r in s.rcpts]
            record(s.start - dt.timedelta(seconds=4), message, 1010, sender, everyone, size)
            if taken and s.data:
                record(s.start + dt.timedelta(seconds=2), message, 1011, sender, taken, size)
                truth.delivered += len(taken)
            if refused:
                record(s.start + dt.timedelta(seconds=3), message, 1017, sender, refused, size)
                truth.immediate_ndrs += [(message, r.lower()) for r in refused]
        elif taken and s.data:
            message = f"c=US;a= ;p={org};l={short}-{s.start:%y%m%d%H%M%S}Z-{s.start.second + 100}"
            record(s.start + dt.timedelta(seconds=1), message, 1012, s.mail_from, taken, size)
            record(s.start + dt.timedelta(seconds=2), message, 1013, s.mail_from, taken, size)
            truth.delivered += len(taken)
    by_day: dict[dt.date, list[str]] = {}
    for at, lines in sorted(records, key=lambda r: r[0]):
        by_day.setdefault(at.date(), []).extend(lines)
        truth.records += 1
    for day, lines in sorted(by_day.items()):
        path = root / "exchsrvr" / "tracking.log" / f"{day:%Y%m%d}.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
        truth.files += 1
        truth.lines += len(lines)
    return truth


FIELDS_2013 = (
    "date-time,client-ip,client-hostname,server-ip,server-hostname,source-context,"
    "connector-id,source,event-id,internal-message-id,message-id,network-message-id,"
    "recipient-address,recipient-status,total-bytes,recipient-count,"
    "related-recipient-address,reference,message-subject,sender-address,return-path,"
    "message-info,directionality,tenant-id,original-client-ip,original-server-ip,custom-data"
)


def write_2013(sessions: list[Session], root: Path, *, server: str, address: str) -> TrackingTruth:
    truth = TrackingTruth()
    rows: list[tuple[dt.datetime, str]] = []
    host = server.split(".")[0].upper()

    def row(when: dt.datetime, values: dict[str, str]) -> None:
        stamp = when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"
        cells = [stamp] + [csv_field(values.get(f, "")) for f in FIELDS_2013.split(",")[1:]]
        rows.append((when, ",".join(cells)))

    for n, s in enumerate(sessions, 1):
        if not s.mail_from:
            continue
        taken = [r for r in s.rcpts if r.accepted]
        refused = [r for r in s.rcpts if not r.accepted]
        digest = _digest(s.start, s.remote_host, s.mail_from)
        message = f"<{digest[:24]}@{s.mail_from.split('@')[1]}>"
        common = {
            "internal-message-id": str(100000 + n),
            "message-id": message,
            "network-message-id": f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:28]}",
            "total-bytes": str(1200 + int(digest[:3], 16)),
            "message-subject": s.subject,
            "sender-address": s.mail_from,
            "return-path": s.mail_from,
        }
        sid = session_id(s)
        context = f"{sid};{s.start:%Y-%m-%dT%H:%M:%S}.000Z;0"
        if s.direction == "outbound":
            everyone = [r.address for r in s.rcpts]
            row(
                s.start - dt.timedelta(seconds=4),
                common
                | {
                    "server-hostname": host,
                    "source": "STOREDRIVER",
                    "event-id": "RECEIVE",
                    "recipient-address": ";".join(everyone),
                    "recipient-count": str(len(everyone)),
                    "directionality": "Originating",
                },
            )
            truth.records += 1
            if taken and s.data:
                row(
                    s.start + dt.timedelta(seconds=2),
                    common
                    | {
                        "client-ip": address,
                        "client-hostname": server,
                        "server-ip": s.remote_host,
                        "server-hostname": s.remote_host,
                        "source-context": context,
                        "connector-id": "Internet Send Connector",
                        "source": "SMTP",
                        "event-id": "SEND",
                        "recipient-address": ";".join(r.address for r in taken),
                        "recipient-status": ";".join("250 2.1.5 Recipient OK" for _ in taken),
                        "recipient-count": str(len(taken)),
                        "directionality": "Originating",
                    },
                )
                truth.records += 1
                truth.delivered += len(taken)
            for r in refused:
                row(
                    s.start + dt.timedelta(seconds=3),
                    common
                    | {
                        "server-hostname": host,
                        "connector-id": "Internet Send Connector",
                        "source": "SMTP",
                        "event-id": "FAIL",
                        "recipient-address": r.address,
                        "recipient-status": f"{r.code} 5.7.1 {r.text}",
                        "recipient-count": "1",
                        "directionality": "Originating",
                    },
                )
                row(
                    s.start + dt.timedelta(seconds=3),
                    common
                    | {
                        "server-hostname": host,
                        "source": "DSN",
                        "event-id": "DSN",
                        "message-id": f"<{digest[24:36]}@{server}>",
                        "recipient-address": s.mail_from,
                        "recipient-count": "1",
                        "related-recipient-address": r.address,
                        "reference": message,
                        "message-subject": f"Undeliverable: {s.subject}",
                        "sender-address": f"MicrosoftExchange@{server.split('.', 1)[1]}",
                        "directionality": "Originating",
                    },
                )
                truth.records += 2
                truth.immediate_ndrs.append((message, r.address.lower()))
        elif taken and s.data:
            addresses = [r.address for r in taken]
            base = common | {
                "recipient-address": ";".join(addresses),
                "recipient-count": str(len(addresses)),
                "server-hostname": host,
                "directionality": "Incoming",
            }
            row(
                s.start + dt.timedelta(seconds=1),
                base
                | {
                    "client-hostname": s.helo,
                    "server-ip": address,
                    "source-context": context,
                    "connector-id": f"{host}\\Default Frontend {host}",
                    "source": "SMTP",
                    "event-id": "RECEIVE",
                },
            )
            row(
                s.start + dt.timedelta(seconds=2),
                base
                | {
                    "source": "STOREDRIVER",
                    "event-id": "DELIVER",
                    "recipient-status": ";".join("250 2.1.5 Delivered" for _ in addresses),
                },
            )
            truth.records += 2
            truth.delivered += len(addresses)
    rows.sort(key=lambda r: r[0])
    first = rows[0][0]
    header = [
        "#Software: Microsoft Exchange Server",
        "#Version: 15.0.0.0",
        "#Log-type: Message Tracking Log",
        f"#Date: {first:%Y-%m-%dT%H:%M:%S}.000Z",
        f"#Fields: {FIELDS_2013}",
    ]
    lines = header + [line for _, line in rows]
    path = root / "TransportRoles" / "Logs" / "MessageTracking" / f"MSGTRK{first:%Y%m%d}-1.LOG"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    truth.files = 1
    truth.lines = len(lines)
    return truth
