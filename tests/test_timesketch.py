"""--timesketch: JSON Lines that Timesketch imports (its three required attributes on
every line, an ISO 8601 time with an offset), one event per session, refusal, NDR,
change and service event, each citing its file and line and its findings."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
from click.testing import CliRunner

from forensics.cli import cli
from forensics.core.errors import EXIT_OK, EXIT_USAGE
from forensics.derive.changes import recorded
from forensics.ingest import ingest
from forensics.rules import evaluate
from tests.conftest import SAMPLES


def _export(tmp_path, sample, *options):
    out = tmp_path / "timeline.jsonl"
    args = ["analyze", str(SAMPLES / sample), "-q", "-o", str(tmp_path / "r.html")]
    result = CliRunner().invoke(cli, [*args, "--timesketch", str(out), *options])
    assert result.exit_code == EXIT_OK, result.output
    return [json.loads(line) for line in out.read_text().splitlines()]


def test_every_line_is_an_event_timesketch_imports(tmp_path):
    sample = "q256856-relay-prohibited-local"
    events = _export(tmp_path, sample, "--timezone", "+02:00")
    frames = ingest([SAMPLES / sample])
    found = evaluate(frames)
    paths = set(frames.inputs["path"])
    for event in events:
        assert isinstance(event["message"], str) and event["message"]
        assert isinstance(event["timestamp_desc"], str) and event["timestamp_desc"]
        when = dt.datetime.fromisoformat(event["datetime"])
        assert when.utcoffset() == dt.timedelta(hours=2)
        assert event["source_file"] in paths and event["source_line"] >= 1
        assert "--timezone" in event["time_offset_assumed"]
    refused = frames.recipients.filter(~pl.col("accepted").fill_null(False)).height
    wanted = (
        frames.sessions.height
        + refused
        + frames.ndrs.height
        + recorded(frames.config).height
        + frames.service_events.height
    )
    assert len(events) == wanted
    kinds = {e["timestamp_desc"] for e in events}
    assert {"Session start", "RCPT refused", "NDR", "Configuration change"} <= kinds
    # Each finding's evidence lines carry its rule id, and only those.
    cited = {(e["source"], e["line"]) for f in found for e in f.evidence}
    for event in events:
        place = (event["source_file"], event["source_line"])
        assert bool(event["finding"]) == (place in cited)
    times = [e["datetime"] for e in events]
    assert times == sorted(times)


def test_utc_formats_keep_utc_whatever_the_local_offset(tmp_path):
    sample = "exchange2013-relay-denied-local"
    events = _export(tmp_path, sample, "--timezone", "-05:00")
    inputs = ingest([SAMPLES / sample]).inputs
    protocol = set(inputs.filter(pl.col("format") == "exchange")["path"])
    ours = [e for e in events if e["source_file"] in protocol]
    others = [e for e in events if e["source_file"] not in protocol]
    assert ours and others
    assert all(e["datetime"].endswith("+00:00") for e in ours)
    assert all(e["datetime"].endswith("-05:00") for e in others)


def test_an_offset_that_is_none_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(
        cli,
        [
            "analyze", str(SAMPLES / "healthy-baseline"), "-o", str(tmp_path / "r.html"),
            "--timesketch", str(tmp_path / "t.jsonl"), "--timezone", "Mars/Olympus",
        ],
    )  # fmt: skip
    assert result.exit_code == EXIT_USAGE and "+02:00" in result.output
    assert not (tmp_path / "t.jsonl").exists()
