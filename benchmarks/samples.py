"""The incident scenarios of ``sample_logs/``: the five KB articles and a healthy
baseline, each an evidence folder of Exchange IMS protocol logs.

    python -m benchmarks.samples [--out sample_logs]

Deterministic: the same seed writes byte-identical folders, so the committed
``sample_logs/`` can be checked against this code. All names and addresses are
invented (``.example`` domains, documentation address ranges).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchmarks import evidence as ev
from benchmarks import trackinggen
from benchmarks.exchangegen import ExchangeWriter
from benchmarks.imsgen import ImsWriter, LogFolder, Rcpt, Reply, Session, Truth
from benchmarks.postfixgen import PostfixWriter
from benchmarks.trackinggen import TrackingTruth
from benchmarks.w3cgen import W3cWriter

# The Exchange 2013 server's own address in its scenarios.
EXCHANGE_ADDRESS = "198.51.100.5"

FIRST = ["ann", "bob", "carla", "dev", "emma", "farid", "gina", "hugo", "ines", "jon", "kim"]
LAST = ["adams", "baker", "chen", "diaz", "evans", "fox", "garcia", "hall", "ito", "jones"]

PARTNERS = [  # inbound senders: (host name, address, their domain)
    ("mx1.partner-a.example", "198.51.100.10", "partner-a.example"),
    ("mail.supplier.example", "198.51.100.25", "supplier.example"),
    ("smtp.customer-b.example", "203.0.113.7", "customer-b.example"),
    ("gw.bank.example", "203.0.113.40", "bank.example"),
    ("mx.lawfirm.example", "198.51.100.77", "lawfirm.example"),
    ("relay.univ.example", "192.0.2.130", "univ.example"),
    ("198.51.100.200", "198.51.100.200", "smallshop.example"),
]
IMS55_SP3_BANNER = "ESMTP Server (Microsoft Exchange Internet Mail Service 5.5.2650.21) ready"
REMOTE_MX = [  # outbound next hops when delivering by DNS: (address, banner)
    ("198.51.100.10", "mx1.partner-a.example ESMTP Sendmail 8.9.3/8.9.3 ready"),
    (
        "203.0.113.7",
        "smtp.customer-b.example Microsoft ESMTP MAIL Service, Version: 5.0.2195.1600 ready",
    ),
    ("203.0.113.40", "gw.bank.example ESMTP Postfix"),
    (
        "198.51.100.77",
        f"mx.lawfirm.example {IMS55_SP3_BANNER}",
    ),
    ("192.0.2.130", "relay.univ.example ESMTP Exim 3.12 ready"),
]
SUBJECTS = ["quarterly figures", "Re: order 4471", 'Case "27375" update', "minutes", "invoice"]


def address_of(host: str) -> str:
    """The address a partner's name resolves to (documentation ranges, stable)."""
    known = {name: ip for name, ip, _ in PARTNERS}
    if host in known:
        return known[host]
    return f"203.0.113.{sum(host.encode()) % 200 + 20}"


def users(domain: str, rng: random.Random, n: int = 40) -> list[str]:
    names = sorted({f"{rng.choice(FIRST)}.{rng.choice(LAST)}" for _ in range(n * 2)})[:n]
    return [f"{name}@{domain}" for name in names]


def business_time(rng: random.Random, day: dt.date) -> dt.datetime:
    """A moment of the day, most of them in office hours."""
    if rng.random() < 0.85:
        seconds = rng.randint(7 * 3600, 19 * 3600)
    else:
        seconds = rng.randint(0, 24 * 3600 - 60)
    return dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=seconds)


