"""IIS NCSA and Microsoft IIS log format files: the SMTP service's records into
sessions, web records read and counted, every line accounted for, both engines
alike (tests/fixtures/iis/README.md says where the lines come from)."""

from __future__ import annotations

import shutil

import pytest

from forensics.ingest import ingest
from forensics.readers import registry
from grammars import iis as g
from tests.conftest import FIXTURES
from tests.test_differential import assert_same

IIS = FIXTURES / "iis"
NCSA = IIS / "nc061011.log"
MSIIS = IIS / "in060818.log"
WEB = IIS / "in010320.log"


@pytest.mark.parametrize("name", sorted(p.name for p in IIS.glob("*.log")))
def test_both_engines_give_the_same_frames(name):
    assert_same(IIS / name)


def test_formats_are_told_by_content_not_by_name(tmp_path):
    for source, fmt in ((NCSA, "ncsa"), (MSIIS, "msiis"), (WEB, "msiis")):
        renamed = tmp_path / f"{source.stem}.txt"
        shutil.copyfile(source, renamed)
        assert registry.examine(renamed, renamed.name).format == fmt
    # Neither check takes the other's lines, nor a W3C log's.
    assert not g.looks_like_msiis(NCSA.read_text())
    assert not g.looks_like_ncsa(MSIIS.read_text())
    w3c = (FIXTURES / "w3c" / "ex030516.log").read_text()
    assert not g.looks_like_ncsa(w3c) and not g.looks_like_msiis(w3c)


def test_every_ncsa_line_is_a_record_and_the_smtp_ones_make_sessions():
    frames = ingest([NCSA])
    (entry,) = frames.inputs.to_dicts()
    lines = len(NCSA.read_text().splitlines())
    assert (entry["format"], entry["records"], entry["unparsed"], entry["lines"]) == (
        "ncsa",
        lines,
        0,
        lines,
    )
    sessions = {s["remote_ip"]: s for s in frames.sessions.to_dicts() if s["helo"]}
    # 61.47.65.115 sends three RCPTs (lines 6, 7, 9), interleaved with another client's.
    assert sessions["61.47.65.115"]["rcpt_total"] == 3
    assert sessions["61.47.65.115"]["helo"] == "207.250.64.66"
    assert sessions["205.188.158.121"]["direction"] == "outbound"
    outbound = frames.recipients.filter(frames.recipients["direction"] == "outbound")
    assert outbound["rcpt"].to_list() == ["kbee923@aol.com"]


def test_a_broken_line_is_unparsed_with_its_file_line_and_reason(tmp_path):
    log = tmp_path / "nc061012.log"
    good = NCSA.read_text().splitlines()[:4]
    log.write_text(
        "\n".join([*good[:2], '61.47.65.115 - x [11/Oct/2006:13:16:40 -0600] "HELO', *good[2:]])
        + "\n"
    )
    frames = ingest([log])
    (row,) = frames.unparsed.to_dicts()
    assert (row["source"], row["line"]) == ("nc061012.log", 3)
    assert "NCSA" in row["reason"]
    assert frames.inputs["records"].to_list() == [4]


def test_web_requests_are_counted_and_make_no_sessions(tmp_path):
    web = tmp_path / "nc010320.log"
    web.write_text(
        '192.0.2.10 - - [20/Mar/2001:07:55:20 -0800] "GET /DeptLogo.gif HTTP/1.0" 200 3223\n'
        '192.0.2.11 - bob [20/Mar/2001:07:57:20 -0800] "GET /a.asp?x=1 HTTP/1.1" 404 -\n'
    )
    for path in (web, WEB):
        frames = ingest([path])
        assert frames.inputs["records"].to_list() == [2]
        assert frames.events.height == 0 and frames.sessions.height == 0


def test_microsoft_iis_dates_follow_the_date_order(tmp_path):
    log = tmp_path / "in060708.log"
    log.write_text(
        "192.0.2.7, mx.example, 7/8/06, 9:05:01, SMTPSVC1, MAIL01, 10.0.0.1, 0, 20, 0, 250, 0, "
        "HELO, -, +mx.example,\n"
    )
    us = ingest([log])
    eu = ingest([log], date_order="dmy")
    assert str(us.events["ts"][0]) == "2006-07-08 09:05:01"
    assert str(eu.events["ts"][0]) == "2006-08-07 09:05:01"
    assert us.events.filter(us.events["kind"] == "command")["arg"].to_list() == ["mx.example"]
