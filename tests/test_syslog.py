"""The syslog reader: every header shape read once, each mail server's lines to its
reader, every other line accounted for (real shapes from plaso's and fail2ban's
test files, OSSEC's samples; hand-written lines where no real one was at hand)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from forensics.ingest import ingest
from forensics.readers.syslog import headers as h
from tests.conftest import CORPUS, corpus


def _headed(line: str, *, exim_own: bool = False) -> dict[str, str | None]:
    found, _ = h.headers(pl.Series([line]), "fast", ["exim", "exim4"], pl.Series([exim_own]))
    assert found.height == 1, line
    return found.row(0, named=True)


@pytest.mark.parametrize(
    ("line", "shape", "prog", "pid", "msg"),
    [
        ("Jan 28 06:40:37 mx1 postfix/smtpd[2211]: connect from a[192.0.2.1]",
         "syslog", "postfix/smtpd", "2211", "connect from a[192.0.2.1]"),
        ("2021-01-28T06:40:37.123+00:00 mx1 postfix/qmgr[12]: 4TqLx1Xyz: removed",
         "syslog", "postfix/qmgr", "12", "4TqLx1Xyz: removed"),
        ("<22>Mar  6 04:07:23 mx1 sm-mta[7001]: starting daemon (8.15.2)",
         "syslog", "sm-mta", "7001", "starting daemon (8.15.2)"),
        ("Jun 17 14:37:39 <mail.notice> robin sm-mta[2794]: 55HIbcGI002794: lost input channel",
         "syslog", "sm-mta", "2794", "55HIbcGI002794: lost input channel"),
        ("<14>1 2021-03-06T04:07:38.25+00:00 mx1 postfix/smtpd 4100 - -  connect from b[192.0.2.2]",
         "rfc5424", "postfix/smtpd", "4100", "connect from b[192.0.2.2]"),
        ("sm-mta[11761]: k79IaGJL011761: ruleset=check_mail, arg1=<a@b.example>",
         "bare", "sm-mta", "11761", "k79IaGJL011761: ruleset=check_mail, arg1=<a@b.example>"),
        ("mail.example.com exim[3751842]: 2021-07-17 23:20:49 plain_server authenticator failed",
         "bare", "exim", "3751842", "plain_server authenticator failed"),
    ],
)  # fmt: skip
def test_each_header_shape_gives_the_same_fields(line, shape, prog, pid, msg):
    row = _headed(line)
    assert (row["_shape"], row["prog"], row["pid"], row["msg"]) == (shape, prog, pid, msg)


def test_exim_through_syslog_takes_the_time_of_its_own_stamp():
    row = _headed("exim[14700]: 2006-11-21 15:01:33 1Glsgv-0002wv-00 Completed")
    assert (row["ry"], row["rmo"], row["rd"], row["rhh"], row["rmi"], row["rss"]) == (
        "2006", "11", "21", "15", "01", "33",
    )  # fmt: skip
    assert row["mon"] is None and row["msg"] == "1Glsgv-0002wv-00 Completed"


def test_exims_own_stamp_is_a_header_only_in_exims_own_logs():
    line = "2024-03-11 09:00:05 1rjXyz-000Abc-4D <= a@b.example H=(x) [192.0.2.3] P=esmtp S=1"
    row = _headed(line, exim_own=True)
    assert (row["_shape"], row["prog"], row["pid"]) == ("exim", "exim", None)
    found, _ = h.headers(pl.Series([line]), "fast", ["exim"], pl.Series([False]))
    assert found.height == 0


def test_a_rejectlog_reads_the_headers_under_a_refusal_and_nothing_else(tmp_path):
    (tmp_path / "rejectlog").write_text(
        "2024-03-11 09:00:05 H=(probe) [203.0.113.9] F=<a@b.example> rejected RCPT "
        "<x@far.example>: relay not permitted\n"
        "Envelope-from: <a@b.example>\n"
        "Envelope-to: <x@far.example>\n"
        "P Received: from [203.0.113.9] (helo=probe)\n"
        "        by mx1.contoso.example with esmtp\n"
        "******** a marker a copy added ********\n"
    )
    frames = ingest([tmp_path])
    (row,) = frames.inputs.to_dicts()
    assert (row["format"], row["records"], row["unparsed"], row["lines"]) == ("exim", 1, 1, 6)
    assert "the message headers Exim logged under its refusals 4" in row["programs"]
    (unparsed,) = frames.unparsed.to_dicts()
    assert unparsed["line"] == 6 and "not an Exim log line" in unparsed["reason"]
    (refusal,) = frames.recipients.to_dicts()
    assert (refusal["rcpt"], refusal["remote_ip"], refusal["refusal"]) == (
        "x@far.example", "203.0.113.9", "relay_denied",
    )  # fmt: skip
    assert refusal["ts"] == dt.datetime(2024, 3, 11, 9, 0, 5)


def test_the_syslog_variants_of_plaso_are_read_or_reported_line_by_line():
    frames = ingest([corpus(CORPUS / "syslog" / "plaso")], year=2020)
    inputs = frames.inputs.filter(pl.col("format") == "syslog")
    # Every line of each file read is a program's, blank, or unparsed with its line.
    for row in inputs.to_dicts():
        counted = sum(
            int(part.rsplit(" ", 1)[1].replace(",", "")) for part in row["programs"].split(", ")
        )
        text = (CORPUS / "syslog" / "plaso" / row["path"]).read_text(errors="replace")
        blank = sum(1 for line in text.splitlines() if not line.strip())
        assert counted + row["unparsed"] + blank == row["lines"], row["path"]
    assert frames.sessions.height == 0
