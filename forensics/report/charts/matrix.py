"""The relay matrix: relay attempts (inbound RCPTs to outside domains) as a heat map of
client by recipient domain, coloured by the share refused."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import polars as pl

from forensics.core.frames import Frames
from forensics.report.charts.labels import esc
from forensics.report.charts.style import TOP


def _attempts(frames: Frames) -> pl.DataFrame:
    """Inbound RCPTs to domains that are not local, with the ``client`` that sent them."""
    return (
        frames.recipients.filter((pl.col("direction") == "inbound") & (pl.col("local") == False))  # noqa: E712
        .join(frames.sessions.select("session", "remote_host"), on="session", how="left")
        .with_columns(pl.coalesce("remote_ip", "remote_host", pl.lit("(unnamed)")).alias("client"))
    )


def _top(attempts: pl.DataFrame, column: str) -> list[Any]:
    """The TOP values of ``column`` with the most attempts (ties by value)."""
    ranked = attempts.group_by(column).len().sort(["len", column], descending=[True, False])
    return ranked.head(TOP)[column].to_list()


def _grid(
    cells: pl.DataFrame, clients: list[Any], domains: list[Any]
) -> tuple[list[list[Any]], list[list[str]]]:
    """The share refused (None where no attempt) and the counts as text, a row per client."""
    lookup = {(r["client"], r["rcpt_domain"]): r for r in cells.iter_rows(named=True)}
    z: list[list[Any]] = []
    text: list[list[str]] = []
    for c in clients:
        z_row: list[Any] = []
        t_row: list[str] = []
        for d in domains:
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
    return z, text


def relay_matrix(frames: Frames) -> go.Figure | None:
    """Relay attempts: client x recipient domain, coloured by the share refused."""
    attempts = _attempts(frames)
    if attempts.height == 0:
        return None
    clients, domains = _top(attempts, "client"), _top(attempts, "rcpt_domain")
    cells = (
        attempts.filter(pl.col("client").is_in(clients) & pl.col("rcpt_domain").is_in(domains))
        .group_by("client", "rcpt_domain")
        .agg(
            pl.col("accepted").fill_null(False).sum().alias("accepted"),
            (~pl.col("accepted").fill_null(True)).sum().alias("refused"),
        )
    )
    z, text = _grid(cells, clients, domains)
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[esc(d)[:40] for d in domains],
            y=[esc(c)[:40] for c in clients],
            text=text,  # type: ignore[arg-type]  # plotly-stubs: a flat list only
            hovertemplate="%{y} → %{x}<br>%{text}<extra></extra>",
            colorscale=[(0, "#2e7d32"), (0.5, "#f9a825"), (1, "#c62828")],
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