@dataclass
class Site:
    """The analysed server and its surroundings."""

    server: str  # the IMS's host name
    domain: str  # the local domain
    build: str  # the Exchange build (for the README; inbound logs do not show it)
    rng: random.Random

    def __post_init__(self) -> None:
        self.local_users = users(self.domain, self.rng)

    def inbound(self, t: dt.datetime, *, refusal: str | None = None) -> Session:
        host, _ip, their = self.rng.choice(PARTNERS)
        rcpts = [
            Rcpt(a, 550, refusal) if refusal else Rcpt(a)
            for a in self.rng.sample(self.local_users, self.rng.choice([1, 1, 1, 2, 3]))
        ]
        sender = f"{self.rng.choice(FIRST)}.{self.rng.choice(LAST)}@{their}"
        s = Session("inbound", t, host, host, sender, rcpts)
        s.esmtp = self.rng.random() < 0.6  # 1999-era MTAs often still said HELO
        return s

    def outbound(
        self, t: dt.datetime, *, via: tuple[str, str] | None = None, refusal: str | None = None
    ) -> Session:
        address, banner = via or self.rng.choice(REMOTE_MX)
        their = banner.split()[0].split(".", 1)[1]
        targets = [
            f"{self.rng.choice(FIRST)}.{self.rng.choice(LAST)}@{their}"
            for _ in range(self.rng.choice([1, 1, 2]))
        ]
        rcpts = [Rcpt(a, 550, refusal.format(rcpt=a)) if refusal else Rcpt(a) for a in targets]
        s = Session(
            "outbound",
            t,
            address,
            f"{self.server}.{self.domain}",
            self.rng.choice(self.local_users),
            rcpts,
            banner=banner,
            subject=self.rng.choice(SUBJECTS),
        )
        return s

    def client(
        self,
        t: dt.datetime,
        ip: str,
        *,
        accepted: bool,
        refusal: str = "Relaying is prohibited",
        auth: bool = False,
    ) -> Session:
        """An internal POP3/IMAP client submitting mail for the Internet over SMTP."""
        target = f"{self.rng.choice(FIRST)}@{self.rng.choice(PARTNERS)[2]}"
        rcpt = Rcpt(target) if accepted else Rcpt(target, 550, refusal)
        user = self.rng.choice(self.local_users)
        s = Session("inbound", t, ip, f"[{ip}]", user, [rcpt])
        if auth:
            s.auth_user = (self.domain.split(".")[0], user.split("@")[0])
        return s


def _spread(rng: random.Random, days: list[dt.date], n: int) -> list[dt.datetime]:
    return sorted(business_time(rng, rng.choice(days)) for _ in range(n))


# --- the scenarios ------------------------------------------------------------------
D = dt.datetime
Q179289_CRASH = D(1997, 12, 2, 17, 27, 29)  # Dr. Watson's time for the IMS
Q243045_RESTART = D(1999, 10, 27, 14, 2)  # the restart that puts the change into effect


def healthy(rng: random.Random) -> tuple[Site, list[Session]]:
    site = Site("MAIL01", "fabrikam.example", "5.5.2650.21", rng)
    days = [dt.date(2000, 3, 14), dt.date(2000, 3, 15)]
    sessions = [site.inbound(t) for t in _spread(rng, days, 170)]
    sessions += [site.outbound(t) for t in _spread(rng, days, 100)]
    sessions += [
        site.client(t, f"192.168.10.{rng.randint(20, 90)}", accepted=True, auth=True)
        for t in _spread(rng, days, 30)
    ]
    # Two lone relay probes, refused as they should be: nothing to report.
    sessions += [
        Session(
            "inbound",
            t,
            "203.0.113.66",
            "probe",
            "x@nowhere.example",
            [Rcpt("victim@elsewhere.example", 550, "Relaying is prohibited")],
            data=False,
        )
        for t in _spread(rng, days[:1], 2)
    ]
    # A remote host down for a while: the IMS gives up and reschedules.
    for t in _spread(rng, days[1:], 3):
        s = site.outbound(t)
        s.rcpts = [Rcpt(r.address, 451, "Requested action aborted: local error") for r in s.rcpts]
        s.reschedule = f"499 No routing hosts are reachable for {s.rcpts[0].address.split('@')[1]}."
        sessions.append(s)
    return site, sessions


def q256856(rng: random.Random) -> tuple[Site, list[Session]]:
    site = Site("MAIL01", "contoso.example", "5.5.2650.21", rng)
    mon, tue = dt.date(2000, 5, 15), dt.date(2000, 5, 16)
    change = dt.datetime(2000, 5, 16, 9, 0)
    sessions = []
    for t in _spread(rng, [mon, tue], 220):
        sessions.append(site.inbound(t, refusal="Relaying is prohibited" if t >= change else None))
    sessions += [site.outbound(t) for t in _spread(rng, [mon, tue], 90)]
    return site, sessions


