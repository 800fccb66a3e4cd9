"""The Postfix syslog reader: one fixture fully specified, the year of yearless
headers, rotated files as one stream, and the public Postfix corpus."""

from __future__ import annotations

import datetime as dt
import gzip
import os
import shutil

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from forensics.ingest import ingest
from forensics.rules import evaluate
from tests.conftest import CONFORMANCE, CORPUS, FIXTURES, SAMPLES, corpus

FIXTURE = FIXTURES / "postfix" / "relay.log"
LIGHTMETER = CORPUS / "postfix" / "lightmeter"


DELIVERED_LOCAL = "queued; delivered by local relay=local"


def test_a_postfix_log_becomes_sessions_and_recipients():
    frames = ingest([FIXTURE], year=1999, local_domains=["example.org"])
    (inputs,) = frames.inputs.to_dicts()
    assert inputs["format"] == "postfix"
    # dovecot's line is read and counted under its program, not taken for a Postfix record.
    assert (inputs["records"], inputs["unparsed"], inputs["lines"]) == (15, 1, 17)
    assert inputs["programs"] == "postfix 15, dovecot 1"
    (cut,) = frames.unparsed.to_dicts()
    assert cut["line"] == 12
    sessions = frames.sessions.sort("start")
    assert sessions["direction"].to_list() == ["inbound", "inbound", "outbound"]
    probe, partner, out = sessions.to_dicts()
    # The year rolls over at New Year: the first line is 1999, the rest 2000.
    assert probe["start"] == dt.datetime(1999, 12, 31, 23, 59, 58)
    assert probe["end"] == dt.datetime(2000, 1, 1, 0, 0, 1)
    assert (probe["remote_ip"], probe["helo"], probe["outcome"]) == (
        "203.0.113.9",
        "[203.0.113.9]",
        "refused",
    )
    assert (partner["remote_host"], partner["remote_ip"], partner["mail_from"]) == (
        "mail.partner.example",
        "198.51.100.20",
        "ann@partner.example",
    )
    assert (partner["rcpt_accepted"], partner["outcome"]) == (2, "delivered")
    assert (out["remote_host"], out["remote_ip"], out["outcome"]) == (
        "smarthost.isp.example",
        "192.0.2.25",
        "refused",
    )
    recipients = frames.recipients.sort("ts", "rcpt").select(
        "direction", "rcpt", "code", "status", "text", "accepted", "refusal", "local", "line"
    )
    assert recipients.rows() == [
        (
            "inbound",
            "victim@elsewhere.example",
            554,
            "5.7.1",
            "<victim@elsewhere.example>: Relay access denied",
            False,
            "relay_denied",
            False,
            2,
        ),
        # The reply says which agent took it off the queue (local: a local domain).
        ("inbound", "bob@example.org", 250, None, DELIVERED_LOCAL, True, None, True, 9),
        ("inbound", "carol@example.org", 250, None, DELIVERED_LOCAL, True, None, True, 10),
        (
            "outbound",
            "dave@far.example",
            550,
            "5.7.1",
            "<dave@far.example>... Relaying denied",
            False,
            "relay_denied",
            False,
            15,
        ),
    ]


def test_the_year_comes_from_the_files_time_without_year(tmp_path):
    log = tmp_path / "mail.log"
    shutil.copy(FIXTURE, log)
    stamp = dt.datetime(2001, 2, 1).timestamp()
    os.utime(log, (stamp, stamp))  # the file was last written in 2001
    start = ingest([log]).sessions["start"].min()
    assert start == dt.datetime(2000, 12, 31, 23, 59, 58)


def test_rotated_files_are_one_stream_oldest_first(tmp_path):
    lines = FIXTURE.read_text().splitlines(keepends=True)
    # A session cut by the rotation: its first half in mail.log.1 (gzip'd as .2.gz
    # would be), the rest in mail.log.
    (tmp_path / "mail.log.1.gz").write_bytes(gzip.compress("".join(lines[:5]).encode()))
    (tmp_path / "mail.log").write_text("".join(lines[5:]))
    whole = ingest([FIXTURE], year=1999)
    split = ingest([tmp_path], year=1999)
    columns = ["session", "start", "direction", "remote_ip", "rcpt_total", "outcome"]
    assert (
        split.sessions.select(columns[1:])
        .sort("start")
        .equals(whole.sessions.select(columns[1:]).sort("start"))
    )


def test_the_fast_and_exact_paths_agree_on_the_postfix_corpus():
    root = corpus(LIGHTMETER)
    fast, exact = ingest([root]), ingest([root], engine="exact")
    for name in ("events", "sessions", "recipients", "unparsed", "inputs"):
        assert_frame_equal(getattr(fast, name), getattr(exact, name))


@pytest.mark.parametrize("folder", ["rotated-directory", "scenarios"])
def test_each_session_is_one_run_of_events_in_the_order_it_began(folder):
    # sessions.build reads a session as a contiguous run of events: on a real log
    # of interleaved smtpd processes and deliveries, no session may come in pieces,
    # and the sessions come in the order of their first line.
    frames = ingest([corpus(LIGHTMETER / folder)])
    events = frames.events.with_columns(
        (pl.col("session") != pl.col("session").shift(1)).fill_null(True).cum_sum().alias("run")
    )
    runs = events.group_by("session").agg(pl.col("run").n_unique())
    assert (runs["run"] == 1).all()
    assert frames.sessions.height == events["session"].n_unique()
    # Within each file, the sessions that begin there come in line order.
    starts = events.group_by("run", maintain_order=True).agg(pl.col("source", "line").first())
    for _, lines in starts.group_by("source", maintain_order=True):
        assert lines["line"].is_sorted()
    assert starts.height > 100


