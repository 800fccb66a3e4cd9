"""What every rule needs to know besides the frames, worked out once.

The relay attempts with everything known about their client (authenticated, inside
an allow-list entry, a private address), the relay settings the registry shows at a
given time, the changes (the admin's log, registry snapshots that differ, service
restarts), the analysed server's name and version. Rules see frames only (DESIGN
principle 4): nothing here knows which log format a row came from.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import polars as pl

from forensics.core.frames import Frames
from forensics.knowledge import load

_OCTETS = r"^\[?(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\]?$"
# Private, loopback and link-local IPv4 ranges as (network, mask).
_PRIVATE = [
    (0x0A000000, 0xFF000000),
    (0xAC100000, 0xFFF00000),
    (0xC0A80000, 0xFFFF0000),
    (0x7F000000, 0xFF000000),
    (0xA9FE0000, 0xFFFF0000),
]
PARAMETERS = "MSExchangeIMC\\Parameters\\"
# A client whose connection line named nothing usable: still a subject of its own.
UNNAMED_CLIENT = "(unnamed client)"


def ipv4_int(text: pl.Expr) -> pl.Expr:
    """``a.b.c.d`` (or ``[a.b.c.d]``) as an integer; null for anything else."""
    parts = text.str.extract_groups(_OCTETS)
    octets = [parts.struct.field(str(i)).cast(pl.Int64, strict=False) for i in range(1, 5)]
    valid = pl.all_horizontal([(o <= 255) for o in octets])
    value = octets[0] * 16777216 + octets[1] * 65536 + octets[2] * 256 + octets[3]
    return pl.when(valid).then(value)


def is_private(ip: pl.Expr) -> pl.Expr:
    return pl.any_horizontal([(ip.and_(pl.lit(mask)) == net) for net, mask in _PRIVATE])


# An allow-list entry as the IMS (a.b.c.d;mask), Postfix (a.b.c.d/nn) or a change
# log (either, or a bare address) writes it.
_NETWORK = r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}(?:[/;](?:[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9]{1,2}))?"


def _mask_text(mask: int) -> str:
    bits = bin(mask).count("1")
    contiguous = mask == ((0xFFFFFFFF << (32 - bits)) & 0xFFFFFFFF)
    return str(bits) if contiguous else ".".join(str(mask >> s & 255) for s in (24, 16, 8, 0))


def _dotted(value: int) -> str:
    return ".".join(str(value >> s & 255) for s in (24, 16, 8, 0))


@dataclass
class Change:
    """A change a finding can be tied to."""

    time: dt.datetime
    text: str
    origin: str  # changelog | registry | eventlog | inferred
    ts_quality: str
    source: str | None = None
    line: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "time": self.time.isoformat(timespec="seconds"),
            "text": self.text,
            "origin": self.origin,
            "ts_quality": self.ts_quality,
            "source": self.source,
            "line": self.line,
        }

    def cite(self) -> str:
        where = f" ({self.source}:{self.line})" if self.source else ""
        return f"the change at {self.time:%Y-%m-%d %H:%M}, {self.text}{where}"


class Context:
    def __init__(
        self,
        frames: Frames,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
    ) -> None:
        self.frames = frames
        self.since, self.until = since, until
        self.settings: dict[str, Any] = load("rules")["context"]

    # --- the window -------------------------------------------------------------
    def _window(self, frame: pl.DataFrame, column: str = "ts") -> pl.DataFrame:
        if self.since is not None:
            frame = frame.filter(pl.col(column) >= self.since)
        if self.until is not None:
            frame = frame.filter(pl.col(column) <= self.until)
        return frame

    @cached_property
    def sessions(self) -> pl.DataFrame:
        return self._window(self.frames.sessions, "start")

    @cached_property
    def ndrs(self) -> pl.DataFrame:
        """NDR rows in the window, with ``rcpt_domain``, ``local`` (as in
        recipients), ``in_directory`` and ``domain_origin``."""
        ndrs = self._window(self.frames.ndrs).with_columns(
            pl.col("recipient").str.to_lowercase().str.extract(r"@([^@>\s]+)$").alias("rcpt_domain")
        )
        domains = self.frames.domains.select(pl.col("domain").alias("rcpt_domain"), "origin")
        known = self.frames.domains["domain"].to_list()
        directory = self.frames.directory["address"].unique().to_list()
        return (
            ndrs.join(domains, on="rcpt_domain", how="left", maintain_order="left")
            .rename({"origin": "domain_origin"})
            .with_columns(
                (pl.col("rcpt_domain").is_in(known) if known else pl.lit(None, pl.Boolean)).alias(
                    "local"
                ),
                pl.col("recipient").str.to_lowercase().is_in(directory).alias("in_directory"),
            )
        )

    def is_this_server(self, host: pl.Expr) -> pl.Expr:
        """Whether ``host`` names the analysed server (its first label, any case)."""
        if not self.server:
            return pl.lit(False)
        short = self.server.split(".")[0].lower()
        return host.str.to_lowercase().str.split(".").list.first() == short

    @cached_property
    def paths(self) -> pl.DataFrame:
        """Message paths (tracking logs joined with sessions and NDRs) that began in
        the window, with ``ts`` (the first event) for the evidence tables."""
        return self._window(self.frames.paths, "first_ts").with_columns(
            pl.col("first_ts").alias("ts")
        )

    @cached_property
    def service_events(self) -> pl.DataFrame:
        return self._window(self.frames.service_events)

    # --- the relay settings -----------------------------------------------------
    @cached_property
    def registry(self) -> pl.DataFrame:
        return self.frames.config.filter(
            (pl.col("origin") == "registry") & pl.col("key").str.starts_with(PARAMETERS)
        ).with_columns(pl.col("key").str.strip_prefix(PARAMETERS).alias("name"))

    @cached_property
    def registry_seen(self) -> str | None:
        """The first registry snapshot of the IMS parameters, when there is one: a
        value missing from it is absent (for RelayFlags: no restriction)."""
        first = self.registry.sort("ts", "source", "line")
        return str(first["source"][0]) if first.height else None

    def registry_value(self, name: str, at: dt.datetime | None) -> dict[str, Any] | None:
        """The registry row of value ``name`` in force at ``at``: the latest snapshot
        at or before it, else the first one after it (snapshots are often taken after
        the incident, and the relay values seldom change). None without a snapshot."""
        rows = self.registry.filter(pl.col("name") == name).sort("ts", "source", "line")
        if rows.height == 0:
            return None
        if at is not None:
            before = rows.filter(pl.col("ts") <= at)
            if before.height:
                return before.row(-1, named=True)
        return rows.row(0, named=True)

    def relayflags(self, at: dt.datetime | None) -> tuple[int | None, dict[str, Any] | None]:
        row = self.registry_value("RelayFlags", at)
        if row is None or row["new"] is None:
            return None, row
        try:
            return int(row["new"], 0), row
        except ValueError:
            return None, row

    @cached_property
    def allow_entries(self) -> pl.DataFrame:
        """Every network allowed to relay that the evidence names: the RelayAllowList
        entries of any registry snapshot, and the networks of change-log rows about an
        allow list (old and new values: allowed before the change or after it).
        Columns net, mask (integers) and label."""
        listed = self.registry.filter(
            (pl.col("name") == "RelayAllowList") & pl.col("new").is_not_null()
        ).select(pl.col("new").alias("text"))
        logged = self.frames.config.filter(
            (pl.col("origin") == "changelog") & self._about_allow_list()
        )
        texts = pl.concat(
            [listed, logged.select(pl.col("old").alias("text")), logged.select(text="new")]
        )
        prefix_masks = {n: (0xFFFFFFFF << (32 - n)) & 0xFFFFFFFF for n in range(33)}
        entries = (
            texts.select(pl.col("text").str.extract_all(_NETWORK).alias("entry"))
            .explode("entry")
            .drop_nulls("entry")
            .with_columns(pl.col("entry").str.replace("/", ";").str.split(";").alias("p"))
            .with_columns(pl.col("p").list.get(1, null_on_oob=True).alias("m"))
            .with_columns(
                ipv4_int(pl.col("p").list.get(0)).alias("net"),
                pl.when(pl.col("m").is_null())
                .then(pl.lit(0xFFFFFFFF, pl.Int64))
                .when(pl.col("m").str.contains(".", literal=True))
                .then(ipv4_int(pl.col("m")))
                .otherwise(
                    pl.col("m")
                    .cast(pl.Int64, strict=False)
                    .replace_strict(prefix_masks, default=None, return_dtype=pl.Int64)
                )
                .alias("mask"),
            )
            .drop_nulls(["net", "mask"])
            .unique(["net", "mask"])
            .sort("net", "mask")
        )
        labels = [
            f"{_dotted(net & mask)}/{_mask_text(mask)}"
            for net, mask in zip(entries["net"].to_list(), entries["mask"].to_list(), strict=True)
        ]
        return entries.select("net", "mask").with_columns(pl.Series("label", labels, pl.String))

    # --- the relay attempts -----------------------------------------------------
    @cached_property
    def recipients(self) -> pl.DataFrame:
        """Recipients in the window, with their session's client facts and where the
        recipient's locality comes from: ``auth_user``, ``data_accepted``,
        ``remote_host``, ``ip`` (integer), ``private``, ``allow_entry`` (label of the
        first allow-list entry holding the client), ``in_directory``,
        ``domain_origin``."""
        recipients = self._window(self.frames.recipients)
        sessions = self.frames.sessions.select(
            "session", "remote_host", "auth_user", "data_accepted", "outcome", "local_host", "helo"
        )
        out = recipients.join(sessions, on="session", how="left", maintain_order="left")
        out = out.with_columns(ipv4_int(pl.coalesce("remote_ip", "remote_host")).alias("ip"))
        out = out.with_columns(
            is_private(pl.col("ip")).fill_null(False).alias("private"),
            pl.coalesce("remote_ip", "remote_host", pl.lit(UNNAMED_CLIENT)).alias("client"),
        )
        ips = out.select("ip").drop_nulls().unique()
        allowed = (
            ips.join(self.allow_entries, how="cross")
            .filter(pl.col("ip").and_(pl.col("mask")) == pl.col("net").and_(pl.col("mask")))
            .sort("ip", "mask", descending=[False, True])
            .unique("ip", keep="first")
            .select("ip", pl.col("label").alias("allow_entry"))
        )
        out = out.join(allowed, on="ip", how="left", maintain_order="left")
        directory = self.frames.directory["address"].unique()
        domains = self.frames.domains.select(pl.col("domain").alias("rcpt_domain"), "origin")
        out = out.join(domains, on="rcpt_domain", how="left", maintain_order="left")
        return out.rename({"origin": "domain_origin"}).with_columns(
            pl.col("rcpt").str.to_lowercase().is_in(directory.to_list()).alias("in_directory")
        )

    @cached_property
    def local_known(self) -> bool:
        """Whether any local domain is known: without one nothing is 'foreign'."""
        return self.frames.domains.height > 0

    @cached_property
    def domains_given(self) -> bool:
        return self.frames.domains.filter(pl.col("origin") != "inferred").height > 0

    def relay_attempts(self) -> pl.DataFrame:
        """Inbound RCPTs to domains that are not local: requests to relay."""
        return self.recipients.filter(
            (pl.col("direction") == "inbound") & (pl.col("local") == False)  # noqa: E712
        )

    # --- changes ----------------------------------------------------------------
    @cached_property
    def changes(self) -> pl.DataFrame:
        """Config rows that record a change: every change-log row; registry rows whose
        value differs from the previous snapshot of the same key (a value that first
        appears in a later snapshot is a change too; the first snapshot is not)."""
        config = self.frames.config
        log = config.filter(pl.col("origin").is_in(["changelog", "inferred"]))
        registry = config.filter(pl.col("origin") == "registry")
        first = registry.group_by(pl.col("key").str.replace(r"\\[^\\]*$", "").alias("parent")).agg(
            pl.col("ts").min().alias("first_ts")
        )
        differs = (
            registry.with_columns(pl.col("key").str.replace(r"\\[^\\]*$", "").alias("parent"))
            .join(first, on="parent", how="left", maintain_order="left")
            .filter(pl.col("old").ne_missing(pl.col("new")) & (pl.col("ts") > pl.col("first_ts")))
            .drop("parent", "first_ts")
        )
        return pl.concat([log, differs]).sort("ts", "source", "line", nulls_last=True)

    def stop_relay_changes(self) -> pl.DataFrame:
        """Logged changes meant to stop rerouting or relaying (the switch to 'Do not
        reroute incoming SMTP mail', relaying disabled)."""
        return self.changes.filter(self._logged() & self._says_stop_relay())

    def tightening_changes(self) -> pl.DataFrame:
        """The stop_relay_changes, and changes of an allow list that took a network
        out of it (mynetworks without the old LAN): after either, clients that relayed
        before may be refused, or should be."""
        networks = {
            side: pl.col(side).fill_null("").str.extract_all(_NETWORK) for side in ("old", "new")
        }
        narrowed = self._about_allow_list() & (
            networks["old"].list.set_difference(networks["new"]).list.len() > 0
        )
        return self.changes.filter(self._logged() & (self._says_stop_relay() | narrowed))

    def _about_allow_list(self) -> pl.Expr:
        """A config row whose setting is an allow list (rules.toml allow_list_setting)."""
        return pl.col("key").str.contains("(?i)" + self.settings["allow_list_setting"])

    def _logged(self) -> pl.Expr:
        return (pl.col("origin") == "changelog") & pl.col("ts").is_not_null()

    def _says_stop_relay(self) -> pl.Expr:
        return pl.col("new").fill_null("").str.contains("(?i)" + self.settings["stop_relay"])

    def recent_changes(self, at: dt.datetime | None, hours: float) -> pl.DataFrame:
        """Logged changes (change log, registry differences) in the hours before ``at``."""
        if at is None:
            return self.changes.clear()
        return self.changes.filter(
            (pl.col("origin") != "inferred")
            & pl.col("ts").is_between(at - dt.timedelta(hours=hours), at)
        )

    def change_before(self, at: dt.datetime | None, frame: pl.DataFrame) -> Change | None:
        """The latest row of ``frame`` at or before ``at`` as a Change."""
        if at is None or frame.height == 0:
            return None
        before = frame.filter(pl.col("ts") <= at)
        if before.height == 0:
            return None
        return as_change(before.row(-1, named=True))

    @cached_property
    def starts(self) -> pl.DataFrame:
        """Moments the mail service started or reread its configuration: the service
        events rules.toml names (MSExchangeIMC 1000, Postfix's master starting or
        reloading), and restarts (or reloads) logged by the admin."""
        marks = [
            pl.col("event_source").str.contains(mark["source"])
            & (
                pl.col("event_id") == mark["id"]
                if "id" in mark
                else pl.col("message").str.contains(mark["message"])
            )
            for mark in self.settings["start_events"]
        ]
        events = self.service_events.filter(pl.any_horizontal(marks).fill_null(False)).select(
            "ts", "source", "line"
        )
        logged = self.changes.filter(
            self._logged()
            & pl.col("new").fill_null("").str.contains("(?i)" + self.settings["service_start"])
        ).select("ts", "source", "line")
        return pl.concat([events, logged]).drop_nulls("ts").sort("ts")

    def start_after(self, at: dt.datetime, minutes: float) -> dt.datetime | None:
        later = self.starts.filter(
            (pl.col("ts") >= at) & (pl.col("ts") <= at + dt.timedelta(minutes=minutes))
        )
        return later["ts"][0] if later.height else None

    # --- the analysed server ----------------------------------------------------
    @cached_property
    def server(self) -> str | None:
        names = pl.concat(
            [
                self.frames.sessions.filter(pl.col("direction") == "inbound").select(
                    name="local_host"
                ),
                self.frames.sessions.filter(pl.col("direction") == "outbound").select(name="helo"),
            ]
        ).drop_nulls()
        names = names.filter(~pl.col("name").str.starts_with("["))
        if names.height:
            return str(names["name"].mode().sort()[0])
        computers = self.frames.service_events["computer"].drop_nulls()
        return str(computers.mode().sort()[0]) if computers.len() else None

    @cached_property
    def version(self) -> str | None:
        """The analysed server's software, from the NDRs it wrote itself (the MSEXCH
        diagnostic names the server; X-Mailer names the version)."""
        if not self.server:
            return None
        short = self.server.split(".")[0].lower()
        own = self.frames.ndrs.filter(
            (pl.col("msexch_server").str.to_lowercase() == short)
            | (pl.col("reporting_mta").str.to_lowercase().str.split(".").list.first() == short)
        )["software"].drop_nulls()
        return str(own.mode().sort()[0]) if own.len() else None

    def version_matches(self, kb: str) -> bool:
        article = {a["id"]: a for a in load("kb")["article"]}[kb]
        pattern = article.get("version_match") or ""
        return bool(pattern and self.version and re.search(pattern, self.version))

    def server_name(self) -> str:
        return self.server or "the analysed server"


def as_change(row: dict[str, Any]) -> Change:
    what = row["key"] or "setting"
    if row.get("old") is not None or row.get("new") is not None:
        what += f": {row.get('old') or '(none)'} -> {row.get('new') or '(none)'}"
    if row.get("note"):
        what += f" ({row['note']})"
    return Change(
        time=row["ts"],
        text=what,
        origin=row["origin"],
        ts_quality=row["ts_quality"] or "unknown",
        source=row["source"],
        line=row["line"],
    )


def flip(ok: pl.DataFrame, bad: pl.DataFrame, what: str) -> Change | None:
    """Without a logged change, the moment behaviour flipped: ``ok`` rows (e.g.
    accepted) until some time, ``bad`` rows (refused) from a later time on, and no
    ``ok`` row after the first ``bad`` one. Reported as an inferred change."""
    if ok.height == 0 or bad.height == 0:
        return None
    first_bad = bad["ts"].min()
    last_ok = ok["ts"].max()
    if last_ok is None or first_bad is None or last_ok >= first_bad:
        return None
    return Change(
        time=first_bad,
        text=f"behaviour changed between {last_ok:%Y-%m-%d %H:%M} and "
        f"{first_bad:%Y-%m-%d %H:%M}: {what}",
        origin="inferred",
        ts_quality="inferred",
    )