def q206968(rng: random.Random) -> tuple[Site, list[Session]]:
    site = Site("EXCH01", "litware.example", "5.5.2232.0", rng)
    mon, tue = dt.date(2000, 2, 7), dt.date(2000, 2, 8)
    change = dt.datetime(2000, 2, 8, 10, 30)
    sessions = [site.inbound(t) for t in _spread(rng, [mon, tue], 140)]
    for t in _spread(rng, [mon, tue], 120):
        ip = f"192.168.20.{rng.randint(10, 60)}"
        sessions.append(site.client(t, ip, accepted=t < change))
    sessions += [site.outbound(t) for t in _spread(rng, [mon], 60)]
    return site, sessions


def q243045(rng: random.Random) -> tuple[Site, list[Session]]:
    site = Site("MAIL02", "adatum.example", "5.5.2650.21", rng)
    tue, wed = dt.date(1999, 10, 26), dt.date(1999, 10, 27)
    sessions = [site.inbound(t) for t in _spread(rng, [tue, wed], 130)]
    # Allowed by the routing restriction: 192.168.42.0/24. The switch to "Do not
    # reroute" on Wednesday 14:00 should stop them, and does not.
    for t in _spread(rng, [tue, wed], 110):
        sessions.append(site.client(t, f"192.168.42.{rng.randint(2, 30)}", accepted=True))
    for t in _spread(rng, [tue, wed], 40):
        sessions.append(site.client(t, f"192.168.50.{rng.randint(2, 30)}", accepted=False))
    sessions += [site.outbound(t) for t in _spread(rng, [tue, wed], 60)]
    return site, sessions


def q179289(rng: random.Random) -> tuple[Site, list[Session]]:
    site = Site("EXCHSRV", "woodgrove.example", "5.5.1960.4", rng)
    tue, wed = dt.date(1997, 12, 2), dt.date(1997, 12, 3)
    crash = Q179289_CRASH
    back = dt.datetime(1997, 12, 2, 19, 5, 0)
    sessions = []
    times = _spread(rng, [tue, wed], 240)
    for t in times:
        if crash <= t < back:
            continue  # the service is down: nothing is logged
        sessions.append(site.inbound(t) if rng.random() < 0.65 else site.outbound(t))
    # The connections open when the service died stop mid-session.
    for seconds in (-40, -12, -3):
        s = site.inbound(crash + dt.timedelta(seconds=seconds))
        s.cut_after = rng.choice([4, 9, 12])
        sessions.append(s)
    return site, sessions


def q168781(rng: random.Random) -> tuple[Site, list[Session]]:
    site = Site("MAILGATE", "tailspin.example", "5.0.1460.8", rng)
    mon, tue = dt.date(1999, 6, 7), dt.date(1999, 6, 8)
    start = dt.datetime(1999, 6, 8, 8, 12)
    smarthost = ("192.0.2.25", "relay.isp-west.example ESMTP Sendmail 8.8.8/8.8.8; ready")
    sessions = [site.inbound(t) for t in _spread(rng, [mon, tue], 150)]
    for t in _spread(rng, [mon, tue], 140):
        refusal = "Relaying mail to <{rcpt}> is not allowed." if t >= start else None
        sessions.append(site.outbound(t, via=smarthost, refusal=refusal))
    return site, sessions


# --- the configuration evidence of each scenario ------------------------------------
ROUTING = "IMS Routing tab"


def _directory_and_changes(
    site: Site, root: Path, rows: list[tuple[dt.datetime, str, str, str, str, str]]
) -> None:
    """What every scenario's admin collected: the directory export and the change log."""
    ev.gal(site.local_users, root / "directory" / "gal-export.csv")
    ev.changes(rows, root / "notes" / "changes.csv")


def evidence_healthy(site: Site, sessions: list[Session], root: Path) -> None:
    _directory_and_changes(
        site,
        root,
        [
            (
                D(2000, 3, 15, 11, 55),
                "IMS Diagnostics Logging",
                "SMTP Protocol Log",
                "Medium",
                "Maximum",
                "more detail while testing the new firewall",
            )
        ],
    )
    ev.registry({"RelayFlags": 8}, root / "registry" / "imc-2000-03-14T0800.reg", unicode=False)


