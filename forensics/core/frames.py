"""The frame schemas (DESIGN.md, Frames), defined once.

Column names and meanings are a public contract: rules, reports and users' own
polars or DuckDB queries rely on them. Every row that comes from a file carries
``source`` (path relative to the input root) and ``line`` (1-based) so a finding can
cite its evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

TS = pl.Datetime("us")


def _schema(columns: dict[str, pl.DataType | type[pl.DataType]]) -> pl.Schema:
    # pl.Schema takes a union of shapes, so mypy cannot infer a dict literal that
    # mixes dtype instances (TS) and classes (pl.String) against it: this one can.
    return pl.Schema(columns)


EVENTS = _schema(
    {
        "source": pl.String,
        "line": pl.UInt32,
        "ts": TS,
        "session": pl.String,
        "direction": pl.String,  # inbound | outbound, from the analysed server's view
        "actor": pl.String,  # client | server (null for the server's own notes)
        "kind": pl.String,  # connect | command | reply | disconnect | note
        "verb": pl.String,
        "arg": pl.String,
        "code": pl.UInt16,
        "status": pl.String,
        "text": pl.String,
    }
)

# outcome, in order of precedence:
#   delivered  message data accepted, no recipient refused
#   partial    message data accepted, some recipients refused
#   refused    the sender or every recipient refused, no data accepted
#   failed     data or delivery refused or abandoned after recipients were accepted
#              (a 4xx/5xx after DATA, the IMS's "Rescheduling delivery" summary)
#   incomplete recipients accepted but the log ends before the data was accepted
#   no_mail    no MAIL command: probes, test connections, dropped connections
SESSIONS = _schema(
    {
        "session": pl.String,
        "source": pl.String,
        "start": TS,
        "end": TS,
        "direction": pl.String,
        "local_host": pl.String,
        "remote_host": pl.String,
        "remote_ip": pl.String,
        "helo": pl.String,
        "auth_user": pl.String,
        "mail_from": pl.String,
        "rcpt_total": pl.UInt32,
        "rcpt_accepted": pl.UInt32,
        "rcpt_refused": pl.UInt32,
        "data_accepted": pl.Boolean,
        "outcome": pl.String,
        "software": pl.String,
    }
)

RECIPIENTS = _schema(
    {
        "session": pl.String,
        "source": pl.String,
        "line": pl.UInt32,
        "ts": TS,
        "direction": pl.String,
        "remote_ip": pl.String,
        "mail_from": pl.String,
        "rcpt": pl.String,
        "rcpt_domain": pl.String,
        "code": pl.UInt16,
        "status": pl.String,
        "text": pl.String,
        "accepted": pl.Boolean,  # null when the log ends before the reply
        "refusal": pl.String,  # category from knowledge/replies.toml; null when accepted
        "local": pl.Boolean,  # recipient domain is local; null when unknown
        # Mail the server's users or the server itself sent (derive/submission.py):
        # never relaying by an outside client. Null in frames written before it.
        "own": pl.Boolean,
    }
)

# One row per failed recipient in one non-delivery report.
NDRS = _schema(
    {
        "source": pl.String,
        "line": pl.UInt32,
        "ts": TS,  # the report's Date, as the reporting server wrote it
        "generator": pl.String,  # exchange-ims, exchange-imc, exchange-2007, dsn, exim, ...
        "software": pl.String,
        "original_from": pl.String,
        "original_subject": pl.String,
        "original_sent": TS,
        "recipient": pl.String,
        "reason_text": pl.String,  # Exchange's X.400 reason line
        "diagnostic": pl.String,  # the report's diagnostic for this recipient, as written
        "msexch_component": pl.String,
        "msexch_org": pl.String,
        "msexch_site": pl.String,
        "msexch_server": pl.String,
        "msexch_code": pl.String,
        "msexch_hex": pl.String,
        "remote_code": pl.UInt16,
        "remote_status": pl.String,
        "remote_text": pl.String,
        "refusal": pl.String,
        "action": pl.String,  # DSN Action (failed, delayed) where given
        "remote_mta": pl.String,
        "reporting_mta": pl.String,
        # The returned message's id: the X.400 MTS-ID of an Exchange 4.0/5.x report,
        # the DSN's Original-Envelope-Id, or the returned headers' Message-ID.
        "original_id": pl.String,
    }
)

# One configuration fact or change, with the evidence it comes from.
CONFIG = _schema(
    {
        "source": pl.String,
        "line": pl.UInt32,
        "ts": TS,
        "origin": pl.String,  # registry | changelog | eventlog | inferred
        "key": pl.String,  # e.g. MSExchangeIMC\Parameters\RelayFlags
        "old": pl.String,  # the value in the snapshot before (null for the first)
        "new": pl.String,
        "note": pl.String,  # what the value means (RelayFlags decoded, list entries)
        "ts_quality": pl.String,  # exact | filename | mtime | inferred | unknown
    }
)

# One Windows event (Event Viewer exports).
SERVICE_EVENTS = _schema(
    {
        "source": pl.String,
        "line": pl.UInt32,
        "ts": TS,
        "log": pl.String,  # Application, System (when the export says)
        "event_source": pl.String,  # MSExchangeIMC, DrWatson, Service Control Manager
        "event_id": pl.UInt32,
        "type": pl.String,  # Information, Warning, Error
        "category": pl.String,
        "computer": pl.String,
        "message": pl.String,
    }
)

# One directory entry: an address of the organisation (GAL export, address list).
DIRECTORY = _schema(
    {
        "address": pl.String,  # lower-cased
        "display_name": pl.String,
        "source": pl.String,
        "line": pl.UInt32,
    }
)

# The domains the analysed server is responsible for, and how we know.
DOMAINS = _schema(
    {
        "domain": pl.String,  # lower-cased, without a trailing dot
        # option (--local-domain) | directory (an address in a directory export) |
        # inferred (mail for it accepted inbound, and it is the server's own domain
        # or the domain its outbound senders write from)
        "origin": pl.String,
        "source": pl.String,  # the evidence: a directory file, a log file; null for option
        "line": pl.UInt32,
        "note": pl.String,  # why an inferred domain was taken for local
    }
)

# One message-tracking event for one recipient (Exchange 4.0-2019 tracking logs).
TRACKING = _schema(
    {
        "source": pl.String,
        "line": pl.UInt32,
        "ts": TS,  # on the clock of the protocol logs (ts_utc shifted by the offset found)
        "ts_utc": TS,  # as the tracking log wrote it: GMT/UTC
        "log": pl.String,  # exchange-5x | exchange-2000 | exchange-2007
        "event": pl.String,  # one word from knowledge/tracking.toml (receive, send, ndr, ...)
        "event_id": pl.String,  # as written: 1017, 1030, FAIL
        "message_id": pl.String,  # message id or MTS-ID
        "internal_id": pl.String,  # Exchange 2007+ internal-message-id
        "linked_id": pl.String,  # the report MTS-ID (5.x) or Linked-MSGID (2000/2003)
        "sender": pl.String,
        "recipient": pl.String,  # lower-cased
        "recipient_status": pl.String,  # as written (a reply, or a report status 0/1)
        "code": pl.UInt16,  # the reply in recipient_status, when there is one
        "status": pl.String,
        "text": pl.String,
        "refusal": pl.String,
        "client_ip": pl.String,
        "client_host": pl.String,
        "server_ip": pl.String,
        "server_host": pl.String,
        "partner": pl.String,  # gateway or connector, partner service, or source
        "session": pl.String,  # the SMTP protocol log's session id, when the event names it
        "subject": pl.String,
        "bytes": pl.UInt64,
    }
)

# One message's path to one recipient: its tracking events joined with the SMTP
# session that carried it and the NDR that came back, where ids or addresses allow.
#   outcome: ndr | failed | delivered | sent | deferred | in_transit
PATHS = _schema(
    {
        "message_id": pl.String,
        "recipient": pl.String,
        "direction": pl.String,  # outbound (queued or sent out) | inbound | local
        "sender": pl.String,
        "subject": pl.String,
        "source": pl.String,  # the tracking log and line of the path's first event
        "line": pl.UInt32,
        "first_ts": TS,
        "sent_ts": TS,
        "delivered_ts": TS,
        "ndr_ts": TS,  # the NDR generated (tracking) or, failing that, the failure
        "outcome": pl.String,
        "seconds_to_ndr": pl.Float64,
        "immediate_ndr": pl.Boolean,  # an NDR within tracking.toml's immediate_seconds
        "code": pl.UInt16,  # the refusal, from tracking, the session or the NDR
        "status": pl.String,
        "text": pl.String,
        "refusal": pl.String,
        "session": pl.String,  # the SMTP session that carried the message
        "session_match": pl.String,  # id (the log names it) | recipient-time
        "remote_host": pl.String,  # the next hop (outbound) or the client (inbound)
        "ndr_source": pl.String,  # the NDR message that came back for it
        "ndr_line": pl.UInt32,
        "ndr_match": pl.String,  # id (MTS-ID or Message-ID) | recipient-time
    }
)

# One row per input file: what it was taken for and what became of every line.
INPUTS = _schema(
    {
        "path": pl.String,
        "sha256": pl.String,
        "bytes": pl.UInt64,
        "format": pl.String,
        "records": pl.UInt32,
        "unparsed": pl.UInt32,
        "lines": pl.UInt32,
        "encoding": pl.String,
        "compression": pl.String,
        "first_ts": TS,
        "last_ts": TS,
        "note": pl.String,  # why a file was skipped or only partly read
        # A syslog file's programs and their line counts ("postfix 1,204, dovecot 31"):
        # what its lines are of, mail server or not.
        "programs": pl.String,
        # The server whose log it is, as its own lines name it: the syslog host most of
        # its lines carry, else the name its sessions' banners give.
        "host": pl.String,
    }
)

# One row per line that was not read, so nothing is dropped silently.
UNPARSED = _schema(
    {
        "source": pl.String,
        "line": pl.UInt32,
        "reason": pl.String,
        # the line, cut to 200 characters (a line of a mail server that its reader did
        # not take: the message after the syslog header)
        "text": pl.String,
    }
)

# What the analysis took for true without proof, and how to say otherwise: the
# year of yearless stamps, the time zone of each format's times, the day order of
# ambiguous dates, local domains inferred rather than given.
ASSUMPTIONS = pl.Schema(
    {
        "what": pl.String,  # the assumption, in a sentence
        "why": pl.String,  # what it rests on
        "override": pl.String,  # the option that sets it otherwise (null: none)
        "source": pl.String,  # the file it is about (null: the whole evidence)
    }
)

ALL: dict[str, pl.Schema] = {
    "events": EVENTS,
    "sessions": SESSIONS,
    "recipients": RECIPIENTS,
    "ndrs": NDRS,
    "config": CONFIG,
    "service_events": SERVICE_EVENTS,
    "tracking": TRACKING,
    "paths": PATHS,
    "directory": DIRECTORY,
    "domains": DOMAINS,
    "inputs": INPUTS,
    "unparsed": UNPARSED,
    "assumptions": ASSUMPTIONS,
}


def empty(schema: pl.Schema) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


def conform(frame: pl.DataFrame, schema: pl.Schema) -> pl.DataFrame:
    """Select and cast ``frame`` to ``schema``: the last step of every builder, so a
    frame never leaves a module with a column missing, extra or of the wrong type."""
    return frame.select(
        [
            (pl.col(name) if name in frame.columns else pl.lit(None)).cast(dtype).alias(name)
            for name, dtype in schema.items()
        ]
    )


@dataclass
class Frames:
    """Everything read from one evidence set."""

    events: pl.DataFrame = field(default_factory=lambda: empty(EVENTS))
    ndrs: pl.DataFrame = field(default_factory=lambda: empty(NDRS))
    config: pl.DataFrame = field(default_factory=lambda: empty(CONFIG))
    directory: pl.DataFrame = field(default_factory=lambda: empty(DIRECTORY))
    domains: pl.DataFrame = field(default_factory=lambda: empty(DOMAINS))
    service_events: pl.DataFrame = field(default_factory=lambda: empty(SERVICE_EVENTS))
    tracking: pl.DataFrame = field(default_factory=lambda: empty(TRACKING))
    paths: pl.DataFrame = field(default_factory=lambda: empty(PATHS))
    sessions: pl.DataFrame = field(default_factory=lambda: empty(SESSIONS))
    recipients: pl.DataFrame = field(default_factory=lambda: empty(RECIPIENTS))
    inputs: pl.DataFrame = field(default_factory=lambda: empty(INPUTS))
    unparsed: pl.DataFrame = field(default_factory=lambda: empty(UNPARSED))
    assumptions: pl.DataFrame = field(default_factory=lambda: empty(ASSUMPTIONS))

    def as_dict(self) -> dict[str, pl.DataFrame]:
        return {name: getattr(self, name) for name in ALL}

    def write_parquet(self, out: Path) -> list[Path]:
        """One file per frame, each written even when empty (with its schema)."""
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for name, frame in self.as_dict().items():
            path = out / f"{name}.parquet"
            frame.write_parquet(path)
            written.append(path)
        return written
