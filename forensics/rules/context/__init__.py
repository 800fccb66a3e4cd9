"""What every rule needs to know besides the frames, worked out once: the Context.

The relay attempts with everything known about their client (authenticated, inside
an allow-list entry, a private address), the relay settings the registry shows at a
given time, the changes (the admin's log, registry snapshots that differ, service
restarts), the analysed server's name and version. Rules see frames only (DESIGN
principle 4): nothing here knows which log format a row came from.

The Context holds the window and caches what it derived; each submodule does one of
the derivations (``allowlists``, ``change``, ``change_kinds``, ``networks``,
``recipients``, ``registry``, ``server``, ``starts``; the window is
:mod:`forensics.derive.window`'s).
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from typing import Any

import polars as pl

from forensics.core.frames import Frames
from forensics.derive import changes as recorded_changes
from forensics.derive import window
from forensics.knowledge import load
from forensics.rules.context import allowlists, change_kinds
from forensics.rules.context import recipients as recipient_rows
from forensics.rules.context import registry as ims_registry
from forensics.rules.context import server as analysed_server
from forensics.rules.context import starts as service_starts
from forensics.rules.context.change import Change, change_before


class Context:
    """The frames of one run, cut to its window, and the facts the rules share."""

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
        return window.within(frame, column, self.since, self.until)

    @cached_property
    def sessions(self) -> pl.DataFrame:
        return self._window(self.frames.sessions, "start")

    @cached_property
    def ndrs(self) -> pl.DataFrame:
        """NDR rows in the window, with ``rcpt_domain``, ``local`` (as in
        recipients), ``in_directory`` and ``domain_origin``."""
        return recipient_rows.ndrs(self.frames, self._window(self.frames.ndrs))

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
        """The registry rows of the IMS parameters, with ``name``."""
        return ims_registry.parameters(self.frames.config)

    @cached_property
    def registry_seen(self) -> str | None:
        """The first registry snapshot of the IMS parameters, when there is one."""
        return ims_registry.first_snapshot(self.registry)

    def registry_value(self, name: str, at: dt.datetime | None) -> dict[str, Any] | None:
        """The registry row of value ``name`` in force at ``at`` (registry.value_at)."""
        return ims_registry.value_at(self.registry, name, at)

    def relayflags(self, at: dt.datetime | None) -> tuple[int | None, dict[str, Any] | None]:
        return ims_registry.relayflags(self.registry, at)

    @cached_property
    def allow_entries(self) -> pl.DataFrame:
        """Every network allowed to relay that the evidence names: columns net, mask
        and label (allowlists.allow_entries)."""
        setting = self.settings["allow_list_setting"]
        return allowlists.allow_entries(self.registry, self.frames.config, setting)

    # --- the relay attempts -----------------------------------------------------
    @cached_property
    def recipients(self) -> pl.DataFrame:
        """Recipients in the window, with their session's client facts and where the
        recipient's locality comes from (recipients.recipients)."""
        rows = self._window(self.frames.recipients)
        return recipient_rows.recipients(self.frames, rows, self.allow_entries)

    @cached_property
    def local_known(self) -> bool:
        """Whether any local domain is known: without one nothing is 'foreign'."""
        return self.frames.domains.height > 0

    @cached_property
    def domains_given(self) -> bool:
        """Whether a local domain is proved (given, configured, in the directory, or
        delivered to a mailbox here), not only inferred or read from a server name."""
        weak = ["inferred", "server-name"]
        return self.frames.domains.filter(~pl.col("origin").is_in(weak)).height > 0

    def relay_attempts(self) -> pl.DataFrame:
        """Requests to relay (forensics.rules.context.recipients.relay_attempts)."""
        return recipient_rows.relay_attempts(self.recipients)

    # --- changes ----------------------------------------------------------------
    @cached_property
    def changes(self) -> pl.DataFrame:
        """Config rows that record a change (forensics.derive.changes.recorded)."""
        return recorded_changes.recorded(self.frames.config)

    def stop_relay_changes(self) -> pl.DataFrame:
        """Logged changes meant to stop rerouting or relaying."""
        return change_kinds.stop_relay(self.changes, self.settings)

    def tightening_changes(self) -> pl.DataFrame:
        """The stop_relay_changes, and changes that took a network out of an allow list."""
        return change_kinds.tightening(self.changes, self.settings)

    def recent_changes(self, at: dt.datetime | None, hours: float) -> pl.DataFrame:
        """Logged changes (change log, registry differences) in the hours before ``at``."""
        return change_kinds.recent(self.changes, at, hours)

    def change_before(self, at: dt.datetime | None, frame: pl.DataFrame) -> Change | None:
        """The latest row of ``frame`` at or before ``at`` as a Change."""
        return change_before(at, frame)

    @cached_property
    def starts(self) -> pl.DataFrame:
        """Moments the mail service started or reread its configuration (in the window
        for service events; every logged restart)."""
        return service_starts.starts(self.service_events, self.changes, self.settings)

    def start_after(self, at: dt.datetime, minutes: float) -> dt.datetime | None:
        return service_starts.start_after(self.starts, at, minutes)

    # --- the analysed server ----------------------------------------------------
    @cached_property
    def server(self) -> str | None:
        return analysed_server.name(self.frames)

    @cached_property
    def version(self) -> str | None:
        """The analysed server's software, from the NDRs it wrote itself."""
        return analysed_server.version(self.frames, self.server)

    def is_this_server(self, host: pl.Expr) -> pl.Expr:
        """Whether ``host`` names the analysed server (its first label, any case)."""
        return analysed_server.is_this(self.server, host)

    def version_matches(self, kb: str) -> bool:
        return analysed_server.version_matches(self.version, kb)

    def server_name(self) -> str:
        return self.server or "the analysed server"
