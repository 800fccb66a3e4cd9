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


def test_a_postfix_log_becomes_sessions_and_recipients():
    frames = ingest([FIXTURE], year=1999, local_domains=["example.org"])
    (inputs,) = frames.inputs.to_dicts()
    assert inputs["format"] == "postfix"
    assert (inputs["records"], inputs["unparsed"], inputs["lines"]) == (16, 1, 17)
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
        ("inbound", "bob@example.org", 250, None, None, True, None, True, 9),
        ("inbound", "carol@example.org", 250, None, None, True, None, True, 10),
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
    assert (inputs["format"] == "postfix").all()
    lines, unparsed = int(inputs["lines"].sum()), int(inputs["unparsed"].sum())
    CONFORMANCE.append(f"postfix lightmeter/{folder}: {lines - unparsed} of {lines} lines read")
    assert unparsed < 0.01 * lines
    assert frames.sessions.height > 0 and frames.recipients.height > 0


def test_the_postfix_samples_give_the_findings_of_their_ims_twins():
    pairs = {
        "postfix-relay-denied-local": "q256856-relay-prohibited-local",
        "postfix-smarthost-relay-denied": "q168781-immediate-outbound-550",
    }
    for postfix, ims in pairs.items():
        found = {(f.rule, f.subject) for f in evaluate(ingest([SAMPLES / postfix]))}
        twin = {(f.rule, f.subject) for f in evaluate(ingest([SAMPLES / ims]))}
        assert found == twin, postfix


def test_the_reader_lets_go_of_the_text_once_its_lines_are_cut():
    # A large log must not be held twice (as text and as lines) while it is parsed.
    from forensics.discover import discover
    from forensics.readers import postfix as reader

    items = discover([FIXTURE])
    assert items[0].text
    result = reader.read(items)
    assert result.events.height > 0
    assert all(item.text is None for item in items)
