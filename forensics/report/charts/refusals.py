"""Refused RCPTs per hour (or per day over a long span), stacked by refusal category
in replies.toml's order."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from forensics.core.frames import Frames
from forensics.knowledge import load
from forensics.report.charts.buckets import hour_or_day, span


def refusals_per_hour(frames: Frames) -> go.Figure | None:
    refused = frames.recipients.filter(pl.col("refusal").is_not_null()).drop_nulls("ts")
    if refused.height == 0:
        return None
    every = hour_or_day(span(refused["ts"]))
    counts = (
        refused.with_columns(pl.col("ts").dt.truncate(every).alias("hour"))
        .group_by("hour", "refusal")
        .len()
        .sort("hour")
    )
    fig = go.Figure()
    for category in load("replies")["categories"]:
        part = counts.filter(pl.col("refusal") == category)
        if part.height:
            fig.add_trace(
                go.Bar(
                    x=part["hour"].to_list(),
                    y=part["len"].to_list(),
                    name=category.replace("_", " "),
                    marker_color="#c62828" if category == "relay_denied" else None,
                )
            )
    fig.update_layout(
        barmode="stack",
        height=300,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        title={
            "text": f"Refused RCPTs per {'hour' if every == '1h' else 'day'}",
            "font": {"size": 14},
        },
        legend={"orientation": "h"},
    )
    return fig
