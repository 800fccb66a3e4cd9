"""What every SMTP log reader returns."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl


@dataclass
class LogResult:
    """The events of the files given, their unparsed lines, and per file (in the
    order given): records read, lines unparsed, lines in all."""

    events: pl.DataFrame
    unparsed: pl.DataFrame
    records: list[int]
    unparsed_counts: list[int]
    lines: list[int]


def per_file(frame: pl.DataFrame | None, n: int) -> list[int]:
    """Rows of ``frame`` per file number ``fid`` 0..n-1 (0 for a file with none)."""
    if frame is None or frame.height == 0:
        return [0] * n
    counts = dict(frame.group_by("fid").len().iter_rows())
    return [int(counts.get(fid, 0)) for fid in range(n)]
