"""The findings document (schema ``smtp-forensics/findings/v1``, DESIGN.md Findings).

Deterministic: the same inputs give byte-identical output (inputs sorted by path,
findings by severity, confidence, rule and subject; no time of generation)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import polars as pl

from forensics.core.findings import SEVERITIES, Finding
from forensics.core.frames import Frames
from forensics.core.printable import json_safe
from forensics.derive import servers
from forensics.report import traffic

SCHEMA = "smtp-forensics/findings/v1"

# Where the evidence rows a finding does not carry are: parse writes every frame.
EVIDENCE_MORE = (
    "The first {shown:,} of {total:,} evidence rows, in time order, are listed; "
    "{left_out:,} are left out. `smtp-forensics parse PATH... --out DIR` (the same PATHs "
    "and options) writes every row as Parquet (recipients, sessions, ndrs, "
    "service_events, tracking): take the finding's subject between first_seen and "
    "last_seen."
)


def with_evidence_note(finding: dict[str, Any]) -> dict[str, Any]:
    """A finding's JSON with two keys added to DESIGN's (which stay as they are):
    ``evidence_left_out``, how many of its ``evidence_total`` rows ``evidence`` does
    not carry, and ``evidence_more``, how to get them (null when none is left out)."""
    total, shown = int(finding["evidence_total"]), len(finding["evidence"])
    left_out = max(total - shown, 0)
    finding["evidence_left_out"] = left_out
    finding["evidence_more"] = (
        EVIDENCE_MORE.format(shown=shown, total=total, left_out=left_out) if left_out else None
    )
    return finding


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def _moment(value: object) -> dt.datetime | None:
    # Series.min() and max() are typed as any Python scalar; a Datetime column's
    # are a datetime, or None when it is empty.
    return value if isinstance(value, dt.datetime) else None


def _window(
    frames: Frames, since: dt.datetime | None, until: dt.datetime | None
) -> dict[str, str | None]:
    times = pl.concat(
        [
            frames.events.select("ts"),
            frames.ndrs.select("ts"),
            frames.service_events.select("ts"),
        ]
    ).drop_nulls()
    if since is not None:
        times = times.filter(pl.col("ts") >= since)
    if until is not None:
        times = times.filter(pl.col("ts") <= until)
    return {
        "start": _iso(since) or _iso(_moment(times["ts"].min())),
        "end": _iso(until) or _iso(_moment(times["ts"].max())),
    }


def document(
    frames: Frames,
    found: list[Finding],
    *,
    version: str,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> dict[str, Any]:
    # DESIGN's keys, and the note that says why a file was skipped or only partly read.
    inputs = frames.inputs.sort("path").select(
        "path", "sha256", "bytes", "format", "records", "unparsed", "note", "programs"
    )
    recipients = frames.recipients
    by_severity = {s: sum(f.severity == s for f in found) for s in SEVERITIES}
    return {
        "schema": SCHEMA,
        "generated_by": f"smtp-forensics {version}",
        "inputs": inputs.to_dicts(),
        "window": _window(frames, since, until),
        # The servers whose logs the inputs are (several: analysed as one, with a warning).
        "servers": [{"host": host, "files": n} for host, n in servers.servers(frames.inputs)],
        "counts": {
            "files": frames.inputs.height,
            "lines": int(frames.inputs["lines"].sum() or 0),
            "unparsed": int(frames.inputs["unparsed"].sum() or 0),
            "sessions": frames.sessions.height,
            "recipients": recipients.height,
            "refused": int((recipients["accepted"] == False).sum() or 0),  # noqa: E712
            "relay_refused": int((recipients["refusal"] == "relay_denied").sum() or 0),
            "ndrs": frames.ndrs.height,
            "tracking": frames.tracking.height,
            "paths": frames.paths.height,
            "immediate_ndrs": int(frames.paths["immediate_ndr"].sum() or 0),
            "config": frames.config.height,
            "service_events": frames.service_events.height,
            "directory": frames.directory.height,
            "findings": by_severity,
        },
        # Each local domain with how it is known and the line that proves it.
        "local_domains": frames.domains.sort("domain")
        .select("domain", "origin", "source", "line", "note")
        .to_dicts(),
        "assumptions": frames.assumptions.to_dicts(),
        "findings": [with_evidence_note(f.as_json()) for f in found],
        # The pflogsumm view of the same evidence: per domain, client and hour, and
        # the senders and recipients refused most (report/traffic.py).
        "traffic": traffic.summarize(frames).as_json(),
    }


def dumps(doc: dict[str, Any]) -> str:
    """The document as text; control characters from the evidence escaped (JSON
    escapes C0 ones itself; core.printable.json_safe the C1 ones)."""
    return json_safe(json.dumps(doc, indent=2, ensure_ascii=False)) + "\n"
