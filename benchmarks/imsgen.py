"""Write realistic Exchange IMS protocol logs, and know what is in them.

Used three ways: ``sample_logs/`` is made with it (``python -m benchmarks.samples``),
the tests generate fresh evidence with it and compare what ``parse`` reads against
the ground truth it kept while writing (independent of the parser), and the
benchmarks make large folders with it.

What it writes follows FORMATS.md section 1: ``M/D/YY h:mm:ss AM : payload`` lines
with CRLF endings; inbound sessions with ``<<<`` commands and ``>>>`` replies,
outbound with ``>>>`` commands and ``<<<`` replies; Maximum logging adds the
``IO: |`` raw line before every received line; multi-line EHLO replies with their
untimestamped continuation lines; the rescheduling summary with doubled quotes;
NTLM AUTH exchanges. Each connection is a file, except where ``shared_file`` puts
several sessions in one (files get reused and concatenated).
"""

from __future__ import annotations

import base64
import datetime as dt
import random
import struct
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

CRLF = "\r\n"


@dataclass
class Rcpt:
    address: str
    code: int = 250
    text: str | None = None  # the reply text; None: the IMS's usual wording

    @property
    def accepted(self) -> bool:
        return self.code < 400


@dataclass
class Session:
    """One SMTP connection as the analysed IMS saw it."""

    direction: str  # inbound | outbound
    start: dt.datetime
    remote_host: str  # inbound: the client's name or address; outbound: the address
    helo: str
    mail_from: str | None
    rcpts: list[Rcpt] = field(default_factory=list)
    data: bool = True  # send DATA when at least one RCPT was accepted
    data_code: int = 250  # the reply after the message data
    banner: str = ""  # outbound: the remote's 220 text
    auth_user: tuple[str, str] | None = None  # (domain, user): NTLM AUTH before MAIL
    maximum: bool = False  # Maximum logging: IO lines
    esmtp: bool = True  # EHLO (multi-line reply) or HELO
    cut_after: int | None = None  # the log stops after this many payload lines (crash)
    reschedule: str | None = None  # outbound: the IMS's summary line after a failure
    subject: str = "status report"


@dataclass
class Truth:
    """What the generator wrote, counted from the lines as it wrote them."""

    sessions: Counter = field(default_factory=Counter)  # by direction
    rcpts: int = 0  # RCPT commands written
    refused: int = 0  # RCPT replies written with a 4xx/5xx code
    relay_refused: int = 0  # ... whose text is a relay refusal
    files: int = 0
    lines: int = 0
    replies: list[Reply] = field(default_factory=list)  # every RCPT reply written
    expected: list = field(default_factory=list)  # findings the scenario must yield
    tracking: object = None  # the scenario's tracking logs (trackinggen.TrackingTruth)

    def add(self, s: Session, steps: list[Step]) -> None:
        self.sessions[s.direction] += 1
        asked: dt.datetime | None = None
        for step in steps:
            if step.tag == "rcpt":
                self.rcpts += 1
                asked = step.time
            elif step.tag == "rcpt-reply" and step.rcpt:
                assert asked is not None, "render() stamps every step"
                self.replies.append(Reply(s, step.rcpt, asked))
                if not step.rcpt.accepted:
                    self.refused += 1
                    self.relay_refused += "relay" in (step.rcpt.text or "").lower()


@dataclass
class Reply:
    """One RCPT reply as written: its session, recipient and the time of the RCPT
    command it answers (the time the recipients frame gives an attempt)."""

    session: Session
    rcpt: Rcpt
    time: dt.datetime


@dataclass
class Step:
    arrow: str  # "<<<", ">>>", "" (connection, summary) or "\n" (continuation line)
    payload: str
    tag: str = ""
    rcpt: Rcpt | None = None
    time: dt.datetime | None = None  # set when rendered


def stamp(t: dt.datetime) -> str:
    hour = t.hour % 12 or 12
    return f"{t.month}/{t.day}/{t.year % 100:02d} {hour}:{t.minute:02d}:{t.second:02d} " + (
        "PM" if t.hour >= 12 else "AM"
    )


def _ntlm_type3(domain: str, user: str, rng: random.Random) -> str:
    """A well-formed NTLM AUTHENTICATE message with random responses."""
    dom, usr, ws = (x.encode("utf-16-le") for x in (domain.upper(), user, "WKS01"))
    lm, nt = rng.randbytes(24), rng.randbytes(24)
    offset = 64
    fields = []
    payload = b""
    for chunk in (lm, nt, dom, usr, ws, b""):
        fields.append(struct.pack("<HHI", len(chunk), len(chunk), offset + len(payload)))
        payload += chunk
    head = b"NTLMSSP\0" + struct.pack("<I", 3)
    head += fields[0] + fields[1] + fields[2] + fields[3] + fields[4] + fields[5]
    head += struct.pack("<I", 0x00088205)  # flags: unicode
    return base64.b64encode(head + payload).decode()


