"""The timeline's marker traces: sessions by outcome, NDRs, service events and
configuration changes, each on its lane."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import polars as pl

from forensics.core.frames import Frames
from forensics.report.charts import hover, points
from forensics.report.charts.style import (
    CHANGE_COLOUR,
    EVENT_COLOURS,
    OTHER_COLOUR,
    OUTCOME_COLOURS,
    OUTCOME_NAMES,
    WEBGL_FROM,
)

_BAD = ("refused", "failed", "partial")  # outcomes drawn as a larger cross
_RELAYED = "relayed"  # drawn as a larger diamond


def _scatter(n: int, **kwargs: Any) -> go.Scatter | go.Scattergl:
    """SVG markers for a few points (the range slider shows them), WebGL for many."""
    return go.Scattergl(**kwargs) if n > WEBGL_FROM else go.Scatter(**kwargs)


def _add_lane(
    fig: go.Figure, lane: str, name: str, x: pl.Series, texts: pl.Series, marker: dict[str, Any]
) -> None:
    """One trace of markers on one lane of the timeline (none when empty)."""
    if x.len() == 0:
        return
    fig.add_trace(
        _scatter(
            x.len(),
            x=x.to_list(),
            y=[lane] * x.len(),
            mode="markers",
            name=name,
            marker=marker,
            hovertext=texts.to_list(),
            hoverinfo="text",
        )
    )


def add_sessions(fig: go.Figure, frames: Frames, max_points: int) -> str | None:
    """A trace per session outcome, on the inbound and outbound lanes; the bucket
    width when the sessions were binned (markers then sized by their count)."""
    rows, every = points.session_points(frames, max_points)
    for outcome, colour in OUTCOME_COLOURS.items():
        part = rows.filter(pl.col("outcome") == outcome)
        if part.height == 0:
            continue
        bad = outcome in _BAD
        relayed = outcome == _RELAYED
        sizes = (
            (part["count"].cast(pl.Float64).sqrt() * 4 + 5).to_list()
            if every
            else [11 if bad or relayed else 7] * part.height
        )
        fig.add_trace(
            _scatter(
                part.height,
                x=part["x"].to_list(),
                y=part["lane"].to_list(),
                mode="markers",
                name="session " + OUTCOME_NAMES.get(outcome, outcome.replace("_", " ")),
                marker={
                    "color": colour,
                    "size": sizes,
                    "symbol": "x" if bad else "diamond" if relayed else "circle",
                    "line": {"width": 0},
                    "opacity": 0.85,
                },
                hovertext=part["hover"].to_list(),
                hoverinfo="text",
            )
        )
    return every


def add_ndrs(fig: go.Figure, frames: Frames) -> None:
    """The NDRs users forwarded and those the tracking logs show, on the NDR lane."""
    ndrs = points.ndr_points(frames)
    marker = {"color": "#c62828", "size": 10, "symbol": "triangle-down"}
    _add_lane(fig, "NDRs", "NDR recipients", ndrs["x"], ndrs["hover"], marker)
    tracked = points.tracked_ndr_points(frames)
    marker = {"color": "#ef9a9a", "size": 8, "symbol": "triangle-down-open"}
    _add_lane(fig, "NDRs", "NDRs in the tracking log", tracked["x"], tracked["hover"], marker)


def add_events(fig: go.Figure, frames: Frames) -> None:
    """The service events, coloured by type."""
    events = points.event_points(frames)
    colours = [EVENT_COLOURS.get(t or "", OTHER_COLOUR) for t in events["type"].to_list()]
    marker = {"color": colours, "size": 10, "symbol": "square"}
    _add_lane(fig, "service events", "service events", events["x"], events["hover"], marker)


def add_changes(fig: go.Figure, drawn: pl.DataFrame) -> None:
    """A diamond per change on the configuration lane."""
    texts = drawn.select(hover.change()).to_series()
    marker = {"color": CHANGE_COLOUR, "size": 12, "symbol": "diamond"}
    _add_lane(fig, "configuration", "configuration changes", drawn["ts"], texts, marker)
