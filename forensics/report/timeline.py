"""The dashboard's timeline: every session, NDR, service event and change on its lane,
with a line at each change and a band over each finding's window.

Built from the frames and the findings only (the changes come from
forensics.derive.changes and the findings, not from the rules' context). Log content
is hostile: hover and label texts are escaped (charts.labels). Large inputs are
binned: past ``max_points`` sessions the timeline draws one marker per time bucket,
lane and outcome, sized by its count, so the report's size does not grow with the
logs.
"""

from __future__ import annotations

import plotly.graph_objects as go

from forensics.core.findings import Finding
from forensics.core.frames import Frames
from forensics.report.charts import lanes, marks
from forensics.report.charts.changes import changes
from forensics.report.charts.style import LANES, MAX_POINTS, MIN_SPAN

__all__ = ["MIN_SPAN", "changes", "timeline"]


def _axes(fig: go.Figure) -> None:
    """The lanes as categories, a range slider, and at least MIN_SPAN in view."""
    fig.update_yaxes(categoryorder="array", categoryarray=LANES, type="category", fixedrange=True)
    fig.update_xaxes(rangeslider={"visible": True, "thickness": 0.08}, type="date")
    # A handful of steps a few seconds apart would fill the axis with milliseconds:
    # show at least an hour around them.
    times = [t for trace in fig.data for t in (getattr(trace, "x", None) or ()) if t is not None]
    if times and max(times) - min(times) < MIN_SPAN:
        middle = min(times) + (max(times) - min(times)) / 2
        fig.update_xaxes(range=[middle - MIN_SPAN / 2, middle + MIN_SPAN / 2])


def timeline(
    frames: Frames, found: list[Finding], *, max_points: int = MAX_POINTS
) -> tuple[go.Figure, str | None]:
    """The timeline figure, and the bucket width when its sessions were binned."""
    fig = go.Figure()
    every = lanes.add_sessions(fig, frames, max_points)
    lanes.add_ndrs(fig, frames)
    lanes.add_events(fig, frames)
    drawn = changes(frames, found)
    if drawn.height:
        lanes.add_changes(fig, drawn)
        marks.change_lines(fig, drawn)
    marks.finding_windows(fig, found)
    _axes(fig)
    fig.update_layout(
        height=460,
        margin={"l": 10, "r": 10, "t": 60, "b": 10},
        hovermode="closest",
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0, "font": {"size": 11}},
        plot_bgcolor="#ffffff",
    )
    return fig, every
