"""The short account of a run that the terminal and the report both show."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from forensics.core.findings import SEVERITIES, Finding, plural
from forensics.core.frames import Frames

READ_FORMATS_SKIPPED = ("unknown", "binary", "empty", "unreadable", "link")


@dataclass
class Summary:
    files: int
    files_by_format: dict[str, int]
    lines: int
    unparsed: int
    sessions: int
    sessions_by_direction: dict[str, int]
    outcomes: dict[str, int]
    rcpt_total: int
    rcpt_accepted: int
    rcpt_refused: int
    refusals: dict[str, int]
    ndrs: int
    ndr_refusals: dict[str, int]
    config: int
    service_events: int
    directory: int
    first: str | None
    last: str | None
    tracking: int = 0  # message-tracking events (one per recipient)
    path_outcomes: dict[str, int] = field(default_factory=dict)
    immediate_ndrs: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, why)

    @property
    def readable(self) -> int:
        return sum(n for f, n in self.files_by_format.items() if f not in READ_FORMATS_SKIPPED)


def _counts(frame: pl.DataFrame, column: str) -> dict[str, int]:
    """Rows per value, most first (then by value); null counted as "unknown".
    Counted in polars: the column may have millions of rows."""
    if frame.height == 0:
        return {}
    counted = (
        frame.select(pl.col(column).cast(pl.String).fill_null("unknown").alias("v"))
        .group_by("v")
        .len()
        .sort(["len", "v"], descending=[True, False])
    )
    return dict(zip(counted["v"].to_list(), counted["len"].to_list(), strict=True))


def summarize(frames: Frames) -> Summary:
    inputs, sessions, recipients = frames.inputs, frames.sessions, frames.recipients
    skipped = [
        (row["path"], row["note"] or row["format"])
        for row in inputs.filter(pl.col("format").is_in(READ_FORMATS_SKIPPED)).iter_rows(named=True)
    ]
    span = frames.events.select(pl.col("ts").min().alias("a"), pl.col("ts").max().alias("b"))
    first, last = span.row(0) if frames.events.height else (None, None)
    return Summary(
        files=inputs.height,
        files_by_format=_counts(inputs, "format"),
        lines=int(inputs["lines"].sum() or 0),
        unparsed=int(inputs["unparsed"].sum() or 0),
        sessions=sessions.height,
        sessions_by_direction=_counts(sessions, "direction"),
        outcomes=_counts(sessions, "outcome"),
        rcpt_total=recipients.height,
        rcpt_accepted=int(recipients["accepted"].fill_null(False).sum()),
        rcpt_refused=int((~recipients["accepted"]).fill_null(False).sum()),
        refusals=_counts(recipients.filter(pl.col("refusal").is_not_null()), "refusal"),
        ndrs=frames.ndrs.height,
        ndr_refusals=_counts(frames.ndrs, "refusal"),
        config=frames.config.height,
        service_events=frames.service_events.height,
        directory=frames.directory.height,
        first=first.isoformat(sep=" ") if first else None,
        last=last.isoformat(sep=" ") if last else None,
        tracking=frames.tracking.height,
        path_outcomes=_counts(frames.paths, "outcome"),
        immediate_ndrs=int(frames.paths["immediate_ndr"].sum() or 0),
        skipped=skipped,
    )


def _join(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in counts.items()) or "none"


def text_lines(s: Summary) -> list[str]:
    """The summary as terminal lines."""
    return [
        f"Inputs:     {plural(s.files, 'file')} ({_join(s.files_by_format)})",
        f"Lines:      {s.lines:,} read, {s.unparsed:,} unparsed",
        f"Window:     {s.first or '-'} .. {s.last or '-'}",
        f"Sessions:   {s.sessions:,} ({_join(s.sessions_by_direction)})",
        f"Outcomes:   {_join(s.outcomes)}",
        f"Recipients: {plural(s.rcpt_total, 'RCPT')}, {s.rcpt_accepted:,} accepted, "
        f"{s.rcpt_refused:,} refused",
        f"Refusals:   {_join(s.refusals)}",
        f"NDRs:       {plural(s.ndrs, 'failed recipient')} ({_join(s.ndr_refusals)})",
        *(
            [
                f"Tracking:   {plural(s.tracking, 'event')}; "
                f"message paths {_join(s.path_outcomes)}; "
                f"{plural(s.immediate_ndrs, 'immediate NDR')}"
            ]
            if s.tracking
            else []
        ),
        f"Evidence:   {plural(s.config, 'configuration fact')}, "
        f"{plural(s.service_events, 'service event')}, "
        f"{s.directory:,} directory address" + ("" if s.directory == 1 else "es"),
    ]


def findings_lines(found: list[Finding]) -> list[str]:
    """The findings as terminal lines, most severe first, each with its KB."""
    counts = {s: sum(f.severity == s for f in found) for s in SEVERITIES}
    head = ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "none"
    lines = [f"Findings:   {head}"]
    for f in found:
        lines.append(
            f"  {f.severity.upper():<8} {f.kb[0]:<8} {f.rule} [{f.subject}] "
            f"(confidence {f.confidence:.2f})"
        )
        lines.append(f"           {f.summary}")
    return lines
