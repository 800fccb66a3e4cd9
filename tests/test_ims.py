"""The IMS protocol log reader on hand-written fixtures, one per payload kind.

Every expected value below is read off the fixture's text by hand (the comments
say how), never copied from the tool's output."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from forensics.ingest import Frames, ingest
from tests.conftest import IMS_FIXTURES


def read(name: str, **options) -> Frames:
    return ingest([IMS_FIXTURES / name], **options)


def row(frame: pl.DataFrame, **where) -> dict:
    hits = frame.filter(*[pl.col(k) == v for k, v in where.items()])
    assert hits.height == 1, f"expected one row where {where}, got {hits.height}"
    return hits.row(0, named=True)


def file_stats(frames: Frames) -> tuple[str, int, int, int]:
    (entry,) = frames.inputs.to_dicts()
    return entry["format"], entry["records"], entry["unparsed"], entry["lines"]


def test_inbound_medium_counts_and_a_fully_specified_reply():
    frames = read("inbound_medium.LOG")
    # 18 lines: 14 timestamped records, 3 continuation lines of the EHLO reply, 1 blank.
    assert file_stats(frames) == ("ims", 14, 0, 18)
    assert row(frames.events, line=13) == {
        "source": "inbound_medium.LOG",
        "line": 13,
        "ts": dt.datetime(2000, 5, 13, 14, 36, 29),
        "session": "inbound_medium.LOG#1",
        "direction": "inbound",
        "actor": "server",
        "kind": "reply",
        "verb": None,
        "arg": None,
        "code": 550,
        "status": None,
        "text": "Relaying is prohibited",
    }


def test_multi_line_reply_keeps_its_continuation_lines():
    ehlo_reply = row(read("inbound_medium.LOG").events, line=3)
    assert ehlo_reply["code"] == 250
    assert ehlo_reply["text"].split("\n") == [
        "server2.company2.example Hello [server2]",
        "XEXCH50",
        "SIZE 0",
        "AUTH=LOGIN",
    ]


def test_commands_with_esmtp_parameters_and_any_case():
    events = read("inbound_medium.LOG").events
    assert row(events, line=8)["arg"] == "FROM:<john@company1.example> SIZE=1460 RET=FULL"
    assert row(events, line=12)["verb"] == "RCPT"
    assert row(events, line=12)["arg"] == "To:<bob@elsewhere.example>"


def test_inbound_session_and_recipients():
    frames = read("inbound_medium.LOG")
    session = frames.sessions.row(0, named=True)
    assert session["direction"] == "inbound"
    assert session["remote_host"] == "SERVER1"  # the trailing period is punctuation
    assert session["remote_ip"] is None
    assert session["helo"] == "server1.company1.example"
    assert session["local_host"] == "server2.company2.example"
    assert session["mail_from"] == "john@company1.example"
    assert (session["rcpt_total"], session["rcpt_accepted"], session["rcpt_refused"]) == (2, 1, 1)
    assert session["data_accepted"] is True
    assert session["outcome"] == "partial"
    refused = row(frames.recipients, rcpt="bob@elsewhere.example")
    assert refused["accepted"] is False
    assert refused["refusal"] == "relay_denied"
    assert refused["rcpt_domain"] == "elsewhere.example"
    assert refused["mail_from"] == "john@company1.example"
    assert row(frames.recipients, rcpt="jane@company2.example")["accepted"] is True


def test_maximum_logging_io_lines_are_not_counted_twice():
    frames = read("inbound_maximum_24h_two_sessions.LOG")
    # 17 lines, 5 of them "IO: |" shadows of the line that follows.
    assert file_stats(frames) == ("ims", 12, 0, 17)
    assert frames.events.filter(pl.col("line").is_in([2, 5, 8, 11, 15])).height == 0
    assert frames.events.filter(pl.col("verb") == "HELO").height == 2


def test_each_connection_line_starts_a_session_and_24_hour_times_read():
    frames = read("inbound_maximum_24h_two_sessions.LOG")
    first, second = frames.sessions.sort("start").to_dicts()
    assert first["start"] == dt.datetime(1997, 12, 2, 17, 20, 1)
    assert first["remote_ip"] == "192.0.2.44"
    assert first["mail_from"] == "<>"  # the null sender
    assert second["remote_host"] == "mx.partner.example"
    assert second["outcome"] == "no_mail"
    probe = frames.recipients.row(0, named=True)
    assert (probe["rcpt"], probe["code"], probe["status"]) == (
        "victim@elsewhere.example",
        550,
        "5.7.1",
    )
    assert probe["text"] == "Relaying is prohibited"


def test_outbound_log_without_arrows_and_cr_line_endings():
    frames = read("outbound_no_arrows_cr.LOG")
    # 10 lines, all records; IO lines here are the only copy of each reply.
    assert file_stats(frames) == ("ims", 10, 0, 10)
    events = frames.events
    assert set(events["direction"]) == {"outbound"}
    assert row(events, line=3)[("kind")] == "command" and row(events, line=3)["actor"] == "client"
    assert row(events, line=2)["kind"] == "reply" and row(events, line=2)["code"] == 220
    session = frames.sessions.row(0, named=True)
    assert session["remote_ip"] == "192.0.2.25"
    assert session["helo"] == session["local_host"] == "mail01.tailspin.example"
    assert session["software"] == "ESMTP Sendmail 8.8.8/8.8.8; ready"
    assert session["outcome"] == "refused"
    refused = frames.recipients.row(0, named=True)
    assert refused["rcpt"] == "sam@tool.example" and refused["refusal"] == "relay_denied"


def test_rescheduling_summary_with_doubled_quotes():
    frames = read("outbound_reschedule_lf.LOG")
    assert file_stats(frames) == ("ims", 3, 0, 3)
    note = row(frames.events, kind="note")
    assert note["code"] == 499
    assert note["text"] == "No routing hosts are reachable for test.example."
    assert note["arg"] == 'Q3 "final" figures'
    assert note["actor"] is None


def test_utf16_log_with_ntlm_auth_is_read_and_credentials_never_kept():
    frames = read("auth_ntlm_utf16.LOG")
    assert frames.inputs["encoding"][0] == "utf-16-le"
    assert file_stats(frames)[1:] == (10, 0, 10)
    events = frames.events
    assert row(events, line=4)["arg"] == "NTLM [masked]"
    assert row(events, line=5)["text"] == "[masked]"  # the server's NTLM challenge
    # The AUTHENTICATE message names its user in clear; that is all that is kept.
    assert row(events, line=6)["arg"] == "user=TIMDOFU\\administrator"
    assert frames.sessions["auth_user"][0] == "TIMDOFU\\administrator"
    assert frames.sessions["mail_from"][0] == "rené@company1.example"
    for frame in frames.as_dict().values():
        for column in frame.select(pl.col(pl.String)).columns:
            assert not frame[column].str.contains("TlRMTVNT").any(), column


@pytest.mark.parametrize(
    ("order", "expected"),
    [("dmy", dt.datetime(2000, 5, 13, 14, 36, 27)), ("mdy", None)],
)
def test_date_order_is_a_setting(order, expected):
    # 13/05/2000: day first. Read as month first, month 13 is no date at all.
    frames = read("cp1252_dmy.LOG", date_order=order)
    assert row(frames.events, line=1)["ts"] == expected


def test_cp1252_and_a_line_that_belongs_to_no_record():
    frames = read("cp1252_dmy.LOG", date_order="dmy")
    assert frames.inputs["encoding"][0] == "cp1252"
    assert file_stats(frames) == ("ims", 4, 1, 5)
    assert frames.sessions["remote_host"][0] == "mx.café.example"
    (bad,) = frames.unparsed.to_dicts()
    assert bad["source"] == "cp1252_dmy.LOG" and bad["line"] == 4
    assert bad["reason"] == "not part of any IMS log record"
    assert bad["text"] == "this line is not part of any IMS log"
