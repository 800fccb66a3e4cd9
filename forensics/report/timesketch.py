"""The timeline as Timesketch imports it: JSON Lines, one event per line, with the
three attributes Timesketch requires (``message``, ``datetime``, ``timestamp_desc``)
and this tool's own: the file and line that show the event, what kind of row it
comes from, and the findings whose evidence cites that line.

Events: each SMTP session (at its start), each refused RCPT, each NDR recipient,
each recorded configuration change, each service event. Times are written with an
offset: the logs' own times carry none (they are the server's local time, as
written), so they are given the offset the user names (``--timezone``, UTC when not
given), except for the formats whose times are UTC by definition (formats.toml
``utc``). Every line says which offset was assumed.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from forensics.core.findings import Finding
from forensics.core.frames import Frames
from forensics.derive.changes import recorded
from forensics.knowledge import load

_COLUMNS = ("ts", "timestamp_desc", "message", "data_type", "source_file", "source_line")


def _session_events(frames: Frames) -> pl.DataFrame:
    first = frames.events.group_by("session").agg(pl.col("line").min().alias("source_line"))
    s = frames.sessions.join(first, on="session", how="left")
    client = pl.concat_str(
        [
            pl.col("remote_host").fill_null(""),
            pl.lit("["),
            pl.col("remote_ip").fill_null("?"),
            pl.lit("]"),
        ]
    )
    return s.select(
        pl.col("start").alias("ts"),
        pl.lit("Session start").alias("timestamp_desc"),
        pl.concat_str(
            [
                pl.col("direction"),
                pl.lit(" SMTP session with "),
                client,
                pl.lit(": "),
                pl.col("outcome"),
                pl.lit(", "),
                pl.col("rcpt_total").cast(pl.String),
                pl.lit(" RCPTs ("),
                pl.col("rcpt_refused").cast(pl.String),
                pl.lit(" refused)"),
            ]
        ).alias("message"),
        pl.lit("smtp-forensics:session").alias("data_type"),
        pl.col("source").alias("source_file"),
        pl.col("source_line"),
    )


def _refusals(frames: Frames) -> pl.DataFrame:
    refused = frames.recipients.filter(~pl.col("accepted").fill_null(False))
    return refused.select(
        "ts",
        pl.lit("RCPT refused").alias("timestamp_desc"),
        pl.concat_str(
            [
                pl.lit("RCPT TO:<"),
                pl.col("rcpt").fill_null(""),
                pl.lit("> from "),
                pl.col("remote_ip").fill_null("?"),
                pl.lit(" refused: "),
                pl.col("code").cast(pl.String).fill_null(""),
                pl.lit(" "),
                pl.col("text").fill_null(""),
                pl.lit(" ("),
                pl.col("refusal").fill_null("other"),
                pl.lit(")"),
            ]
        ).alias("message"),
        pl.lit("smtp-forensics:refusal").alias("data_type"),
        pl.col("source").alias("source_file"),
        pl.col("line").alias("source_line"),
    )


def _ndrs(frames: Frames) -> pl.DataFrame:
    return frames.ndrs.select(
        "ts",
        pl.lit("NDR").alias("timestamp_desc"),
        pl.concat_str(
            [
                pl.lit("non-delivery report for "),
                pl.col("recipient").fill_null("?"),
                pl.lit(": "),
                pl.coalesce("diagnostic", "remote_text", "reason_text").fill_null(""),
            ]
        ).alias("message"),
        pl.lit("smtp-forensics:ndr").alias("data_type"),
        pl.col("source").alias("source_file"),
        pl.col("line").alias("source_line"),
    )


def _changes(frames: Frames) -> pl.DataFrame:
    return recorded(frames.config).select(
        "ts",
        pl.lit("Configuration change").alias("timestamp_desc"),
        pl.concat_str(
            [
                pl.col("key"),
                pl.lit(": "),
                pl.col("old").fill_null("(none)"),
                pl.lit(" -> "),
                pl.col("new").fill_null("(none)"),
            ]
        ).alias("message"),
        pl.lit("smtp-forensics:change").alias("data_type"),
        pl.col("source").alias("source_file"),
        pl.col("line").alias("source_line"),
    )


def _service(frames: Frames) -> pl.DataFrame:
    return frames.service_events.select(
        "ts",
        pl.lit("Service event").alias("timestamp_desc"),
        pl.concat_str(
            [pl.col("event_source").fill_null(""), pl.lit(": "), pl.col("message").fill_null("")]
        ).alias("message"),
        pl.lit("smtp-forensics:service").alias("data_type"),
        pl.col("source").alias("source_file"),
        pl.col("line").alias("source_line"),
    )


def _cited(found: list[Finding]) -> pl.DataFrame:
    """(source_file, source_line) -> the rule ids whose evidence cites that line."""
    rows = [
        {"source_file": e["source"], "source_line": e["line"], "finding": f.rule}
        for f in found
        for e in f.evidence
        if e.get("source") is not None and e.get("line") is not None
    ]
    schema = {"source_file": pl.String, "source_line": pl.UInt32, "finding": pl.String}
    frame = pl.DataFrame(rows, schema=schema)
    return frame.unique().group_by("source_file", "source_line").agg(pl.col("finding").sort())


def render(frames: Frames, found: list[Finding], offset: dt.timezone = dt.UTC) -> str:
    """The JSON Lines document (one event per line, in time order)."""
    parts = [
        p.select(*_COLUMNS).with_columns(pl.col("source_line").cast(pl.UInt32))
        for p in (
            _session_events(frames),
            _refusals(frames),
            _ndrs(frames),
            _changes(frames),
            _service(frames),
        )
    ]
    events = pl.concat(parts).drop_nulls("ts")
    utc = {f["name"] for f in load("formats")["format"] if f.get("utc")}
    formats = frames.inputs.select(pl.col("path").alias("source_file"), "format")
    zone = _offset_text(offset)
    events = (
        events.join(formats, on="source_file", how="left")
        .join(_cited(found), on=["source_file", "source_line"], how="left")
        .with_columns(pl.col("format").is_in(list(utc)).fill_null(False).alias("_utc"))
        .with_columns(
            pl.concat_str(
                [
                    pl.col("ts").dt.strftime("%Y-%m-%dT%H:%M:%S%.6f"),
                    pl.when(pl.col("_utc")).then(pl.lit("+00:00")).otherwise(pl.lit(zone)),
                ]
            ).alias("datetime"),
            pl.when(pl.col("_utc"))
            .then(pl.lit("UTC: the format's times are UTC"))
            .otherwise(pl.lit(f"{zone}: the log names no zone; taken as given by --timezone"))
            .alias("time_offset_assumed"),
        )
        .sort("ts", "source_file", "source_line", "timestamp_desc", nulls_last=True)
        .select(
            "message",
            "datetime",
            "timestamp_desc",
            "data_type",
            "source_file",
            "source_line",
            pl.col("finding").fill_null(pl.lit([], pl.List(pl.String))),
            "time_offset_assumed",
        )
    )
    return events.write_ndjson()


def _offset_text(offset: dt.timezone) -> str:
    delta = offset.utcoffset(None)
    sign = "-" if delta < dt.timedelta(0) else "+"
    minutes = abs(int(delta.total_seconds())) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"