def evidence_q256856(site: Site, sessions: list[Session], root: Path) -> None:
    _directory_and_changes(
        site,
        root,
        [
            (
                D(2000, 5, 16, 9, 0),
                ROUTING,
                "reroute",
                "Reroute incoming SMTP mail",
                "Do not reroute incoming SMTP mail",
                "left the routing restrictions in place",
            ),
            (D(2000, 5, 16, 9, 1), "IMS", "service", "running", "restarted", "to apply the change"),
            (
                D(2000, 5, 16, 10, 25),
                "IMS Diagnostics Logging",
                "SMTP Protocol Log",
                "Medium",
                "Maximum",
                "customers report 550 Relaying is prohibited",
            ),
        ],
    )
    allow = ["192.168.1.0;255.255.255.0"]
    ev.registry(
        {"RelayFlags": 2, "RelayAllowList": allow},
        root / "registry" / "imc-2000-05-16T1030.reg",
        unicode=True,
    )
    # Two customers forward the bounce their own servers sent them.
    refused = [x for x in sessions if x.direction == "inbound" and x.rcpts[0].code >= 400]
    for i, x in enumerate(refused[:2], 1):
        ev.customer_bounce(
            x, f"{site.server}.{site.domain}", "198.51.100.5", root / "ndr" / f"bounce-{i}.eml"
        )
    ev.events(
        ev.service_cycle(D(2000, 5, 16, 9, 1)), site.server, root / "eventlogs" / "application.txt"
    )


def evidence_q206968(site: Site, sessions: list[Session], root: Path) -> None:
    _directory_and_changes(
        site,
        root,
        [
            (
                D(2000, 2, 8, 10, 30),
                ROUTING,
                "reroute",
                "Reroute incoming SMTP mail",
                "Do not reroute incoming SMTP mail",
                "rerouting is no longer needed",
            )
        ],
    )
    allow = ["192.168.20.0;255.255.255.0"]
    for stamp in ("2000-02-07T1700", "2000-02-08T1400"):
        ev.registry(
            {"RelayFlags": 2, "RelayAllowList": allow},
            root / "registry" / f"imc-{stamp}.reg",
            unicode=True,
        )
    ev.events(
        ev.service_cycle(D(2000, 2, 8, 10, 31)), site.server, root / "eventlogs" / "application.txt"
    )


def evidence_q243045(site: Site, sessions: list[Session], root: Path) -> None:
    _directory_and_changes(
        site,
        root,
        [
            (
                D(1999, 10, 27, 14, 0),
                ROUTING,
                "reroute",
                "Reroute incoming SMTP mail",
                "Do not reroute incoming SMTP mail",
                "stop all relaying",
            ),
            (Q243045_RESTART, "IMS", "service", "running", "restarted", ""),
        ],
    )
    allow = ["192.168.42.0;255.255.255.0"]
    for stamp in ("1999-10-26T0900", "1999-10-27T1500"):
        ev.registry(
            {"RelayFlags": 2, "RelayAllowList": allow},
            root / "registry" / f"imc-{stamp}.reg",
            unicode=False,
        )
    ev.events(
        ev.service_cycle(Q243045_RESTART),
        site.server,
        root / "eventlogs" / "application.txt",
    )


def evidence_q179289(site: Site, sessions: list[Session], root: Path) -> None:
    _directory_and_changes(
        site,
        root,
        [
            (
                D(1997, 12, 2, 17, 20),
                "Registry",
                "RelayFlags",
                "",
                "2",
                "with RelayAllowList 192.168.42.1 and 192.168.42.2",
            ),
            (D(1997, 12, 2, 17, 27), "IMS", "service", "running", "restarted", "did not come back"),
            (
                D(1997, 12, 2, 19, 3),
                "Registry",
                "RelayFlags",
                "2",
                "",
                "removed RelayFlags and RelayAllowList",
            ),
        ],
    )
    ev.registry({}, root / "registry" / "imc-1997-12-01T1200.reg", unicode=False)
    ev.registry(
        {"RelayFlags": 2, "RelayAllowList": ["192.168.42.1", "192.168.42.2"]},
        root / "registry" / "imc-1997-12-02T1720.reg",
        unicode=False,
    )
    ev.registry({}, root / "registry" / "imc-1997-12-02T1904.reg", unicode=False)
    crash = Q179289_CRASH
    rows = [
        (
            D(1997, 12, 2, 17, 27, 1),
            "MSExchangeIMC",
            "Information",
            "Service Control",
            1001,
            "The Internet Mail Service was shut down successfully.",
        ),
        (
            crash,
            "DrWatson",
            "Information",
            "None",
            4097,
            "The application, exe\\MSEXCIMC.dbg, generated an application error The error occurred "
            "on 12/ 2/1997 @ 17:27:29.240 The exception generated was c0000005 at address 77f64654 "
            "(RtlAllocateHeap)",
        ),
        (
            crash + dt.timedelta(seconds=3),
            "Service Control Manager",
            "Error",
            "None",
            7031,
            "The Microsoft Exchange Internet Mail Service service terminated unexpectedly.",
        ),
        (
            D(1997, 12, 2, 17, 41, 10),
            "Service Control Manager",
            "Error",
            "None",
            7024,
            "Could not start the Microsoft Exchange Internet Mail Service service on \\\\EXCHSRV. "
            "Error 1067: The process terminated unexpectedly.",
        ),
        (
            D(1997, 12, 2, 19, 5),
            "MSExchangeIMC",
            "Information",
            "Service Control",
            1000,
            "The Internet Mail Service started successfully.",
        ),
    ]
    ev.events(rows, site.server, root / "eventlogs" / "application.txt")