class ImsWriter:
    """Renders sessions as the IMS of one server writes them."""

    def __init__(self, server: str, build: str, rng: random.Random) -> None:
        self.server = server
        self.build = build
        self.rng = rng

    def _inbound(self, s: Session) -> list[Step]:
        out = [Step("", f"A connection was accepted from {s.remote_host}.")]
        if not s.esmtp:  # older MTAs say HELO and get a one-line answer
            out += [Step("<<<", f"HELO {s.helo}"), Step(">>>", "250 OK")]
            return out + self._inbound_mail(s)
        out += [Step("<<<", f"EHLO {s.helo}")]
        out += [Step(">>>", f"250-{self.server} Hello [{s.remote_host}]")]
        out += [Step("\n", x) for x in ("250-XEXCH50", "250-HELP", "250-ETRN", "250-DSN")]
        out += [
            Step("\n", "250-SIZE 0"),
            Step("\n", "250-AUTH LOGIN"),
            Step("\n", "250 AUTH=LOGIN"),
        ]
        return out + self._inbound_mail(s)

    def _inbound_mail(self, s: Session) -> list[Step]:
        out: list[Step] = []
        if s.auth_user:
            out += [Step("<<<", "AUTH NTLM " + base64.b64encode(b"NTLMSSP\0\1\0\0\0").decode())]
            out += [Step(">>>", "334 " + base64.b64encode(self.rng.randbytes(40)).decode())]
            out += [Step("<<<", _ntlm_type3(*s.auth_user, self.rng))]
            out += [Step(">>>", "235 ntlm authentication successful")]
        if s.mail_from is not None:
            size = self.rng.randint(900, 90000)
            out += [Step("<<<", f"MAIL FROM:<{s.mail_from}> SIZE={size}")]
            out += [Step(">>>", f"250 OK - mail from <{s.mail_from}>; can accomodate {size} bytes")]
        for r in s.rcpts:
            out += [Step("<<<", f"RCPT TO:<{r.address}>", "rcpt", r)]
            reply = f"{r.code} {r.text or f'OK - Recipient <{r.address}>'}"
            out += [Step(">>>", reply, "rcpt-reply", r)]
        if s.data and any(r.accepted for r in s.rcpts):
            out += [Step("<<<", "DATA"), Step(">>>", "354 Send data.  End with CRLF.CRLF")]
            out += [
                Step(">>>", f"{s.data_code} OK" if s.data_code < 400 else f"{s.data_code} Error")
            ]
        out += [Step("<<<", "QUIT"), Step(">>>", "221 closing connection")]
        return out

    def _outbound(self, s: Session) -> list[Step]:
        out = [Step("", f"A connection to {s.remote_host} was established.")]
        out += [Step("<<<", f"220 {s.banner}")]
        out += [Step(">>>", f"EHLO {s.helo}")]
        out += [
            Step("<<<", f"250-{s.banner.split()[0]} Hello {s.helo}"),
            Step("\n", "250 SIZE 10240000"),
        ]
        if s.mail_from is not None:
            out += [Step(">>>", f"MAIL FROM:<{s.mail_from}>"), Step("<<<", "250 OK")]
        for r in s.rcpts:
            out += [Step(">>>", f"RCPT TO:<{r.address}>", "rcpt", r)]
            out += [Step("<<<", f"{r.code} {r.text or 'OK'}", "rcpt-reply", r)]
        if s.data and any(r.accepted for r in s.rcpts):
            out += [
                Step(">>>", "DATA"),
                Step("<<<", "354 Start mail input; end with <CRLF>.<CRLF>"),
            ]
            out += [Step("<<<", f"{s.data_code} OK queued" if s.data_code < 400 else "554 failed")]
        out += [Step(">>>", "QUIT"), Step("<<<", "221 closing connection")]
        if s.reschedule:
            subject = s.subject.replace('"', '""')
            summary = f'Message subject: "{subject}". Rescheduling delivery for later.'
            out += [Step("", f"{s.reschedule} {summary}")]
        return out

    def steps(self, s: Session) -> list[Step]:
        steps = self._inbound(s) if s.direction == "inbound" else self._outbound(s)
        return steps if s.cut_after is None else steps[: s.cut_after]

    def render(self, s: Session, steps: list[Step]) -> list[str]:
        lines: list[str] = []
        t = s.start
        for step in steps:
            arrow, payload = step.arrow, step.payload
            if arrow == "\n":
                lines.append(payload)
                continue
            if arrow == "<<<" and s.maximum:
                lines.append(f"{stamp(t)} : <<< IO: |{payload}")
            prefix = f"{arrow} " if arrow else ""
            lines.append(f"{stamp(t)} : {prefix}{payload}")
            step.time = t
            if self.rng.random() < 0.3:
                t += dt.timedelta(seconds=1)
        return lines


@dataclass
class LogFolder:
    """Numbered L*.LOG files, as the IMS writes them, with the truth kept."""

    root: Path
    truth: Truth = field(default_factory=Truth)
    number: int = 0

    def write(self, writer: ImsWriter, sessions: list[Session]) -> Path:
        """Write sessions into the next log file (one session per file normally)."""
        lines: list[str] = []
        for s in sessions:
            steps = writer.steps(s)
            lines += writer.render(s, steps)
            self.truth.add(s, steps)
        path = self.root / f"L{self.number:07d}.LOG"
        self.number += 1
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes((CRLF.join(lines) + CRLF).encode("cp1252"))
        self.truth.files += 1
        self.truth.lines += len(lines)
        return path
