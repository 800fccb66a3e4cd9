"""The evidence manifest: every input file with its SHA-256, size, format and what
became of its lines, as CSV (RFC 4180) that a spreadsheet opens as text. A file name
from the evidence that starts like a formula stays text; control characters are shown
escaped."""

from __future__ import annotations

import polars as pl

from forensics.core.frames import Frames
from forensics.core.printable import formula_safe_expr, printable_expr

COLUMNS = (
    "path",
    "sha256",
    "bytes",
    "format",
    "records",
    "unparsed",
    "lines",
    "encoding",
    "compression",
    "host",
    "programs",
    "note",
)


def render(frames: Frames) -> str:
    inputs = frames.inputs.sort("path").select(COLUMNS)
    text = [c for c, t in inputs.schema.items() if t == pl.String]
    safe = inputs.with_columns(formula_safe_expr(printable_expr(pl.col(c))) for c in text)
    return safe.write_csv()
