"""The dashboard's figures (plotly), built from the frames and the findings.

Log content is hostile: every text that comes from evidence is HTML-escaped before
it reaches a figure (plotly renders a subset of HTML in hover and annotation texts,
links included). Large inputs are binned: past ``max_points`` sessions the timeline
draws one marker per time bucket, lane and outcome, sized by its count, so the
report's size does not grow with the logs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go
import polars as pl

from forensics.core.findings import Finding
from forensics.core.frames import Frames
from forensics.rules.context import Context

LANES = ["configuration", "service events", "NDRs", "outbound sessions", "inbound sessions"]
OUTCOME_COLOURS = {
    "delivered": "#2e7d32",
    "partial": "#f9a825",
    "refused": "#c62828",
    "failed": "#ef6c00",
    "incomplete": "#6a1b9a",
    "no_mail": "#9e9e9e",
}
SEVERITY_COLOURS = {
    "critical": "#b71c1c",
    "high": "#e65100",
    "medium": "#f9a825",
    "low": "#1565c0",
    "info": "#607d8b",
}
EVENT_COLOURS = {"Error": "#c62828", "Warning": "#ef6c00"}
CATEGORY_ORDER = [
    "relay_denied",
    "unknown_recipient",
    "host_unknown",
    "unreachable",
    "auth_required",
    "sender_rejected",
    "policy_block",
    "size_limit",
    "mailbox_full",
    "expired",
    "temporary",
    "other",
]
MAX_POINTS = 4000  # markers per lane before the timeline is binned
MAX_VLINES = 25  # change lines; more would hide the data
LABEL_GAP = dt.timedelta(minutes=45)  # a change this close to a labelled one gets no label
WEBGL_FROM = 1500  # points per trace from which WebGL draws them
MIN_SPAN = dt.timedelta(hours=1)  # the narrowest time window the timeline opens on
TOP = 15  # rows of the bar charts and the relay matrix
BUCKETS = ["1m", "5m", "15m", "1h", "3h", "6h", "1d", "7d"]
_BUCKET_SECONDS = {"m": 60, "h": 3600, "d": 86400}


def escaped(text: pl.Expr) -> pl.Expr:
    """``text`` made inert for plotly's HTML-like labels (vectorized)."""
    return text.fill_null("").str.replace_many(["&", "<", ">"], ["&amp;", "&lt;", "&gt;"])


def esc(text: str | None) -> str:
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: pl.Expr, n: int = 160) -> pl.Expr:
    return pl.when(text.str.len_chars() > n).then(text.str.slice(0, n) + "…").otherwise(text)


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


def _bucket(span: dt.timedelta, target: int = 300) -> str:
    for every in BUCKETS:
        seconds = int(every[:-1]) * _BUCKET_SECONDS[every[-1]]
        if span.total_seconds() / seconds <= target:
            return every
    return BUCKETS[-1]


def _session_points(frames: Frames, max_points: int) -> tuple[pl.DataFrame, str | None]:
    """One row per marker: x, lane, outcome, count, hover."""
    sessions = frames.sessions.drop_nulls("start").with_columns(
        pl.when(pl.col("direction") == "outbound")
        .then(pl.lit("outbound sessions"))
        .otherwise(pl.lit("inbound sessions"))
        .alias("lane"),
        pl.col("outcome").fill_null("no_mail"),
    )
    if sessions.height <= max_points:
        hover = pl.concat_str(
            [
                pl.lit("<b>"),
                escaped(pl.col("outcome")),
                pl.lit("</b> "),
                escaped(pl.col("direction")),
                pl.lit(" session<br>"),
                escaped(pl.col("start").dt.strftime("%Y-%m-%d %H:%M:%S")),
                pl.lit("<br>remote: "),
                escaped(_cut(pl.coalesce("remote_host", "remote_ip", pl.lit("?")), 80)),
                pl.lit("<br>HELO: "),
                escaped(_cut(pl.col("helo"), 80)),
                pl.lit("<br>from: "),
                escaped(_cut(pl.col("mail_from"), 80)),
                pl.lit("<br>RCPTs: "),
                pl.col("rcpt_accepted").cast(pl.String).fill_null("0"),
                pl.lit(" accepted, "),
                pl.col("rcpt_refused").cast(pl.String).fill_null("0"),
                pl.lit(" refused<br>"),
                escaped(pl.col("session")),
            ]
        )
        return sessions.select(
            pl.col("start").alias("x"),
            "lane",
            "outcome",
            pl.lit(1).alias("count"),
            hover.alias("hover"),
        ), None
    span = sessions["start"].max() - sessions["start"].min()  # type: ignore[operator]
    every = _bucket(span)
    binned = (
        sessions.with_columns(pl.col("start").dt.truncate(every).alias("x"))
        .group_by("x", "lane", "outcome")
        .agg(pl.len().alias("count"), pl.col("rcpt_refused").sum().alias("refused"))
        .sort("x", "lane", "outcome")
    )
    hover = pl.concat_str(
        [
            pl.lit("<b>"),
            pl.col("count").cast(pl.String),
            pl.lit(" "),
            pl.col("outcome"),
            pl.lit("</b> "),
            pl.col("lane"),
            pl.lit("<br>from "),
            pl.col("x").dt.strftime("%Y-%m-%d %H:%M"),
            pl.lit(f" ({every})<br>"),
            pl.col("refused").cast(pl.String),
            pl.lit(" RCPTs refused"),
        ]
    )
    return binned.with_columns(hover.alias("hover")), every


