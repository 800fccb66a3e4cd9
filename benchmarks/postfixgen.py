"""Write the sessions of a scenario as a Postfix mail.log, and know what is in it.

The same ``Session`` objects the IMS writer renders (benchmarks.imsgen) become the
lines Postfix would have logged for them (FORMATS.md section 5): an inbound session
is an smtpd process from ``connect`` to ``disconnect`` with a ``reject: RCPT`` line
per refused recipient (Postfix's own wording, ``554 5.7.1 <x>: Relay access
denied``) and, for an accepted message, the ``client=``, ``cleanup``, ``qmgr`` and
delivery lines; an outbound session is a message picked up and handed to the
``smtp`` agent, whose ``status=`` quotes the remote reply. So the same incident can
be analysed from either server's logs, and the rules must reach the same findings.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.imsgen import Reply, Session, Truth

RELAY_DENIED = "Relay access denied"


@dataclass
class PostfixWriter:
    host: str  # the short host name syslog writes
    local_domains: set[str]
    address_of: Callable[[str], str]  # a host name -> its address
    rng: random.Random
    truth: Truth = field(default_factory=Truth)
    _lines: list[tuple[dt.datetime, int, str]] = field(default_factory=list)
    _pid: int = 2000

    def _qid(self, s: Session) -> str:
        return (
            hashlib.sha1(f"{s.start}{s.remote_host}{s.mail_from}".encode()).hexdigest()[:10].upper()
        )

    def _log(self, t: dt.datetime, program: str, pid: int, message: str) -> None:
        # RFC 3339, as Debian's rsyslog writes by default since Debian 12: the year is
        # in the line (a traditional header's year would come from the file's time,
        # which a git checkout does not keep).
        self._lines.append(
            (t, len(self._lines), f"{self.host} postfix/{program}[{pid}]: {message}")
        )

    def reload(self, t: dt.datetime) -> None:
        """``postfix reload``: the master daemon rereads main.cf and says so."""
        self._log(t, "master", 1187, "reload -- version 3.4.13, configuration /etc/postfix")

    def add(self, s: Session) -> None:
        self._pid += self.rng.randint(1, 9)
        if s.direction == "inbound":
            self._inbound(s)
        else:
            self._outbound(s)
        self.truth.sessions[s.direction] += 1

    def _peer(self, name: str) -> str:
        if name.replace(".", "").isdigit():
            return f"unknown[{name}]"
        return f"{name}[{self.address_of(name)}]"

    def _inbound(self, s: Session) -> None:
        pid, t, peer = self._pid, s.start, self._peer(s.remote_host)
        self._log(t, "smtpd", pid, f"connect from {peer}")
        accepted = []
        for r in s.rcpts:
            t += dt.timedelta(seconds=1)
            self.truth.rcpts += 1
            if r.accepted:
                accepted.append(r)
                continue
            self.truth.refused += 1
            self.truth.relay_refused += 1
            self.truth.replies.append(Reply(s, r, t))
            self._log(
                t,
                "smtpd",
                pid,
                f"NOQUEUE: reject: RCPT from {peer}: 554 5.7.1 <{r.address}>: {RELAY_DENIED}; "
                f"from=<{s.mail_from}> to=<{r.address}> proto=ESMTP helo=<{s.helo}>",
            )
        if accepted and s.data:
            qid = self._qid(s)
            t += dt.timedelta(seconds=1)
            sasl = f", sasl_method=LOGIN, sasl_username={s.auth_user[1]}" if s.auth_user else ""
            self._log(t, "smtpd", pid, f"{qid}: client={peer}{sasl}")
            for r in accepted:
                self.truth.replies.append(Reply(s, r, t))
            self._log(t, "cleanup", pid + 1, f"{qid}: message-id=<{qid}@{s.helo}>")
            self._log(
                t,
                "qmgr",
                1200,
                f"{qid}: from=<{s.mail_from}>, size=4180, nrcpt={len(accepted)} (queue active)",
            )
            relayed_to: set[str] = set()
            for r in accepted:
                domain = r.address.split("@")[1]
                if domain in self.local_domains:
                    where, agent, detail = "local", "local", "delivered to mailbox"
                else:
                    # Relayed on: Postfix logs the delivery to the outside domain's MX,
                    # an outbound session of its own (one per MX) with its RCPT.
                    mx = f"mx.{domain}"
                    where, agent, detail = f"{mx}[{self.address_of(mx)}]:25", "smtp", "250 2.0.0 Ok"
                    self.truth.rcpts += 1
                    if mx not in relayed_to:
                        relayed_to.add(mx)
                        self.truth.sessions["outbound"] += 1
                self._log(
                    t + dt.timedelta(seconds=1),
                    agent,
                    pid + 2,
                    f"{qid}: to=<{r.address}>, relay={where}, delay=1.2, delays=0.1/0/0.5/0.6, "
                    f"dsn=2.0.0, status=sent ({detail})",
                )
            self._log(t + dt.timedelta(seconds=1), "qmgr", 1200, f"{qid}: removed")
        counts = f"ehlo=1 mail=1 rcpt={len(s.rcpts)}" + (" data=1" if accepted else "")
        self._log(
            t + dt.timedelta(seconds=2), "smtpd", pid, f"disconnect from {peer} {counts} quit=1"
        )

    def _outbound(self, s: Session) -> None:
        pid, t, qid = self._pid, s.start, self._qid(s)
        name = s.banner.split()[0] if s.banner else s.remote_host
        relay = f"{name}[{s.remote_host}]"
        self._log(t, "pickup", pid, f"{qid}: uid=1000 from=<{s.mail_from}>")
        self._log(
            t,
            "qmgr",
            1200,
            f"{qid}: from=<{s.mail_from}>, size=3020, nrcpt={len(s.rcpts)} (queue active)",
        )
        for r in s.rcpts:
            self.truth.rcpts += 1
            self.truth.replies.append(Reply(s, r, t + dt.timedelta(seconds=1)))
            if r.accepted:
                status = "dsn=2.0.0, status=sent (250 2.0.0 Ok: queued)"
            else:
                self.truth.refused += 1
                self.truth.relay_refused += "relay" in (r.text or "").lower()
                status = (
                    f"dsn=5.7.1, status=bounced (host {relay} said: {r.code} 5.7.1 {r.text} "
                    "(in reply to RCPT TO command))"
                )
            self._log(
                t + dt.timedelta(seconds=1),
                "smtp",
                pid,
                f"{qid}: to=<{r.address}>, relay={relay}:25, delay=0.9, "
                f"delays=0.1/0/0.4/0.4, {status}",
            )
        if any(not r.accepted for r in s.rcpts):
            self._log(
                t + dt.timedelta(seconds=2),
                "bounce",
                pid + 1,
                f"{qid}: sender non-delivery notification: {qid[:-1]}X",
            )
        self._log(t + dt.timedelta(seconds=2), "qmgr", 1200, f"{qid}: removed")

    @property
    def pending(self) -> int:
        """Lines added so far."""
        return len(self._lines)

    def write(self, path: Path) -> Truth:
        """The log, lines in time order (several sessions interleave, as in syslog)."""
        lines, second, n = [], None, 0
        for t, _, text in sorted(self._lines):
            n = n + 1 if t == second else 0
            second = t
            lines.append(f"{t:%Y-%m-%dT%H:%M:%S}.{n * 1000 + 17:06d}+01:00 {text}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        self.truth.files, self.truth.lines = 1, len(lines)
        return self.truth
