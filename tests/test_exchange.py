"""The Exchange 2007-2019 SMTP protocol log reader: one fixture fully specified, the
fast and exact paths, and the Exchange 2013 sample against its IMS twin."""

from __future__ import annotations

import datetime as dt

from polars.testing import assert_frame_equal

from forensics.ingest import ingest
from forensics.rules import evaluate
from tests.conftest import FIXTURES, SAMPLES

FIXTURE = FIXTURES / "exchange" / "RECV2014030410-1.LOG"


def test_a_receive_log_becomes_one_inbound_session():
    frames = ingest([FIXTURE], local_domains=["contoso.example"])
    (inputs,) = frames.inputs.to_dicts()
    assert inputs["format"] == "exchange"
    # 5 header lines are accounted for; 15 rows read; one damaged row unparsed.
    assert (inputs["records"], inputs["unparsed"], inputs["lines"]) == (15, 1, 21)
    assert frames.unparsed["line"].to_list() == [20]
    (session,) = frames.sessions.to_dicts()
    assert session["direction"] == "inbound"
    assert session["start"] == dt.datetime(2014, 3, 4, 10, 0, 1)
    assert (session["remote_ip"], session["helo"], session["local_host"]) == (
        "203.0.113.7",
        "mail.partner.example",
        "EX01.contoso.example",
    )
    assert (session["mail_from"], session["rcpt_accepted"], session["rcpt_refused"]) == (
        "ann@partner.example",
        1,
        1,
    )
    assert (session["data_accepted"], session["outcome"]) == (True, "partial")
    refused = frames.recipients.filter(~frames.recipients["accepted"]).row(0, named=True)
    assert (refused["rcpt"], refused["code"], refused["status"], refused["refusal"]) == (
        "carol@elsewhere.example",
        550,
        "5.7.54",
        "relay_denied",
    )
    assert refused["line"] == 16 and refused["local"] is False


def test_the_fast_and_exact_paths_agree_on_exchange_logs():
    root = SAMPLES / "exchange2013-relay-denied-local"
    fast, exact = ingest([root, FIXTURE]), ingest([root, FIXTURE], engine="exact")
    for name in ("events", "sessions", "recipients", "unparsed", "inputs"):
        assert_frame_equal(getattr(fast, name), getattr(exact, name))


def test_the_exchange_2013_sample_gives_the_finding_of_its_ims_twin():
    found = {
        (f.rule, f.subject) for f in evaluate(ingest([SAMPLES / "exchange2013-relay-denied-local"]))
    }
    twin = {
        (f.rule, f.subject) for f in evaluate(ingest([SAMPLES / "q256856-relay-prohibited-local"]))
    }
    assert found == twin == {("relay-prohibited-local-recipient", "contoso.example")}


def test_the_exchange_2013_send_log_gives_the_finding_of_its_ims_twin():
    folder = SAMPLES / "exchange2013-smarthost-relay-denied"
    found = {(f.rule, f.subject) for f in evaluate(ingest([folder]))}
    twin = {
        (f.rule, f.subject) for f in evaluate(ingest([SAMPLES / "q168781-immediate-outbound-550"]))
    }
    assert found == twin == {("immediate-outbound-550", "192.0.2.25")}


def test_a_narrowed_relay_connector_gives_the_finding_of_its_ims_twin():
    # The IMS twin has the switch to 'Do not reroute' and RelayFlags in the registry;
    # here the change log's RemoteIPRanges change is the change and the allow list.
    folder = SAMPLES / "exchange2013-relay-not-allowed"
    (finding,) = evaluate(ingest([folder]))
    twin = evaluate(ingest([SAMPLES / "q206968-relay-not-allowed-relayflags"]))
    assert {(f.rule, f.subject) for f in twin} == {(finding.rule, finding.subject)}
    assert finding.change is not None and finding.change["origin"] == "changelog"
    assert "RemoteIPRanges" in finding.change["text"]
    assert finding.resolution_for == "Exchange 2007-2019"


_HEADER = [
    "#Software: Microsoft Exchange Server",
    "#Version: 15.0.1104.5",
    "#Log-type: SMTP Send Protocol Log",
    "#Date: 2015-06-08T13:45:02.215Z",
    "#Fields: date-time,connector-id,session-id,sequence-number,local-endpoint,"
    "remote-endpoint,event,data,context",
]
_STEPS = [
    ("+", ""),
    ("<", "220 relay.example ESMTP"),
    (">", "EHLO mail.tailspin.example"),
    ("<", "250-relay.example Hello"),
    ("<", "250 PIPELINING"),
    (">", "MAIL FROM:<jsmith@tailspin.example>"),
    (">", "RCPT TO:<ann@far.example>"),
    ("<", "250 2.1.0 Ok"),
    ("<", "554 5.7.1 <ann@far.example>: Relay access denied"),
    (">", "QUIT"),
    ("<", "221 2.0.0 Bye"),
    ("-", ""),
]
PIPELINED = (
    "\n".join(
        _HEADER
        + [
            f"2015-06-08T13:45:02.{200 + i}Z,Internet,08D2700A1B2C3D4E,{i},"
            f"198.51.100.5:28113,192.0.2.25:25,{event},{data},"
            for i, (event, data) in enumerate(_STEPS)
        ]
    )
    + "\n"
)


def test_pipelined_replies_answer_their_own_commands(tmp_path):
    # MAIL and RCPT sent together (RFC 2920), then their two replies: the 554 is the
    # RCPT's, not MAIL's 250 (a refused RCPT must never read as accepted).
    (tmp_path / "SEND20150608-1.LOG").write_text(PIPELINED)
    frames = ingest([tmp_path])
    (rcpt,) = frames.recipients.select("rcpt", "code", "accepted", "refusal").rows()
    assert rcpt == ("ann@far.example", 554, False, "relay_denied")
    assert frames.sessions["outcome"].to_list() == ["refused"]


def test_the_standard_order_is_knowledge_and_builds_the_grammar_the_property_tests_hold():
    from forensics.readers.exchange import standard_order
    from grammars import exchange as g

    ((_, order),) = standard_order("protocol")
    assert g.line_grammar(tuple(order.split(","))).regex == g.LINE.regex


def test_rows_without_a_header_are_told_by_their_shape(tmp_path):
    from forensics.readers import registry

    rows = [
        line
        for line in (FIXTURES / "exchange" / "RECV2014030410-1.LOG").read_text().splitlines()
        if not line.lstrip("\ufeff").startswith("#")
    ]
    bare = tmp_path / "export.txt"
    bare.write_text("\n".join(rows) + "\n")
    assert registry.examine(bare, bare.name).format == "exchange"
    # A plain CSV header row names the fields as #Fields does: no order is assumed.
    named = tmp_path / "named.csv"
    named.write_text(
        "date-time,connector-id,session-id,sequence-number,local-endpoint,remote-endpoint,"
        "event,data,context\n" + "\n".join(rows) + "\n"
    )
    frames = ingest([named])
    (entry,) = frames.inputs.to_dicts()
    assert entry["format"] == "exchange" and entry["records"] == len(rows) - 1
    assert "no #Fields header" not in (entry["note"] or "")
    assert "no #Log-type" in entry["note"]
    assert frames.sessions["direction"].to_list() == ["inbound"]
    # Lines of other CSV logs are not taken for such rows.
    other = tmp_path / "other.csv"
    other.write_text("2014-03-04T10:00:01.100Z,a,b,c\n2014-03-04T10:00:02.100Z,a,b,c\n")
    assert registry.examine(other, other.name).format != "exchange"
