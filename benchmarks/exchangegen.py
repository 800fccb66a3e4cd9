"""Write the sessions of a scenario as Exchange 2013 SMTP protocol logs.

The same ``Session`` objects the IMS writer renders become the rows an Exchange
2013 front end logs (FORMATS.md section 5): ``SmtpReceive\\RECV<date>-1.LOG`` for
inbound sessions (``<`` the client's commands, ``>`` our replies) and
``SmtpSend\\SEND<date>-1.LOG`` for outbound ones, CSV after the ``#`` header, times in
UTC with milliseconds. A refused relay is Exchange's own wording: ``550 5.7.54 SMTP;
Unable to relay recipient in non-accepted domain``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.imsgen import Reply, Session, Truth

NON_ACCEPTED = "550 5.7.54 SMTP; Unable to relay recipient in non-accepted domain"
FIELDS = (
    "date-time,connector-id,session-id,sequence-number,local-endpoint,remote-endpoint,"
    "event,data,context"
)


def csv_field(value: str) -> str:
    return f'"{value.replace(chr(34), chr(34) * 2)}"' if any(c in value for c in ',"') else value


def session_id(s: Session) -> str:
    """The protocol log's session id of ``s`` (the tracking log names it too)."""
    return hashlib.sha1(f"{s.start}{s.remote_host}".encode()).hexdigest()[:16].upper()


@dataclass
class ExchangeWriter:
    server: str  # the FQDN the server greets with
    address: str  # its own address
    address_of: Callable[[str], str]  # host name -> address
    rng: random.Random
    truth: Truth = field(default_factory=Truth)
    _rows: dict[str, list[tuple[dt.datetime, str]]] = field(default_factory=dict)

    def add(self, s: Session) -> None:
        inbound = s.direction == "inbound"
        sid = session_id(s)
        if inbound:
            name = s.remote_host
            remote = name if name[0].isdigit() else self.address_of(name)
            connector = f"{self.server.split('.')[0].upper()}\\Default Frontend"
            local_end, remote_end = (
                f"{self.address}:25",
                f"{remote}:{self.rng.randint(1025, 65000)}",
            )
        else:
            connector = "Internet Send Connector"
            local_end, remote_end = (
                f"{self.address}:{self.rng.randint(1025, 65000)}",
                f"{s.remote_host}:25",
            )
        rows: list[tuple[dt.datetime, str, str]] = []
        t = s.start

        def row(event: str, data: str = "", context: str = "") -> None:
            rows.append((t, event, f"{csv_field(data)},{csv_field(context)}"))

        # Receive log: the client's commands are '<' (received), our replies '>'.
        # Send log: our commands are '>' (sent), the remote's replies '<'.
        client, server = ("<", ">") if inbound else (">", "<")
        row("+")
        if inbound:
            row(
                server,
                f"220 {self.server} Microsoft ESMTP MAIL Service ready at "
                f"{t:%a, %d %b %Y %H:%M:%S} +0000",
            )
            row(client, f"EHLO {s.helo}")
            row(server, f"250-{self.server} Hello [{remote}]")
            row(server, "250 SIZE 37748736")
        else:
            row(server, f"220 {s.banner}" if s.banner else "220 ready")
            row(client, f"EHLO {self.server}")
            row(server, "250 OK")
        t += dt.timedelta(seconds=1)
        row(client, f"MAIL FROM:<{s.mail_from}>")
        row(server, "250 2.1.0 Sender OK")
        accepted = 0
        for r in s.rcpts:
            t += dt.timedelta(milliseconds=self.rng.randint(50, 900))
            self.truth.rcpts += 1
            self.truth.replies.append(Reply(s, r, t.replace(microsecond=0)))
            row(client, f"RCPT TO:<{r.address}>")
            if r.accepted:
                accepted += 1
                row(server, "250 2.1.5 Recipient OK")
            else:
                self.truth.refused += 1
                self.truth.relay_refused += 1
                reply = NON_ACCEPTED if inbound else f"{r.code} 5.7.1 {r.text}"
                row(server, reply)
        if accepted and s.data:
            t += dt.timedelta(seconds=1)
            row(client, "BDAT 4180 LAST" if inbound else "DATA")
            row(server, "250 2.6.0 Queued mail for delivery")
        row(client, "QUIT")
        row(server, "221 2.0.0 Service closing transmission channel")
        row("-", "", "Local")
        self.truth.sessions[s.direction] += 1
        name = "SmtpReceive" if inbound else "SmtpSend"
        for seq, (when, event, rest) in enumerate(rows):
            stamp = when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"
            ends = f"{local_end},{remote_end}"
            line = f"{stamp},{csv_field(connector)},{sid},{seq},{ends},{event},{rest}"
            self._rows.setdefault(name, []).append((when, line))

    def write(self, root: Path) -> Truth:
        for name, rows in sorted(self._rows.items()):
            log_type = "Receive" if name == "SmtpReceive" else "Send"
            first = min(w for w, _ in rows)
            header = [
                "#Software: Microsoft Exchange Server",
                "#Version: 15.0.0.0",
                f"#Log-type: SMTP {log_type} Protocol Log",
                f"#Date: {first:%Y-%m-%dT%H:%M:%S}.000Z",
                f"#Fields: {FIELDS}",
            ]
            lines = header + [line for _, line in sorted(rows, key=lambda r: r[0])]
            path = (
                root
                / "TransportRoles"
                / "Logs"
                / "FrontEnd"
                / "ProtocolLog"
                / name
                / f"{'RECV' if log_type == 'Receive' else 'SEND'}{first:%Y%m%d}-1.LOG"
            )
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
            self.truth.files += 1
            self.truth.lines += len(lines)
        return self.truth