def _ndr_points(frames: Frames) -> pl.DataFrame:
    ndrs = frames.ndrs.drop_nulls("ts").head(MAX_POINTS)
    hover = pl.concat_str(
        [
            pl.lit("<b>NDR</b> "),
            escaped(pl.col("refusal")),
            pl.lit("<br>"),
            escaped(_cut(pl.col("recipient"), 80)),
            pl.lit("<br>"),
            escaped(_cut(pl.coalesce("remote_text", "diagnostic", "reason_text"))),
            pl.lit("<br>"),
            escaped(pl.col("source")),
            pl.lit(":"),
            pl.col("line").cast(pl.String),
        ]
    )
    return ndrs.select(pl.col("ts").alias("x"), hover.alias("hover"), "refusal")


def _tracked_ndr_points(frames: Frames) -> pl.DataFrame:
    """The NDRs the tracking logs show (whether or not anyone forwarded them)."""
    paths = frames.paths.filter(pl.col("outcome").is_in(["ndr", "failed"])).drop_nulls("ndr_ts")
    hover = pl.concat_str(
        [
            pl.lit("<b>NDR in the tracking log</b> "),
            escaped(pl.col("refusal").fill_null("reason not known")),
            pl.lit("<br>"),
            escaped(_cut(pl.col("recipient"), 80)),
            pl.lit("<br>"),
            pl.col("seconds_to_ndr").round(0).cast(pl.Int64).cast(pl.String),
            pl.lit(" s after the message entered<br>"),
            escaped(pl.col("source")),
            pl.lit(":"),
            pl.col("line").cast(pl.String),
        ],
        ignore_nulls=True,
    )
    return paths.head(MAX_POINTS).select(pl.col("ndr_ts").alias("x"), hover.alias("hover"))


def _event_points(frames: Frames) -> pl.DataFrame:
    events = frames.service_events.drop_nulls("ts").head(MAX_POINTS)
    hover = pl.concat_str(
        [
            pl.lit("<b>"),
            escaped(pl.col("event_source")),
            pl.lit(" "),
            pl.col("event_id").cast(pl.String).fill_null("?"),
            pl.lit("</b> "),
            escaped(pl.col("type")),
            pl.lit("<br>"),
            escaped(_cut(pl.col("message"))),
            pl.lit("<br>"),
            escaped(pl.col("source")),
            pl.lit(":"),
            pl.col("line").cast(pl.String),
        ]
    )
    return events.select(pl.col("ts").alias("x"), hover.alias("hover"), "type")