def evidence_q168781(site: Site, sessions: list[Session], root: Path) -> TrackingTruth:
    _directory_and_changes(
        site,
        root,
        [
            (
                D(1999, 6, 8, 9, 25),
                "IMS Diagnostics Logging",
                "all categories",
                "None",
                "Maximum",
                "users report immediate NDRs for Internet mail (step 3 of Q168781)",
            )
        ],
    )
    ev.events(
        ev.refused_outbound_events(sessions), site.server, root / "eventlogs" / "application.txt"
    )
    # Users forward the immediate NDRs the IMS sent them.
    refused = [x for x in sessions if x.direction == "outbound" and x.rcpts[0].code >= 400]
    for i, x in enumerate(refused[:3], 1):
        ev.ims_ndr(
            x,
            f"{site.server}.{site.domain}",
            "Tailspin Toys",
            "Head Office",
            site.build,
            site.domain,
            root / "ndr" / f"undeliverable-{i}.eml",
        )
    # Exchange 5.0 has no relay settings: the snapshot shows the parameters it has.
    ev.registry({"MaxRecipients": 0}, root / "registry" / "imc-1999-06-08T1000.reg", unicode=False)
    # Message tracking was on: every message's path, in GMT (the server runs on -0500).
    return trackinggen.write_5x(
        sessions,
        root,
        org="Tailspin Toys",
        site="Head Office",
        server=f"{site.server}.{site.domain}",
        gmt_hours=5,
    )


def evidence_postfix_local(site: Site, sessions: list[Session], root: Path) -> None:
    _directory_and_changes(
        site,
        root,
        [
            (
                D(2000, 5, 16, 9, 0),
                "Postfix main.cf",
                "mydestination",
                f"$myhostname, localhost, {site.domain}",
                "$myhostname, localhost",
                f"moved {site.domain} to the new store; forgot relay_domains",
            ),
            (D(2000, 5, 16, 9, 1), "Postfix", "service", "running", "reloaded", ""),
        ],
    )


def evidence_exchange_local(site: Site, sessions: list[Session], root: Path) -> None:
    _directory_and_changes(
        site,
        root,
        [
            (
                D(2000, 5, 16, 9, 0),
                "Exchange accepted domains",
                f"AcceptedDomain {site.domain}",
                "Authoritative",
                "(removed)",
                "Remove-AcceptedDomain while tidying up after the migration",
            )
        ],
    )


def evidence_postfix_after_change(site: Site, sessions: list[Session], root: Path) -> None:
    """Q243045's story on Postfix: the old LAN taken out of mynetworks; the reload that
    puts it into effect is in the log (Scenario.reloads), not in the change log."""
    _directory_and_changes(
        site,
        root,
        [
            (
                D(1999, 10, 27, 14, 0),
                "Postfix main.cf",
                "mynetworks",
                "127.0.0.0/8, 192.168.42.0/24",
                "127.0.0.0/8",
                "stop relaying for the old LAN",
            ),
        ],
    )


def evidence_exchange_not_allowed(site: Site, sessions: list[Session], root: Path) -> None:
    """Q206968's story on Exchange 2013: the relay connector's range moved to the new
    wireless network, and the POP3/IMAP users' LAN fell out of it."""
    _directory_and_changes(
        site,
        root,
        [
            (
                D(2000, 2, 8, 10, 30),
                "Exchange Receive connector 'Relay LAN'",
                "RemoteIPRanges",
                "192.168.20.0/24",
                "192.168.30.0/24",
                "Set-ReceiveConnector for the new wireless network",
            )
        ],
    )


