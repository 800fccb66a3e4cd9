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


def test_utf16_csv_export(tmp_path):
    text = (EVENTS / "system-modern.csv").read_text(encoding="cp1252")
    (tmp_path / "system.csv").write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    frames = ingest([tmp_path / "system.csv"])
    assert frames.inputs["encoding"][0] == "utf-16-le"
    assert frames.service_events["event_id"].to_list() == [4031, 1001]


def test_an_unterminated_quote_stops_the_reading_and_is_counted(tmp_path):
    (tmp_path / "broken.csv").write_text(
        "Level,Date and Time,Source,Event ID,Task Category\n"
        "Error,5/16/2000 9:14:03 AM,MSExchangeIMC,4031,SMTP Interface Events,ok\n"
        'Error,5/16/2000 9:15:00 AM,MSExchangeIMC,4031,SMTP Interface Events,"never closed\n'
        "Information,5/16/2000 9:20:00 AM,MSExchangeIMC,1001,Service Control,lost\n"
    )
    frames = ingest([tmp_path / "broken.csv"])
    assert frames.service_events["line"].to_list() == [2]
    (bad,) = frames.unparsed.to_dicts()
    assert bad["line"] == 3 and "quote is left open" in bad["reason"]


def test_dr_watson_crash_time_is_read_from_the_message_in_the_events_date_order():
    import datetime as dt

    import polars as pl

    from forensics.derive.crashes import crash_times

    message = (
        "The application, exe\\MSEXCIMC.dbg, generated an application error The error "
        "occurred on {} @ 17:27:29.240 The exception generated was c0000005"
    )
    events = pl.DataFrame(
        {
            "ts": [dt.datetime(1997, 12, 2, 17, 30), dt.datetime(1997, 12, 2, 17, 30)] * 2,
            "message": [
                message.format("12/ 2/1997"),  # US order, space-padded day
                message.format(" 2/12/1997"),  # day first: the event's date decides
                message.format("13/13/1997"),  # neither reading is the event's date
                "The Internet Mail Service started successfully.",
            ],
        }
    )
    crash = dt.datetime(1997, 12, 2, 17, 27, 29)
    assert crash_times(events).to_list() == [crash, crash, None, None]
