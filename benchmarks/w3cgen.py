"""Write the sessions of a scenario as Exchange 2000/2003 SMTP virtual server logs.

The same ``Session`` objects the IMS writer renders become the records IIS writes
for the SMTP service in W3C extended format (FORMATS.md section 5):
``WINDOWS/system32/LogFiles/SMTPSVC1/exYYMMDD.log``, one file per day, times in UTC.
A received command is one record: the verb in ``cs-method``, its argument in
``cs-uri-query`` with ``+`` for spaces, our reply's code in ``sc-status`` (not its
text). Outbound, each command we send and each reply we get is a record of its own,
``OutboundConnectionCommand`` or ``OutboundConnectionResponse`` in ``cs-username``,
the reply's text in ``cs-uri-query``. Each session's records are written together,
in the order the sessions began, as the reader (which has no session id to go by)
reads a session from one address's HELO, EHLO or greeting on.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.imsgen import Reply, Session, Truth

FIELDS = (
    "date time c-ip cs-username s-sitename s-computername s-ip s-port cs-method cs-uri-stem "
    "cs-uri-query sc-status sc-win32-status sc-bytes cs-bytes time-taken cs-version cs-host "
    "cs(User-Agent) cs(Cookie) cs(Referer)"
)


def plus(text: str) -> str:
    """IIS writes a space in a field as '+'."""
    return text.replace(" ", "+")


@dataclass
class W3cWriter:
    server: str  # the FQDN the server greets with
    address: str  # its own address
    address_of: Callable[[str], str]  # host name -> address
    rng: random.Random
    truth: Truth = field(default_factory=Truth)
    _days: dict[dt.date, list[tuple[dt.datetime, list[str]]]] = field(default_factory=dict)

    def add(self, s: Session) -> None:
        inbound = s.direction == "inbound"
        name = self.server.split(".")[0].upper()
        records: list[str] = []
        t = s.start

        def record(peer: str, user: str, method: str, query: str, status: int) -> None:
            port = "0" if inbound else "25"
            s_ip = self.address if inbound else "-"
            size = self.rng.randint(30, 300)
            records.append(
                f"{t:%Y-%m-%d %H:%M:%S} {peer} {user} SMTPSVC1 {name} {s_ip} {port} "
                f"{method} - {query} {status} 0 {size} {size // 2} 0 SMTP - - - -"
            )

        if inbound:
            peer = s.remote_host if s.remote_host[0].isdigit() else self.address_of(s.remote_host)
        else:
            peer = s.remote_host

        def command(verb: str, arg: str, code: int) -> None:
            if inbound:  # IIS keeps the space after the verb, as '+', but for QUIT
                query = plus(f"{'' if verb == 'QUIT' else ' '}{arg}")
                record(peer, s.helo, verb, query, code)
            else:
                record(peer, "OutboundConnectionCommand", verb, plus(arg) if arg else "-", 0)

        def reply(text: str) -> None:
            if not inbound:  # inbound, our reply's code is in the command's record
                record(peer, "OutboundConnectionResponse", "-", plus(text), 0)

        if inbound:
            command("EHLO", s.helo, 250)
        else:
            reply(f"220 {s.banner}" if s.banner else "220 ready")
            command("EHLO", self.server, 0)
            reply(f"250 {s.banner.split()[0] if s.banner else 'OK'} Hello")
        t += dt.timedelta(seconds=1)
        command("MAIL", f"FROM:<{s.mail_from}>", 250)
        reply("250 2.1.0 Sender OK")
        accepted = 0
        for r in s.rcpts:
            t += dt.timedelta(seconds=self.rng.randint(0, 1))
            self.truth.rcpts += 1
            self.truth.replies.append(Reply(s, r, t))
            if r.accepted:
                accepted += 1
                command("RCPT", f"TO:<{r.address}>", 250)
                reply("250 2.1.5 Recipient OK")
            else:
                self.truth.refused += 1
                self.truth.relay_refused += "relay" in (r.text or "").lower()
                command("RCPT", f"TO:<{r.address}>", r.code)
                reply(f"{r.code} 5.7.1 {r.text}")
        if accepted and s.data:
            t += dt.timedelta(seconds=1)
            command("DATA", f"<{s.start:%Y%m%d%H%M%S}.{s.remote_host}@{self.server}>", 250)
            reply("250 2.6.0 Queued mail for delivery")
        command("QUIT", s.helo if inbound else "", 240)
        reply("221 2.0.0 Service closing transmission channel")
        self.truth.sessions[s.direction] += 1
        self._days.setdefault(s.start.date(), []).append((s.start, records))

    def write(self, root: Path) -> Truth:
        folder = root / "WINDOWS" / "system32" / "LogFiles" / "SMTPSVC1"
        folder.mkdir(parents=True, exist_ok=True)
        for day, sessions in sorted(self._days.items()):
            header = [
                "#Software: Microsoft Internet Information Services 6.0",
                "#Version: 1.0",
                f"#Date: {day:%Y-%m-%d} 00:00:00",
                f"#Fields: {FIELDS}",
            ]
            lines = header + [line for _, records in sorted(sessions) for line in records]
            (folder / f"ex{day:%y%m%d}.log").write_bytes(("\r\n".join(lines) + "\r\n").encode())
            self.truth.files += 1
            self.truth.lines += len(lines)
        return self.truth
