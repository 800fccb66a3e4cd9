"""Every figure of the dashboard, built once per report from the frames and the findings."""

from __future__ import annotations

from dataclasses import dataclass

import plotly.graph_objects as go

from forensics.core.findings import Finding
from forensics.core.frames import Frames
from forensics.report.charts.gantt import windows
from forensics.report.charts.hosts import top_hosts
from forensics.report.charts.matrix import relay_matrix
from forensics.report.charts.refusals import refusals_per_hour
from forensics.report.charts.style import MAX_POINTS
from forensics.report.timeline import timeline


@dataclass
class Figures:
    timeline: go.Figure
    windows: go.Figure | None
    refusals: go.Figure | None
    hosts: go.Figure | None
    matrix: go.Figure | None
    binned: str | None  # the bucket width when the timeline is binned

    def as_dict(self) -> dict[str, go.Figure]:
        named = {
            "timeline": self.timeline,
            "windows": self.windows,
            "refusals": self.refusals,
            "hosts": self.hosts,
            "matrix": self.matrix,
        }
        return {k: v for k, v in named.items() if v is not None}


def build_figures(frames: Frames, found: list[Finding], *, max_points: int = MAX_POINTS) -> Figures:
    main, every = timeline(frames, found, max_points=max_points)
    return Figures(
        timeline=main,
        windows=windows(found),
        refusals=refusals_per_hour(frames),
        hosts=top_hosts(frames),
        matrix=relay_matrix(frames),
        binned=every,
    )