def changes(frames: Frames, found: list[Finding]) -> pl.DataFrame:
    """The changes to draw: the change log, registry values that differ between
    snapshots, and the inferred changes findings are tied to."""
    rows = Context(frames).changes.select(
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
    inferred = [
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
    if inferred:
        rows = pl.concat([rows, pl.DataFrame(inferred, schema=rows.schema)])
    return rows.drop_nulls("ts").unique(maintain_order=True).sort("ts")


def _scatter(n: int, **kwargs: Any) -> go.Scatter | go.Scattergl:
    """SVG markers for a few points (the range slider shows them), WebGL for many."""
    return go.Scattergl(**kwargs) if n > WEBGL_FROM else go.Scatter(**kwargs)


def _add_lane(
    fig: go.Figure, lane: str, name: str, x: pl.Series, hover: pl.Series, marker: dict
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
            hovertext=hover.to_list(),
            hoverinfo="text",
        )
    )


def timeline(
    frames: Frames, found: list[Finding], *, max_points: int = MAX_POINTS
) -> tuple[go.Figure, str | None]:
    fig = go.Figure()
    points, every = _session_points(frames, max_points)
    for outcome, colour in OUTCOME_COLOURS.items():
        part = points.filter(pl.col("outcome") == outcome)
        if part.height == 0:
            continue
        bad = outcome in ("refused", "failed", "partial")
        sizes = (
            (part["count"].cast(pl.Float64).sqrt() * 4 + 5).to_list()
            if every
            else [11 if bad else 7] * part.height
        )
        fig.add_trace(
            _scatter(
                part.height,
                x=part["x"].to_list(),
                y=part["lane"].to_list(),
                mode="markers",
                name="session " + outcome.replace("_", " "),
                marker={
                    "color": colour,
                    "size": sizes,
                    "symbol": "x" if bad else "circle",
                    "line": {"width": 0},
                    "opacity": 0.85,
                },
                hovertext=part["hover"].to_list(),
                hoverinfo="text",
            )
        )
    ndrs = _ndr_points(frames)
    _add_lane(
        fig,
        "NDRs",
        "NDR recipients",
        ndrs["x"],
        ndrs["hover"],
        {"color": "#c62828", "size": 10, "symbol": "triangle-down"},
    )
    tracked = _tracked_ndr_points(frames)
    _add_lane(
        fig,
        "NDRs",
        "NDRs in the tracking log",
        tracked["x"],
        tracked["hover"],
        {"color": "#ef9a9a", "size": 8, "symbol": "triangle-down-open"},
    )
    events = _event_points(frames)
    colours = [EVENT_COLOURS.get(t or "", "#78909c") for t in events["type"].to_list()]
    _add_lane(
        fig,
        "service events",
        "service events",
        events["x"],
        events["hover"],
        {"color": colours, "size": 10, "symbol": "square"},
    )
    drawn = changes(frames, found)
    if drawn.height:
        hover = drawn.select(
            pl.concat_str(
                [
                    pl.lit("<b>change</b> ("),
                    pl.col("origin"),
                    pl.lit(", time "),
                    pl.col("ts_quality").fill_null("unknown"),
                    pl.lit(")<br>"),
                    escaped(_cut(pl.col("text"))),
                    pl.lit("<br>"),
                    escaped(pl.col("source").fill_null("")),
                    pl.lit(":"),
                    pl.col("line").cast(pl.String).fill_null(""),
                ]
            )
        ).to_series()
        _add_lane(
            fig,
            "configuration",
            "configuration changes",
            drawn["ts"],
            hover,
            {"color": "#37474f", "size": 12, "symbol": "diamond"},
        )
        labelled: dt.datetime | None = None
        for row in drawn.head(MAX_VLINES).iter_rows(named=True):
            # The setting's name labels the line; the diamond's hover has the rest.
            name = row["text"].split(":")[0].split("\\")[-1][:32]
            label = None
            if labelled is None or row["ts"] - labelled >= LABEL_GAP:
                label, labelled = esc(name), row["ts"]
            line = {
                "color": "#37474f",
                "width": 1,
                "dash": "dot" if row["origin"] == "inferred" else "dash",
            }
            if label:
                fig.add_vline(
                    x=row["ts"],
                    line=line,
                    annotation={
                        "text": label,
                        "textangle": -90,
                        "font": {"size": 10, "color": "#37474f"},
                    },
                    annotation_position="top left",
                )
            else:
                fig.add_vline(x=row["ts"], line=line)
    for f in found:
        if not (f.first_seen and f.last_seen) or f.severity in ("info",):
            continue
        end = f.last_seen if f.last_seen > f.first_seen else f.first_seen + dt.timedelta(minutes=1)
        fig.add_vrect(
            x0=f.first_seen,
            x1=end,
            fillcolor=SEVERITY_COLOURS[f.severity],
            opacity=0.08,
            line_width=0,
            annotation={
                "text": esc(f.kb[0]),
                "font": {"size": 10, "color": SEVERITY_COLOURS[f.severity]},
            },
            annotation_position="top right",
        )
    fig.update_yaxes(categoryorder="array", categoryarray=LANES, type="category", fixedrange=True)
    fig.update_xaxes(rangeslider={"visible": True, "thickness": 0.08}, type="date")
    # A handful of steps a few seconds apart would fill the axis with milliseconds:
    # show at least an hour around them.
    times = [t for trace in fig.data for t in (trace.x or ()) if t is not None]
    if times and max(times) - min(times) < MIN_SPAN:
        middle = min(times) + (max(times) - min(times)) / 2
        fig.update_xaxes(range=[middle - MIN_SPAN / 2, middle + MIN_SPAN / 2])
    fig.update_layout(
        height=460,
        margin={"l": 10, "r": 10, "t": 60, "b": 10},
        hovermode="closest",
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0, "font": {"size": 11}},
        plot_bgcolor="#ffffff",
    )
    return fig, every


