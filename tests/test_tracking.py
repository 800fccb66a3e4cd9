"""Message tracking logs: the three generations read record by record, and their
paths joined with the sessions and NDRs of the same evidence.

The fixtures are written by hand for the cases a generator would not think of (a
line cut short, a 12-hour clock with the year first, a recipient on the record's
own line, a quoted subject with a comma, a FAIL status in the braced form, a DSN);
the samples are written by the generator, whose own account of the paths it wrote
is what the joins are held to.
"""

from __future__ import annotations

import datetime as dt
import shutil

import polars as pl
import pytest

from benchmarks.samples import SCENARIOS, write_scenario
from forensics.core.findings import rule_meta
from forensics.ingest import ingest
from forensics.rules import evaluate
from tests.conftest import FIXTURES

TRACKING = FIXTURES / "tracking"
BY_NAME = {s.name: s for s in SCENARIOS}


@pytest.mark.parametrize(
    ("name", "fmt", "records", "bad", "lines"),
    [
        # 4 record lines, 3 recipient lines; the blank line; the line cut short
        ("exchange55-19990607.log", "tracking-5x", 7, [9], 9),
        # 3 header lines, 4 records (the short one leaves trailing fields off), a
        # blank line, a line with more fields than named
        ("exchange2003-20030515.log", "tracking-2000", 4, [9], 9),
        # 5 header lines, 5 records, an unterminated quote
        ("MSGTRK20090607-1.LOG", "tracking-2007", 5, [11], 11),
    ],
)
def test_each_generation_is_read_and_every_line_accounted_for(name, fmt, records, bad, lines):
    found = ingest([TRACKING / name])
    row = found.inputs.row(0, named=True)
    assert (row["format"], row["records"], row["unparsed"], row["lines"]) == (
        fmt,
        records,
        len(bad),
        lines,
    )
    assert found.unparsed["line"].to_list() == bad


def test_an_exchange_5x_ndr_record_in_full():
    found = ingest([TRACKING / "exchange55-19990607.log"])
    ndr = found.tracking.filter(pl.col("event_id") == "1017").row(0, named=True)
    assert ndr == {
        "source": "exchange55-19990607.log",
        "line": 4,
        "ts": dt.datetime(1999, 6, 7, 18, 45, 6),  # no protocol log: as written
        "ts_utc": dt.datetime(1999, 6, 7, 18, 45, 6),
        "log": "exchange-5x",
        "event": "ndr",
        "event_id": "1017",
        "message_id": "c=US;a= ;p=Tailspin Toys;l=MAILGATE-990607134455Z-12",
        "internal_id": None,
        "linked_id": "c=US;a= ;p=Tailspin Toys;l=MAILGATE-990607184506Z-13",
        "sender": "/O=TAILSPIN TOYS/OU=HEAD OFFICE/CN=RECIPIENTS/CN=JSMITH",
        "recipient": "jon.ito@isp-west.example",
        "recipient_status": "1",
        "code": None,
        "status": None,
        "text": None,
        "refusal": None,
        "client_ip": None,
        "client_host": None,
        "server_ip": None,
        "server_host": None,
        "partner": "IMS",
        "session": None,
        "subject": None,
        "bytes": 2113,
    }
    # The 12-hour clock with the year first, its recipient on its own line.
    inline = found.tracking.filter(pl.col("event_id") == "1012").row(0, named=True)
    assert inline["ts"] == dt.datetime(1999, 6, 7, 18, 50, 10)
    assert inline["recipient"] == "dev.garcia@tailspin.example"
    # A record of no recipients is still an event.
    assert found.tracking.filter(pl.col("event_id") == "9")["recipient"].to_list() == [None]


def test_an_exchange_2007_fail_record_in_full():
    found = ingest([TRACKING / "MSGTRK20090607-1.LOG"])
    fail = found.tracking.filter(pl.col("event") == "fail").row(0, named=True)
    assert {
        k: fail[k] for k in ("line", "code", "status", "refusal", "server_ip", "server_host")
    } == {
        "line": 8,
        "code": 550,
        "status": "5.7.1",
        "refusal": "relay_denied",
        "server_ip": "192.0.2.25",
        "server_host": "relay.isp-west.example",
    }
    assert fail["text"] == "Unable to relay for jon.ito@isp-west.example"
    assert fail["subject"] == "Figures, final"  # the quoted comma kept
    # Two recipients in one RECEIVE: one row each; the SEND names its session.
    assert found.tracking.filter(pl.col("line") == 6)["recipient"].to_list() == [
        "ann.evans@isp-west.example",
        "jon.ito@isp-west.example",
    ]
    assert found.tracking.filter(pl.col("event") == "send")["session"].to_list() == [
        "08CB6E1A2B3C4D5E"
    ]


