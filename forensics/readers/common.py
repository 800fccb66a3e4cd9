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
