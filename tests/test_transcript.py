"""A telnet relay test saved as text: one inbound session, dated by the file's time,
and the relay it shows is an open-relay finding."""

from __future__ import annotations

import datetime as dt
import os
import shutil

from forensics.ingest import ingest
from forensics.rules import evaluate
from tests.conftest import FIXTURES

FIXTURE = FIXTURES / "transcript" / "relay-test.txt"


def test_a_telnet_relay_test_is_one_session_dated_by_the_file(tmp_path):
    test = tmp_path / "relay-test.txt"
    shutil.copy(FIXTURE, test)
    saved = dt.datetime(2000, 5, 16, 14, 30)
    os.utime(test, (saved.timestamp(), saved.timestamp()))
    frames = ingest([tmp_path], local_domains=["adatum.example"])
    (entry,) = frames.inputs.to_dicts()
    assert (entry["format"], entry["records"], entry["unparsed"], entry["lines"]) == (
        "transcript",
        14,
        0,
        14,
    )
    assert "no times" in entry["note"]
    (session,) = frames.sessions.to_dicts()
    assert session["direction"] == "inbound" and session["local_host"] == "MAIL02.adatum.example"
    assert session["start"] == saved  # the connect step: one second before line 1's step
    assert "(Exchange Server 5.5 SP3)" in session["software"]
    assert (session["helo"], session["mail_from"], session["outcome"]) == (
        "test",
        "test@test.com",
        "incomplete",
    )
    (rcpt,) = frames.recipients.to_dicts()
    assert (rcpt["rcpt"], rcpt["code"], rcpt["accepted"], rcpt["local"]) == (
        "anyuser@bogusaddress.com",
        250,
        True,
        False,
    )
    (finding,) = evaluate(frames)
    # The tester's address is unknown and nothing shows it had no right to relay.
    assert finding.rule == "open-relay" and finding.severity == "info"
    assert "relay test" in finding.summary
    assert any("message data" in item for item in finding.lacked)