def test_a_dsn_event_belongs_to_the_path_of_the_message_it_reports_on():
    found = ingest([TRACKING / "MSGTRK20090607-1.LOG"])
    dsn = found.tracking.filter(pl.col("event_id") == "DSN").row(0, named=True)
    assert dsn["message_id"] == "<0f3a9c@tailspin.example>"
    assert dsn["recipient"] == "jon.ito@isp-west.example"
    assert dsn["linked_id"] == "<NDR.4412@MAILGATE.tailspin.example>"
    path = found.paths.filter(pl.col("recipient") == "jon.ito@isp-west.example").row(0, named=True)
    assert (path["outcome"], path["immediate_ndr"], path["refusal"]) == (
        "ndr",
        True,
        "relay_denied",
    )
    # 18:45:01.120 to 18:45:04.330: the shared ISO token keeps whole seconds.
    assert path["seconds_to_ndr"] == 3.0


def test_exchange_2003_events_and_times():
    found = ingest([TRACKING / "exchange2003-20030515.log"])
    assert found.tracking["event"].to_list() == ["submit", "ndr", "deliver", "other"]
    ndr = found.tracking.row(1, named=True)
    assert ndr["ts"] == dt.datetime(2003, 5, 15, 14, 17, 44)
    assert (ndr["server_ip"], ndr["partner"], ndr["linked_id"]) == (
        "192.0.2.25",
        "relay.isp-west.example",
        "<NDR.77@MAIL01.contoso.example>",
    )
    path = found.paths.filter(pl.col("recipient") == "karl@litware.example").row(0, named=True)
    assert (path["outcome"], path["seconds_to_ndr"]) == ("ndr", 2.0)


def test_an_ndr_alone_is_outbound_unless_the_recipient_is_known_local():
    """karl@litware.example was submitted (1019) and reported (1030), never queued
    out: outbound while no local domain is known, ours once litware.example is."""
    log = TRACKING / "exchange2003-20030515.log"
    karl = pl.col("recipient") == "karl@litware.example"
    assert ingest([log]).paths.filter(karl)["direction"].to_list() == ["outbound"]
    local = ingest([log], local_domains=["litware.example"]).paths.filter(karl)
    assert local["direction"].to_list() == ["local"]


def test_a_message_queued_out_is_outbound_even_to_a_local_domain():
    """The IMS queued it for the Internet (1010): it left, whatever the domain (a
    namespace shared with another system)."""
    found = ingest([TRACKING / "exchange55-19990607.log"], local_domains=["isp-west.example"])
    ann = found.paths.filter(pl.col("recipient") == "ann.evans@isp-west.example")
    assert ann["direction"].to_list() == ["outbound"]


def test_an_ndr_hours_after_queueing_is_not_immediate(tmp_path):
    text = (TRACKING / "exchange55-19990607.log").read_text("cp1252")
    (tmp_path / "19990607.log").write_text(
        text.replace("6/7/99 18:45:06 GMT", "6/7/99 21:45:06 GMT"), "cp1252"
    )
    path = ingest([tmp_path]).paths.filter(pl.col("outcome") == "ndr").row(0, named=True)
    assert path["seconds_to_ndr"] == 3 * 3600 + 5
    assert path["immediate_ndr"] is False


@pytest.mark.parametrize(
    ("name", "offset"),
    [("q168781-immediate-outbound-550", "-5:00"), ("exchange2013-smarthost-relay-denied", "+0:00")],
)
@pytest.mark.parametrize("seed", [7, 1901])
def test_sample_paths_are_the_ones_the_generator_wrote(name, offset, seed, tmp_path):
    truth = write_scenario(BY_NAME[name], tmp_path, seed=seed)
    found = ingest([tmp_path])
    immediate = found.paths.filter(pl.col("immediate_ndr").fill_null(False))
    got = set(zip(immediate["message_id"], immediate["recipient"], strict=True))
    assert got == set(truth.tracking.immediate_ndrs)
    # Every immediate NDR here is the next hop's relay refusal, known from the session.
    assert immediate["refusal"].to_list() == ["relay_denied"] * immediate.height
    assert immediate["session"].null_count() == 0
    notes = found.inputs.filter(pl.col("format").str.starts_with("tracking"))["note"]
    assert all(f"moved by {offset}" in n for n in notes)
    assert found.tracking.height and found.unparsed.height == 0


