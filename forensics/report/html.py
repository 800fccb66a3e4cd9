"""The HTML report. Until the dashboard exists it is a summary page: the findings,
what was read, the refusals, every input with its hash.

Rendered with Jinja2 and autoescaping on: log content (host names, addresses,
reply texts, file names) never becomes markup."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import jinja2
import polars as pl

from forensics.errors import OutputError
from forensics.findings import Finding
from forensics.ingest import Frames
from forensics.summary import Summary

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("forensics.report", "templates"),
    autoescape=True,  # every template, whatever its name
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

TOP_REFUSALS = 50


def render(frames: Frames, summary: Summary, found: list[Finding], *, version: str) -> str:
    refused = (
        frames.recipients.filter(pl.col("accepted") == False)  # noqa: E712
        .sort("ts", "source", "line", nulls_last=True)
        .head(TOP_REFUSALS)
    )
    return _ENV.get_template("summary.html.j2").render(
        summary=summary,
        findings=[f.as_json() for f in found],
        inputs=frames.inputs.sort("path").to_dicts(),
        refused=refused.to_dicts(),
        refused_total=summary.rcpt_refused,
        generated=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        version=version,
    )


def write(path: Path, html: str) -> None:
    try:
        path.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise OutputError(
            f"cannot write the report to {path}: {exc.strerror or exc}; "
            "choose another place with -o"
        ) from exc
