"""The changes the timeline and the post-mortem show: those the evidence records
(forensics.derive.changes) and those the findings inferred."""

from __future__ import annotations

import datetime as dt

import polars as pl

from forensics.core.findings import Finding
from forensics.core.frames import Frames
from forensics.derive.changes import recorded


def _recorded(frames: Frames) -> pl.DataFrame:
    """The recorded changes as ts, origin, ts_quality, source, line and a text."""
    return recorded(frames.config).select(
        "ts",
        "origin",
        "ts_quality",
        "source",
        "line",
        pl.concat_str(
            [
                pl.col("key"),
                pl.lit(": "),
                pl.col("old").fill_null("(none)"),
                pl.lit(" → "),
                pl.col("new").fill_null("(none)"),
            ]
        ).alias("text"),
    )


def _inferred(found: list[Finding]) -> list[dict[str, object]]:
    """The changes findings are tied to that no evidence records."""
    return [
        {
            "ts": dt.datetime.fromisoformat(f.change["time"]),
            "origin": "inferred",
            "ts_quality": "inferred",
            "source": None,
            "line": None,
            "text": f.change["text"],
        }
        for f in found
        if f.change and f.change["origin"] == "inferred"
    ]


def changes(frames: Frames, found: list[Finding]) -> pl.DataFrame:
    """The changes to draw: the change log, registry values that differ between
    snapshots, and the inferred changes findings are tied to."""
    rows = _recorded(frames)
    inferred = _inferred(found)
    if inferred:
        rows = pl.concat([rows, pl.DataFrame(inferred, schema=rows.schema)])
    return rows.drop_nulls("ts").unique(maintain_order=True).sort("ts")