def test_the_ims_ndrs_users_forwarded_are_found_by_their_mts_id(tmp_path):
    write_scenario(BY_NAME["q168781-immediate-outbound-550"], tmp_path)
    found = ingest([tmp_path])
    by_id = found.paths.filter(pl.col("ndr_match") == "id")
    assert by_id.height == found.ndrs.height > 0
    assert set(by_id["ndr_source"]) == set(found.ndrs["source"])


def test_exchange_2013_sessions_are_joined_by_the_id_the_event_names(tmp_path):
    write_scenario(BY_NAME["exchange2013-smarthost-relay-denied"], tmp_path)
    found = ingest([tmp_path])
    carried = found.paths.filter(pl.col("outcome").is_in(["sent", "delivered"]))
    assert carried.height > 0
    assert carried["session_match"].to_list() == ["id"] * carried.height
    assert set(carried["session"]) <= set(found.sessions["session"])


def _tracking_saw(findings) -> list:
    label = next(
        e["label"]
        for e in rule_meta("immediate-outbound-550")["evidence"]
        if e["key"] == "tracking"
    )
    return [f for f in findings if f.rule == "immediate-outbound-550" and label in f.saw]


def test_q168781_counts_the_tracking_log_as_evidence(tmp_path):
    write_scenario(BY_NAME["q168781-immediate-outbound-550"], tmp_path)
    assert _tracking_saw(evaluate(ingest([tmp_path])))


def test_a_tracking_log_alone_is_enough_for_q168781(tmp_path):
    """The admin kept only the message tracking log: its FAIL events quote the smart
    host's relay refusal seconds after the message was queued."""
    whole = tmp_path / "whole"
    truth = write_scenario(BY_NAME["exchange2013-smarthost-relay-denied"], whole)
    alone = tmp_path / "alone"
    alone.mkdir()
    for log in whole.rglob("MSGTRK*.LOG"):
        shutil.copy(log, alone / log.name)
    findings = [f for f in evaluate(ingest([alone])) if f.rule == "immediate-outbound-550"]
    assert len(findings) == 1
    assert findings[0].count == len(truth.tracking.immediate_ndrs)
    assert _tracking_saw(findings)


def test_unknown_recipients_in_the_tracking_log_are_not_q168781(tmp_path):
    text = (TRACKING / "MSGTRK20090607-1.LOG").read_text("utf-8")
    (tmp_path / "MSGTRK20090607-1.LOG").write_text(
        text.replace("550 5.7.1 Unable to relay for", "550 5.1.1 User unknown:"), "utf-8"
    )
    assert [f for f in evaluate(ingest([tmp_path])) if f.rule == "immediate-outbound-550"] == []


def test_msgtrk_rows_without_a_header_take_the_standard_order_of_their_length(tmp_path):
    from forensics.readers import registry

    row30 = (
        "2022-09-19T15:02:30.100Z,192.0.2.7,mx.partner.example,10.0.0.2,EX01,"
        "08DA9A0000000001;2022-09-19T15:02:29.900Z;0,EX01\\Default Frontend EX01,SMTP,RECEIVE,"
        "1001,<m1@partner.example>,net-1,bob@contoso.example,,2048,1,,,Hello,"
        "ann@partner.example,ann@partner.example,,Incoming,,192.0.2.7,10.0.0.2,,Email,"
        "log-1,15.01.2375.007"
    )
    row27 = (
        "2017-05-22T17:33:36.000Z,,EX13,,,,,STOREDRIVER,DELIVER,64712272257893,"
        '<m2@contoso.example>,net-2,carol@contoso.example,,7631,1,,,"Figures, Q2",'
        "dave@contoso.example,dave@contoso.example,,Originating,,,,"
    )
    log = tmp_path / "ticket.txt"
    log.write_text(row30 + "\n" + row27 + "\n")
    assert registry.examine(log, log.name).format == "tracking-2007"
    frames = ingest([log])
    (entry,) = frames.inputs.to_dicts()
    assert (entry["records"], entry["unparsed"]) == (2, 0)
    assert "no #Fields header" in entry["note"] and "Exchange 2013" in entry["note"]
    rows = frames.tracking.sort("line").to_dicts()
    assert [(r["event_id"], r["recipient"]) for r in rows] == [
        ("RECEIVE", "bob@contoso.example"),
        ("DELIVER", "carol@contoso.example"),
    ]
    assert rows[0]["session"] == "08DA9A0000000001"
    assert rows[1]["subject"] == "Figures, Q2"
    (assumed,) = frames.assumptions.filter(frames.assumptions["source"] == "ticket.txt").to_dicts()
    assert assumed["override"] == "put the log's own #Fields: line above its rows"
