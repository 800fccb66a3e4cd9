"""The remote hosts with the most sessions, as bars of the RCPTs accepted and refused."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from forensics.core.frames import Frames
from forensics.report.charts.labels import esc
from forensics.report.charts.style import TOP

# The stacked bars: column, legend name, colour.
_BARS = (("accepted", "RCPTs accepted", "#2e7d32"), ("refused", "RCPTs refused", "#c62828"))


def top_hosts(frames: Frames) -> go.Figure | None:
    sessions = frames.sessions.with_columns(
        pl.coalesce("remote_host", "remote_ip", pl.lit("(unnamed)")).alias("host")
    )
    if sessions.height == 0:
        return None
    top = (
        sessions.group_by("host")
        .agg(
            pl.len().alias("sessions"),
            pl.col("rcpt_accepted").sum().alias("accepted"),
            pl.col("rcpt_refused").sum().alias("refused"),
        )
        .sort(["sessions", "host"], descending=[True, False])
        .head(TOP)
        .sort(["sessions", "host"], descending=[False, True])
    )
    names = [esc(h)[:50] for h in top["host"].to_list()]
    fig = go.Figure(
        [
            go.Bar(
                y=names, x=top[column].to_list(), orientation="h", name=name, marker_color=colour
            )
            for column, name, colour in _BARS
        ]
    )
    fig.update_layout(
        barmode="stack",
        height=120 + 22 * top.height,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        title={"text": f"Top {top.height} remote hosts by sessions", "font": {"size": 14}},
        legend={"orientation": "h"},
    )
    return fig