def windows(found: list[Finding]) -> go.Figure | None:
    """Each finding's window as a bar (a Gantt chart of the incident)."""
    rows = [
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
                marker_color=SEVERITY_COLOURS.get(severity, "#78909c"),
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


def refusals_per_hour(frames: Frames) -> go.Figure | None:
    refused = frames.recipients.filter(pl.col("refusal").is_not_null()).drop_nulls("ts")
    if refused.height == 0:
        return None
    span = refused["ts"].max() - refused["ts"].min()  # type: ignore[operator]
    every = "1h" if span <= dt.timedelta(days=14) else "1d"
    counts = (
        refused.with_columns(pl.col("ts").dt.truncate(every).alias("hour"))
        .group_by("hour", "refusal")
        .len()
        .sort("hour")
    )
    fig = go.Figure()
    for category in CATEGORY_ORDER:
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
                y=names,
                x=top["accepted"].to_list(),
                orientation="h",
                name="RCPTs accepted",
                marker_color="#2e7d32",
            ),
            go.Bar(
                y=names,
                x=top["refused"].to_list(),
                orientation="h",
                name="RCPTs refused",
                marker_color="#c62828",
            ),
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


def relay_matrix(frames: Frames) -> go.Figure | None:
    """Relay attempts (inbound RCPTs to outside domains): client x recipient domain,
    coloured by the share refused."""
    attempts = (
        frames.recipients.filter((pl.col("direction") == "inbound") & (pl.col("local") == False))  # noqa: E712
        .join(frames.sessions.select("session", "remote_host"), on="session", how="left")
        .with_columns(pl.coalesce("remote_ip", "remote_host", pl.lit("(unnamed)")).alias("client"))
    )
    if attempts.height == 0:
        return None
    clients = (
        attempts.group_by("client")
        .len()
        .sort(["len", "client"], descending=[True, False])
        .head(TOP)["client"]
    )
    domains = (
        attempts.group_by("rcpt_domain")
        .len()
        .sort(["len", "rcpt_domain"], descending=[True, False])
        .head(TOP)["rcpt_domain"]
    )
    cells = (
        attempts.filter(
            pl.col("client").is_in(clients.to_list())
            & pl.col("rcpt_domain").is_in(domains.to_list())
        )
        .group_by("client", "rcpt_domain")
        .agg(
            pl.col("accepted").fill_null(False).sum().alias("accepted"),
            (~pl.col("accepted").fill_null(True)).sum().alias("refused"),
        )
    )
    lookup = {(r["client"], r["rcpt_domain"]): r for r in cells.iter_rows(named=True)}
    z: list[list[Any]] = []
    text: list[list[str]] = []
    for c in clients.to_list():
        z_row, t_row = [], []
        for d in domains.to_list():
            cell = lookup.get((c, d))
            if cell is None:
                z_row.append(None)
                t_row.append("")
            else:
                total = cell["accepted"] + cell["refused"]
                z_row.append(cell["refused"] / total if total else None)
                t_row.append(f"{cell['accepted']} accepted, {cell['refused']} refused")
        z.append(z_row)
        text.append(t_row)
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[esc(d)[:40] for d in domains.to_list()],
            y=[esc(c)[:40] for c in clients.to_list()],
            text=text,
            hovertemplate="%{y} → %{x}<br>%{text}<extra></extra>",
            colorscale=[[0, "#2e7d32"], [0.5, "#f9a825"], [1, "#c62828"]],
            zmin=0,
            zmax=1,
            colorbar={"title": {"text": "share refused"}},
        )
    )
    fig.update_layout(
        height=160 + 24 * len(clients),
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        title={"text": "Relay attempts: client × outside recipient domain", "font": {"size": 14}},
        yaxis={"autorange": "reversed"},
    )
    return fig


def build(frames: Frames, found: list[Finding], *, max_points: int = MAX_POINTS) -> Figures:
    main, every = timeline(frames, found, max_points=max_points)
    return Figures(
        timeline=main,
        windows=windows(found),
        refusals=refusals_per_hour(frames),
        hosts=top_hosts(frames),
        matrix=relay_matrix(frames),
        binned=every,
    )
