"""W3C extended logs: Exchange 2000/2003 SMTP records into sessions, and every line
of the IIS corpus files accounted for."""

from __future__ import annotations

from polars.testing import assert_frame_equal

from forensics.ingest import ingest
from forensics.rules import evaluate
from tests.conftest import CONFORMANCE, CORPUS, FIXTURES, SAMPLES, corpus

FIXTURE = FIXTURES / "w3c" / "ex030516.log"


def test_exchange_2003_smtp_records_become_sessions():
    frames = ingest([FIXTURE], local_domains=["contoso.example"])
    (entry,) = frames.inputs.to_dicts()
    # 5 directive lines; 11 records; the last record is short of fields.
    assert (entry["format"], entry["records"], entry["unparsed"], entry["lines"]) == (
        "w3c",
        11,
        1,
        17,
    )
    assert frames.unparsed["line"].to_list() == [17]
    sessions = frames.sessions.sort("start").to_dicts()
    assert [(s["direction"], s["remote_ip"], s["outcome"]) for s in sessions] == [
        ("inbound", "203.0.113.7", "refused"),
        ("outbound", "192.0.2.25", "refused"),
    ]
    assert sessions[0]["helo"] == "mail.partner.example"
    inbound, outbound = frames.recipients.sort("direction").to_dicts()
    # Inbound records carry our reply's code only: a 550 without its text is no
    # relay refusal we could name.
    assert (inbound["rcpt"], inbound["code"], inbound["text"], inbound["refusal"]) == (
        "bob@contoso.example",
        550,
        None,
        "other",
    )
    assert (outbound["rcpt"], outbound["code"], outbound["status"], outbound["refusal"]) == (
        "dave@far.example",
        550,
        "5.7.1",
        "relay_denied",
    )


def test_an_exchange_2003_finding_gets_the_smtp_virtual_server_steps():
    from forensics.knowledge import load

    # The smart host refuses the outbound RCPT ('550 5.7.1 Unable to relay'): the
    # steps are Exchange 2000/2003's, not the IMS article's.
    (finding,) = evaluate(ingest([FIXTURE], local_domains=["contoso.example"]))
    assert (finding.rule, finding.subject) == ("immediate-outbound-550", "192.0.2.25")
    assert finding.resolution_for == load("servers")["name"]["exchange2000"]
    assert finding.resolution == load("servers")["steps"][finding.rule]["exchange2000"]


def test_the_iis_corpus_is_read_line_by_line():
    root = corpus(CORPUS / "w3c" / "plaso-iis")
    fast, exact = ingest([root]), ingest([root], engine="exact")
    for name in ("events", "sessions", "unparsed", "inputs"):
        assert_frame_equal(getattr(fast, name), getattr(exact, name))
    inputs = fast.inputs
    assert (inputs["format"] == "w3c").all()
    lines, unparsed = int(inputs["lines"].sum()), int(inputs["unparsed"].sum())
    records = int(inputs["records"].sum())
    CONFORMANCE.append(
        f"w3c plaso-iis: {len(inputs)} files, {records} records read, {unparsed} of {lines} "
        "lines unparsed (values with unescaped spaces)"
    )
    # Every line is a directive, a record or an unparsed line with its number.
    directives = sum(
        1
        for path in root.iterdir()
        for line in path.read_text(errors="replace").splitlines()
        if line.startswith("#")
    )
    assert records + unparsed + directives == lines
    assert fast.sessions.height == 0  # web requests make no SMTP session
    assert set(fast.unparsed["source"]) <= {"iis10_edge_cases.log"}


def test_the_exchange_2003_sample_gives_the_finding_of_its_ims_twin():
    found = evaluate(ingest([SAMPLES / "exchange2003-smarthost-relay-denied"]))
    twin = evaluate(ingest([SAMPLES / "q168781-immediate-outbound-550"]))
    assert {(f.rule, f.subject) for f in found} == {(f.rule, f.subject) for f in twin}
    (finding,) = found
    assert finding.resolution_for == "Exchange 2000/2003"
    assert all(row["source"].endswith(".log") for row in finding.evidence)


def test_records_without_a_date_field_take_the_date_of_their_date_directive():
    """plaso's iis_without_date.log: '#Fields: time ...' under '#Date: 2013-07-30'.
    Its records are web requests (no events), so the dating shows in the file's
    assumptions row; iis7_owa.log, with a date field and no #Date, has none."""
    root = corpus(CORPUS / "w3c" / "plaso-iis")
    frames = ingest([root])
    dated = frames.assumptions.filter(frames.assumptions["source"].is_not_null())
    assert dated["source"].to_list() == ["iis_without_date.log"]
    (what,) = dated["what"].to_list()
    assert "11 records" in what and "#Date:" in what


def test_an_smtp_record_past_midnight_is_of_the_next_day(tmp_path):
    log = tmp_path / "ex061010.log"
    log.write_text(
        "#Date: 2006-10-10 23:59:00\n"
        "#Fields: time c-ip cs-method cs-uri-query sc-status\n"
        "23:59:58 203.0.113.9 HELO +probe.example 250\n"
        "00:00:01 203.0.113.9 RCPT +TO:<x@far.example> 550\n"
        "#Date: 2006-10-12 10:00:00\n"
        "10:00:02 203.0.113.9 HELO +probe.example 250\n"
    )
    frames = ingest([log])
    commands = frames.events.filter(frames.events["kind"] == "command").sort("line")
    assert [str(t) for t in commands["ts"]] == [
        "2006-10-10 23:59:58",
        "2006-10-11 00:00:01",
        "2006-10-12 10:00:02",  # a new #Date: block starts from its own date
    ]
