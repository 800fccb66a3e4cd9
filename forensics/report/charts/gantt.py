"""The findings as a Gantt chart: each finding's window as a bar, by severity."""

from __future__ import annotations

import datetime as dt
from typing import Any

import plotly.graph_objects as go

from forensics.core.findings import Finding
from forensics.report.charts.labels import esc
from forensics.report.charts.style import OTHER_COLOUR, SEVERITY_COLOURS


def _bars(found: list[Finding]) -> list[dict[str, Any]]:
    """A bar per finding with a time: at least five minutes long."""
    return [
        {
            "start": f.first_seen,
            "end": f.last_seen
            if f.last_seen and f.last_seen > f.first_seen
            else f.first_seen + dt.timedelta(minutes=5),
            "finding": esc(f"{f.kb[0]} · {f.subject}")[:60],
            "severity": f.severity,
            "count": f.count,
        }
        for f in found
        if f.first_seen
    ]


def windows(found: list[Finding]) -> go.Figure | None:
    """Each finding's window as a bar (a Gantt chart of the incident)."""
    rows = _bars(found)
    if not rows:
        return None
    # What px.timeline draws, without loading plotly.express for it: horizontal bars
    # on a date axis, each starting at its window's start and as long as the window.
    fig = go.Figure()
    for severity in dict.fromkeys(r["severity"] for r in rows):
        mine = [r for r in rows if r["severity"] == severity]
        fig.add_trace(
            go.Bar(
                name=severity,
                orientation="h",
                base=[r["start"].isoformat() for r in mine],
                x=[(r["end"] - r["start"]).total_seconds() * 1000 for r in mine],
                y=[r["finding"] for r in mine],
                marker_color=SEVERITY_COLOURS.get(severity, OTHER_COLOUR),
                hovertext=[
                    f"{r['finding']}<br>{severity}, {r['count']:,} times<br>"
                    f"{r['start']:%Y-%m-%d %H:%M} .. {r['end']:%Y-%m-%d %H:%M}"
                    for r in mine
                ],
                hoverinfo="text",
            )
        )
    fig.update_xaxes(type="date")
    fig.update_yaxes(autorange="reversed", title=None)
    fig.update_layout(
        height=120 + 30 * len(rows),
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        showlegend=False,
        barmode="overlay",
    )
    return fig
