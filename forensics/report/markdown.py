"""The Markdown post-mortem: a document an admin pastes into an incident ticket.

Summary, the key moments in time order (first refusal, changes, restarts and
failures, last refusal), each finding with its article, cause, evidence excerpts
and resolution, and the inputs with their hashes. Log content is hostile here too:
every text from the evidence is escaped so that a ticket system rendering the
Markdown shows it literally (no links, no HTML, no broken tables).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import jinja2
import polars as pl

from forensics.core.findings import ARTICLE_PLATFORM, SEVERITIES, Finding, articles
from forensics.core.frames import Frames
from forensics.core.printable import formula_safe, printable
from forensics.knowledge import load
from forensics.report import timeline
from forensics.report.summary import Summary

MAX_MOMENTS = 40
EVIDENCE_ROWS = 6
# What could make text into markup: emphasis, code, links and images (which need
# brackets), HTML and entities, table cells. Parentheses alone are harmless.
_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&])")


def md(value: Any) -> str:
    """Text made literal for Markdown (and a table cell): specials escaped, one line,
    no formula."""
    text = formula_safe(" ".join(printable("" if value is None else str(value)).split()))
    return _SPECIAL.sub(r"\\\1", text)


_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("forensics.report", "templates"),
    autoescape=False,  # Markdown, not HTML: the md filter escapes what comes from evidence
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_ENV.filters["md"] = md


def _when(value: dt.datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "?"


def _ends(frame: pl.DataFrame) -> pl.DataFrame:
    """The first and the last MAX_MOMENTS rows (all of them when there are fewer)."""
    if frame.height <= 2 * MAX_MOMENTS:
        return frame
    return pl.concat([frame.head(MAX_MOMENTS), frame.tail(MAX_MOMENTS)])


def moments(frames: Frames, found: list[Finding]) -> list[dict[str, str]]:
    """The key moments, in time order: what a reader of the ticket needs first."""
    rows: list[dict[str, Any]] = []
    refused = frames.recipients.filter(pl.col("refusal") == "relay_denied").sort(
        "ts", nulls_last=True
    )
    if refused.height:
        for label, row in (
            ("first relay refusal", refused.row(0, named=True)),
            ("last relay refusal", refused.row(-1, named=True)),
        ):
            rows.append(
                {
                    "ts": row["ts"],
                    "what": f"{label}: RCPT TO:<{row['rcpt']}> ({row['direction']}) answered "
                    f"{row['code']} {row['text'] or ''}",
                    "where": f"{row['source']}:{row['line']}",
                }
            )
    # Each source is cut to its first and last moments in polars before any row
    # reaches Python: a log of a million refusals still makes a page, not a book.
    for row in _ends(timeline.changes(frames, found)).iter_rows(named=True):
        rows.append(
            {
                "ts": row["ts"],
                "what": f"change ({row['origin']}, time {row['ts_quality']}): {row['text']}",
                "where": f"{row['source']}:{row['line']}" if row["source"] else "inferred",
            }
        )
    # Failures, and the mail service starting or stopping (rules.toml lifecycle_events).
    events = frames.service_events.filter(pl.col("type").is_in(["Error", "Warning"]) | _lifecycle())
    for row in _ends(events.sort("ts", nulls_last=True)).iter_rows(named=True):
        event = " ".join(str(v) for v in (row["event_source"], row["event_id"]) if v is not None)
        rows.append(
            {
                "ts": row["ts"],
                "what": f"{event}: {row['message'] or ''}"[:200],
                "where": f"{row['source']}:{row['line']}",
            }
        )
    rows = [r for r in rows if r["ts"] is not None]
    rows.sort(key=lambda r: (r["ts"], r["where"]))
    if len(rows) > MAX_MOMENTS:  # keep both ends: how it started and how it ended
        half = MAX_MOMENTS // 2
        rows = [
            *rows[:half],
            {"ts": None, "what": f"... {len(rows) - MAX_MOMENTS} more ...", "where": ""},
            *rows[-half:],
        ]
    return [
        {"time": _when(r["ts"]) if r["ts"] else "", "what": r["what"], "where": r["where"]}
        for r in rows
    ]


def _lifecycle() -> pl.Expr:
    """A service event of the mail service starting or stopping."""
    found = pl.lit(False)
    for entry in load("rules")["context"]["lifecycle_events"]:
        match = pl.col("event_source").str.contains(entry["source"]).fill_null(False)
        if "ids" in entry:
            match = match & pl.col("event_id").is_in(entry["ids"]).fill_null(False)
        found = found | match
    return found


def impact(worst: Finding | None, summary: Summary) -> dict[str, str] | None:
    """How long the worst finding's pattern lasted and whether it still went on when
    the evidence ends (its last occurrence within the last tenth of the evidence's
    span, or its last hour)."""
    if worst is None or worst.first_seen is None or worst.last_seen is None:
        return None
    end = dt.datetime.fromisoformat(summary.last) if summary.last else None
    start = dt.datetime.fromisoformat(summary.first) if summary.first else None
    lasted = worst.last_seen - worst.first_seen
    ongoing = "unknown (the evidence has no times)"
    if end is not None and start is not None:
        near = max((end - start) / 10, dt.timedelta(hours=1))
        gap = end - worst.last_seen
        said = f"the last occurrence is {_span(gap)} before the evidence ends, {_when(end)}"
        ongoing = f"yes ({said})" if gap <= near else f"no ({said})"
    return {
        "first": _when(worst.first_seen),
        "last": _when(worst.last_seen),
        "lasted": _span(lasted),
        "ongoing": ongoing,
    }


def _span(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds()) // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    return f"{hours // 24} days {hours % 24} h"


def folders(inputs: pl.DataFrame) -> list[dict[str, Any]]:
    """The inputs per folder: files, formats, records, unparsed and lines (the whole
    per-file list, with hashes, is the --manifest CSV and the JSON's inputs)."""
    folder = (
        pl.when(pl.col("path").str.contains("/"))
        .then(pl.col("path").str.replace(r"/[^/]*$", ""))
        .otherwise(pl.lit("."))
    )
    per = (
        inputs.with_columns(folder.alias("folder"))
        .group_by("folder")
        .agg(
            pl.len().alias("files"),
            pl.col("format").unique().sort().str.join(", ").alias("formats"),
            pl.col("records").sum(),
            pl.col("unparsed").sum(),
            pl.col("lines").sum(),
        )
        .sort("folder")
    )
    return per.to_dicts()


def render(
    frames: Frames,
    summary: Summary,
    found: list[Finding],
    *,
    version: str,
    command: str | None = None,
) -> str:
    inputs = frames.inputs.sort("path")
    worst = next((f for f in found if f.severity in ("critical", "high", "medium")), None)
    return _ENV.get_template("postmortem.md.j2").render(
        impact=impact(worst, summary),
        command=command,
        folders=folders(inputs),
        findings=[f.as_json() for f in found],
        worst=worst.as_json() if worst else None,
        by_severity={s: sum(f.severity == s for f in found) for s in SEVERITIES},
        articles=articles(),
        # The server the KB articles were written for: another server's finding cites
        # its article as the documented failure, not as the cause on that server.
        article_server=load("servers")["name"][ARTICLE_PLATFORM],
        moments=moments(frames, found),
        summary=summary,
        evidence_rows=EVIDENCE_ROWS,
        assumptions=frames.assumptions.to_dicts(),
        domains=frames.domains.sort("domain").to_dicts(),
        version=version,
    )