def evidence_smarthost(site: Site, sessions: list[Session], root: Path) -> None:
    """Postfix or Exchange 2013 sending through a provider's relay: the logs and the
    directory are all the admin collected."""
    ev.gal(site.local_users, root / "directory" / "gal-export.csv")


def evidence_exchange_smarthost(site: Site, sessions: list[Session], root: Path) -> TrackingTruth:
    """The Exchange 2013 admin also collected the message tracking log."""
    evidence_smarthost(site, sessions, root)
    return trackinggen.write_2013(
        sessions, root, server=f"{site.server}.{site.domain}", address=EXCHANGE_ADDRESS
    )


# --- what each scenario must yield ----------------------------------------------


@dataclass
class Expected:
    """A finding a scenario must yield, computed from what the generator wrote (the
    RCPT replies with the times on their lines), not from what the parser read."""

    rule: str
    subject: str
    count: int
    first: dt.datetime
    last: dt.datetime


def _expect(rule: str, subject: str, replies: list[Reply]) -> Expected:
    times = [r.time for r in replies]
    return Expected(rule, subject, len(replies), min(times), max(times))


def expect_nothing(site: Site, truth: Truth) -> list[Expected]:
    return []


def expect_q256856(site: Site, truth: Truth) -> list[Expected]:
    refused = [r for r in truth.replies if r.session.direction == "inbound" and not r.rcpt.accepted]
    return [_expect("relay-prohibited-local-recipient", site.domain, refused)]


def expect_q206968(site: Site, truth: Truth) -> list[Expected]:
    refused = [
        r
        for r in truth.replies
        if r.session.remote_host.startswith("192.168.20.") and not r.rcpt.accepted
    ]
    return [_expect("relay-not-allowed-relayflags", f"{site.server}.{site.domain}", refused)]


def expect_q243045(site: Site, truth: Truth) -> list[Expected]:
    # Relays after the restart that put 'Do not reroute' into effect.
    relayed = [
        r
        for r in truth.replies
        if r.session.remote_host.startswith("192.168.42.")
        and r.rcpt.accepted
        and r.time > Q243045_RESTART
    ]
    return [_expect("unexpected-relay-after-change", "192.168.42.0/24", relayed)]


def expect_q179289(site: Site, truth: Truth) -> list[Expected]:
    # Dr. Watson, SCM 7031 and SCM 7024 (see evidence_q179289).
    return [
        Expected("ims-crash-relayflags", site.server, 3, Q179289_CRASH, D(1997, 12, 2, 17, 41, 10))
    ]


def expect_q168781(site: Site, truth: Truth) -> list[Expected]:
    refused = [
        r for r in truth.replies if r.session.direction == "outbound" and not r.rcpt.accepted
    ]
    return [_expect("immediate-outbound-550", "192.0.2.25", refused)]


@dataclass
class Scenario:
    name: str
    kb: str
    build: Callable[[random.Random], tuple[Site, list[Session]]]
    maximum_from: dt.datetime | None  # the admin raised logging to Maximum then
    # Writes the rest of the evidence; returns what it wrote of tracking logs, if any.
    evidence: Callable[[Site, list[Session], Path], TrackingTruth | None]
    expect: Callable[[Site, Truth], list[Expected]]
    # Which server's logs: ims (L*.LOG files), postfix (mail.log), exchange (Exchange
    # 2013 protocol logs) or w3c (the Exchange 2003 SMTP virtual server's IIS log).
    log: str = "ims"
    reloads: tuple[dt.datetime, ...] = ()  # `postfix reload`, as Postfix's log says it