@pytest.mark.parametrize("folder", ["rotated-directory", "scenarios"])
def test_lightmeter_logs_are_read_with_under_one_percent_unparsed(folder):
    frames = ingest([corpus(LIGHTMETER / folder)])
    inputs = frames.inputs
    # mail.err holds opendkim's lines alone: syslog with no mail server's line.
    formats = dict(zip(inputs["path"], inputs["format"], strict=True))
    assert {p for p, f in formats.items() if f != "postfix"} == {
        p for p in formats if "mail.err" in p
    }
    assert {formats[p] for p in formats if "mail.err" in p} <= {"syslog"}
    lines, unparsed = int(inputs["lines"].sum()), int(inputs["unparsed"].sum())
    CONFORMANCE.append(f"postfix lightmeter/{folder}: {lines - unparsed} of {lines} lines read")
    assert unparsed < 0.01 * lines
    assert frames.sessions.height > 0 and frames.recipients.height > 0


def test_the_postfix_samples_give_the_findings_of_their_ims_twins():
    pairs = {
        "postfix-relay-denied-local": "q256856-relay-prohibited-local",
        "postfix-smarthost-relay-denied": "q168781-immediate-outbound-550",
        "postfix-relay-after-change": "q243045-relay-after-change",
    }
    for postfix, ims in pairs.items():
        found = {(f.rule, f.subject) for f in evaluate(ingest([SAMPLES / postfix]))}
        twin = {(f.rule, f.subject) for f in evaluate(ingest([SAMPLES / ims]))}
        assert found == twin, postfix


def test_the_reader_lets_go_of_the_text_once_its_lines_are_cut():
    # A large log must not be held twice (as text and as lines) while it is parsed.
    from forensics.readers import syslog as reader
    from forensics.readers.registry import discover

    items = discover([FIXTURE])
    assert items[0].text
    result = reader.read(items)
    assert result.events.height > 0
    assert all(item.text is None for item in items)


def test_the_master_daemon_starting_reloading_and_stopping_are_service_events(tmp_path):
    log = tmp_path / "mail.log"
    log.write_text(
        "Mar 29 12:55:50 mx1 postfix/master[15019]: daemon started -- version 3.4.14, "
        "configuration /etc/postfix\n"
        "Mar 29 12:56:01 mx1 postfix/smtpd[15020]: connect from unknown[203.0.113.9]\n"
        "Mar 29 13:02:00 mx1 postfix/master[15019]: reload -- version 3.4.14, "
        "configuration /etc/postfix\n"
        "Mar 29 13:03:00 mx1 postfix/master[15019]: reload configuration /etc/postfix\n"
        "Mar 29 13:04:00 mx1 postfix/master[15019]: warning: process /usr/lib/postfix/smtpd "
        "pid 15020 killed by signal 9\n"
        "Mar 29 13:20:11 mx1 postfix/master[15019]: terminating on signal 15\n"
    )
    frames = ingest([log], year=2020)
    events = frames.service_events
    assert events["message"].str.slice(0, 14).to_list() == [
        "daemon started",
        "reload -- vers",
        "reload configu",
        "terminating on",
    ]
    assert events.row(0, named=True) == {
        "source": "mail.log",
        "line": 1,
        "ts": dt.datetime(2020, 3, 29, 12, 55, 50),
        "log": None,
        "event_source": "postfix/master",
        "event_id": None,
        "type": "Information",
        "category": None,
        "computer": "mx1",
        "message": "daemon started -- version 3.4.14, configuration /etc/postfix",
    }
    # Every line is still read as a Postfix line, the warning too.
    assert frames.inputs["records"].to_list() == [6]
    # A start or a reload puts a change to main.cf into effect; a stop does not.
    from forensics.rules.context import Context

    assert Context(frames).starts["line"].to_list() == [1, 3, 4]


def test_the_relay_after_change_sample_is_in_effect_from_postfixs_own_reload():
    (finding,) = [
        f
        for f in evaluate(ingest([SAMPLES / "postfix-relay-after-change"]))
        if f.rule == "unexpected-relay-after-change"
    ]
    # The change log has no restart: the reload comes from the master daemon's line.
    assert (
        not (SAMPLES / "postfix-relay-after-change" / "notes" / "changes.csv")
        .read_text()
        .count("reload")
    )
    assert "a service restart after the change (the change was in effect)" in finding.saw
    assert finding.subject == "192.168.42.0/24" and not finding.lacked


def test_an_authenticated_submission_logs_auth_then_its_235(tmp_path):
    (tmp_path / "mail.log").write_text(
        "Mar  3 09:00:00 mx postfix/smtpd[100]: connect from home[198.51.100.20]\n"
        "Mar  3 09:00:01 mx postfix/smtpd[100]: AB12CD34EF: client=home[198.51.100.20], "
        "sasl_method=PLAIN, sasl_username=bob\n"
        "Mar  3 09:00:02 mx postfix/smtpd[100]: disconnect from home[198.51.100.20]\n"
    )
    frames = ingest([tmp_path], year=2026)
    steps = frames.events.select("kind", "verb", "code").rows()
    at = steps.index(("command", "AUTH", None))
    assert steps[at + 1] == ("reply", None, 235)
    assert frames.sessions["auth_user"].to_list() == ["bob"]
