"""What the timeline marks across its lanes: a line at each change (labelled with the
setting's name where labels do not crowd) and a band over each finding's window."""

from __future__ import annotations

import datetime as dt
from typing import Any

import plotly.graph_objects as go
import polars as pl

from forensics.core.findings import Finding
from forensics.report.charts.labels import esc
from forensics.report.charts.style import (
    CHANGE_COLOUR,
    LABEL_GAP,
    MAX_VLINES,
    SEVERITY_COLOURS,
)


def change_lines(fig: go.Figure, drawn: pl.DataFrame) -> None:
    """A vertical line at each of the first MAX_VLINES changes: dashed when logged,
    dotted when inferred; a label unless a labelled one is less than LABEL_GAP before."""
    labelled: dt.datetime | None = None
    for row in drawn.head(MAX_VLINES).iter_rows(named=True):
        # The setting's name labels the line; the diamond's hover has the rest.
        name = row["text"].split(":")[0].split("\\")[-1][:32]
        label = None
        if labelled is None or row["ts"] - labelled >= LABEL_GAP:
            label, labelled = esc(name), row["ts"]
        line = {
            "color": CHANGE_COLOUR,
            "width": 1,
            "dash": "dot" if row["origin"] == "inferred" else "dash",
        }
        if label:
            annotation: dict[str, Any] = {
                "text": label,
                "textangle": -90,
                "font": {"size": 10, "color": CHANGE_COLOUR},
            }
            fig.add_vline(
                x=row["ts"], line=line, annotation=annotation, annotation_position="top left"
            )
        else:
            fig.add_vline(x=row["ts"], line=line)


def finding_windows(fig: go.Figure, found: list[Finding]) -> None:
    """A band, in the severity's colour and labelled with the article, over the
    window of each finding above info (at least a minute wide)."""
    for f in found:
        if not (f.first_seen and f.last_seen) or f.severity in ("info",):
            continue
        end = f.last_seen if f.last_seen > f.first_seen else f.first_seen + dt.timedelta(minutes=1)
        fig.add_vrect(
            x0=f.first_seen,  # type: ignore[arg-type]  # plotly-stubs: numbers only
            x1=end,  # type: ignore[arg-type]
            fillcolor=SEVERITY_COLOURS[f.severity],
            opacity=0.08,
            line_width=0,
            annotation={
                "text": esc(f.kb[0]),
                "font": {"size": 10, "color": SEVERITY_COLOURS[f.severity]},
            },
            annotation_position="top right",
        )