SCENARIOS = [
    Scenario(
        "healthy-baseline",
        "",
        healthy,
        dt.datetime(2000, 3, 15, 12, 0),
        evidence_healthy,
        expect_nothing,
    ),
    Scenario(
        "q256856-relay-prohibited-local",
        "Q256856",
        q256856,
        dt.datetime(2000, 5, 16, 10, 30),
        evidence_q256856,
        expect_q256856,
    ),
    Scenario(
        "q206968-relay-not-allowed-relayflags",
        "Q206968",
        q206968,
        dt.datetime(2000, 2, 8, 13, 0),
        evidence_q206968,
        expect_q206968,
    ),
    Scenario(
        "q243045-relay-after-change",
        "Q243045",
        q243045,
        dt.datetime(1999, 10, 27, 9, 0),
        evidence_q243045,
        expect_q243045,
    ),
    Scenario(
        "q179289-ims-crash-relayflags",
        "Q179289",
        q179289,
        dt.datetime(1997, 12, 2, 12, 0),
        evidence_q179289,
        expect_q179289,
    ),
    Scenario(
        "postfix-relay-denied-local",
        "Q256856",
        q256856,
        None,
        evidence_postfix_local,
        expect_q256856,
        log="postfix",
    ),
    Scenario(
        "exchange2013-relay-denied-local",
        "Q256856",
        q256856,
        None,
        evidence_exchange_local,
        expect_q256856,
        log="exchange",
    ),
    Scenario(
        "exchange2013-smarthost-relay-denied",
        "Q168781",
        q168781,
        None,
        evidence_exchange_smarthost,
        expect_q168781,
        log="exchange",
    ),
    Scenario(
        "postfix-smarthost-relay-denied",
        "Q168781",
        q168781,
        None,
        evidence_smarthost,
        expect_q168781,
        log="postfix",
    ),
    Scenario(
        "postfix-relay-after-change",
        "Q243045",
        q243045,
        None,
        evidence_postfix_after_change,
        expect_q243045,
        log="postfix",
        reloads=(Q243045_RESTART,),
    ),
    Scenario(
        "exchange2013-relay-not-allowed",
        "Q206968",
        q206968,
        None,
        evidence_exchange_not_allowed,
        expect_q206968,
        log="exchange",
    ),
    Scenario(
        "exchange2003-smarthost-relay-denied",
        "Q168781",
        q168781,
        None,
        evidence_smarthost,
        expect_q168781,
        log="w3c",
    ),
    Scenario(
        "q168781-immediate-outbound-550",
        "Q168781",
        q168781,
        dt.datetime(1999, 6, 8, 9, 30),
        evidence_q168781,
        expect_q168781,
    ),
]


def write_scenario(scenario: Scenario, root: Path, *, seed: int = 7) -> Truth:
    """Write one scenario's logs (in the layout of its server) and the rest of its
    evidence under ``root``, and return its truth."""
    rng = random.Random(f"{scenario.name}/{seed}")
    site, sessions = scenario.build(rng)
    sessions.sort(key=lambda s: s.start)
    for s in sessions:
        s.maximum = scenario.maximum_from is not None and s.start >= scenario.maximum_from
    truth = _write_logs(scenario, site, sessions, root, rng)
    truth.tracking = scenario.evidence(site, sessions, root)
    truth.expected = scenario.expect(site, truth)
    return truth


def _write_logs(
    scenario: Scenario, site: Site, sessions: list[Session], root: Path, rng: random.Random
) -> Truth:
    fqdn = f"{site.server}.{site.domain}"
    if scenario.log in ("exchange", "w3c"):
        kind = ExchangeWriter if scenario.log == "exchange" else W3cWriter
        writer = kind(fqdn, EXCHANGE_ADDRESS, address_of, rng)
        for s in sessions:
            writer.add(s)
        return writer.write(root)
    if scenario.log == "postfix":
        postfix = PostfixWriter(site.server.lower(), {site.domain}, address_of, rng)
        for s in sessions:
            postfix.add(s)
        for t in scenario.reloads:
            postfix.reload(t)
        return postfix.write(root / "var" / "log" / "mail.log")
    ims = ImsWriter(fqdn, site.build, rng)
    folder = LogFolder(root / "imcdata" / "log")
    i = 0
    while i < len(sessions):
        # Now and then the IMS reuses a file: several sessions in one.
        take = 3 if rng.random() < 0.04 else 1
        folder.write(ims, sessions[i : i + take])
        i += take
    return folder.truth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("sample_logs"))
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    for scenario in SCENARIOS:
        truth = write_scenario(scenario, args.out / scenario.name, seed=args.seed)
        print(
            f"{scenario.name}: {truth.files} files, {truth.lines} lines, "
            f"sessions {dict(truth.sessions)}, RCPTs {truth.rcpts}, refused {truth.refused}"
        )


if __name__ == "__main__":
    main()
