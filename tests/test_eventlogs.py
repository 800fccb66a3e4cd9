"""Event Viewer exports -> service_events. Expected values read off the fixtures."""

from __future__ import annotations

import datetime as dt

from forensics.ingest import ingest
from tests.conftest import FIXTURES

EVENTS = FIXTURES / "events"


def test_nt4_save_as_text_without_header():
    frames = ingest([EVENTS / "application-nt4.txt"])
    assert frames.inputs["format"][0] == "eventlog"
    crash, scm, imc = frames.service_events.to_dicts()
    assert (crash["ts"], crash["event_source"], crash["event_id"], crash["type"]) == (
        dt.datetime(1997, 12, 2, 17, 27, 29),
        "DrWatson",
        4097,
        "Information",
    )
    assert crash["computer"] == "EXCHSRV" and crash["line"] == 1
    assert "c0000005 at address 77f64654 (RtlAllocateHeap)" in crash["message"]
    assert (scm["event_source"], scm["event_id"]) == ("Service Control Manager", 7031)
    assert (imc["category"], imc["event_id"]) == ("Initialization", 4086)
    (bad,) = frames.unparsed.to_dicts()
    assert (bad["line"], bad["text"]) == (4, "not an event")


def test_modern_csv_with_a_multi_line_description():
    frames = ingest([EVENTS / "system-modern.csv"])
    first, second = frames.service_events.to_dicts()
    assert (first["ts"], first["event_id"], first["category"]) == (
        dt.datetime(2000, 5, 16, 9, 14, 3),
        4031,
        "SMTP Interface Events",
    )
    # The remote reply embedded in event 4031 survives the line break inside quotes.
    assert first["message"].endswith("550 Relaying mail to <bob@partner-a.example> is not allowed.")
    assert (first["line"], second["line"]) == (2, 4)
    assert second["type"] == "Information" and second["event_id"] == 1001
