"""The admin's change log and directory exports. Expected values are read off the
fixtures by hand."""

from __future__ import annotations

import datetime as dt
import shutil

from forensics.ingest import ingest
from tests.conftest import FIXTURES, IMS_FIXTURES

TABLES = FIXTURES / "tables"


def test_change_log_rows_with_iso_and_local_times():
    frames = ingest([TABLES / "changes.csv"])
    assert frames.inputs["format"][0] == "changelog"
    first, second = frames.config.to_dicts()
    assert first == {
        "source": "changes.csv",
        "line": 2,
        "ts": dt.datetime(2000, 5, 15, 9, 0),
        "origin": "changelog",
        "key": "IMS Routing tab\\reroute",
        "old": "Reroute incoming SMTP mail",
        "new": "Do not reroute incoming SMTP mail",
        "note": "left routing restrictions in place",
        "ts_quality": "exact",
    }
    assert second["ts"] == dt.datetime(2000, 5, 16, 8, 30)
    assert second["note"] == 'cycled the service, "as usual"'  # RFC 4180 quoting


def test_change_log_rows_without_a_usable_time_are_counted():
    frames = ingest([TABLES / "changes.csv"])
    assert sorted(frames.unparsed["line"].to_list()) == [4, 5]
    assert frames.inputs.row(0, named=True)["unparsed"] == 2


def test_gal_export_keeps_smtp_addresses_of_the_organisation():
    frames = ingest([TABLES / "gal.csv"])
    assert frames.inputs["format"][0] == "directory"
    got = dict(frames.directory.select("address", "display_name").iter_rows())
    # X400 and MS entries are not SMTP; the Remote object is a custom recipient.
    assert got == {
        "ann.baker@company2.example": "Ann Baker",
        "abaker@company2.example": "Ann Baker",
        "jane@company2.example": "Jane Doe",
    }


def test_plain_address_list_and_its_junk_line():
    frames = ingest([TABLES / "addresses.txt"])
    assert frames.directory["address"].to_list() == [
        "jane@company2.example",
        "john@company2.example",
    ]
    (bad,) = frames.unparsed.to_dicts()
    assert (bad["line"], bad["reason"]) == (3, "not an address")


def test_directory_domains_make_recipients_local(tmp_path):
    shutil.copy(IMS_FIXTURES / "inbound_medium.LOG", tmp_path / "L0000000.LOG")
    shutil.copy(TABLES / "gal.csv", tmp_path / "gal.csv")
    local = dict(ingest([tmp_path]).recipients.select("rcpt", "local").iter_rows())
    assert local == {"jane@company2.example": True, "bob@elsewhere.example": False}


def test_local_domains_given_and_inferred_mark_the_recipients():
    # The IMS greets as server2.company2.example: its own domain is local (a weaker
    # origin than proof); elsewhere.example (refused, relaying) is not.
    frames = ingest([IMS_FIXTURES / "inbound_medium.LOG"])
    assert frames.domains.select("domain", "origin").rows() == [("company2.example", "server-name")]
    local = dict(frames.recipients.select("rcpt", "local").rows())
    assert local == {"jane@company2.example": True, "bob@elsewhere.example": False}
    given = ingest([IMS_FIXTURES / "inbound_medium.LOG"], local_domains=["Elsewhere.Example."])
    # Given local domains replace every inference: the user knows the server.
    assert dict(given.domains.select("domain", "origin").rows()) == {"elsewhere.example": "option"}
    assert given.recipients["local"].to_list() == [False, True]


def test_an_unterminated_quote_in_a_directory_export_is_counted(tmp_path):
    (tmp_path / "gal.csv").write_text(
        "Display Name,E-mail Address\nJane,jane@company2.example\n"
        '"Broken,john@company2.example\nAnn,ann@company2.example\n'
    )
    frames = ingest([tmp_path / "gal.csv"])
    assert frames.directory["address"].to_list() == ["jane@company2.example"]
    (bad,) = frames.unparsed.to_dicts()
    assert bad["line"] == 3 and "quote is left open" in bad["reason"]
    assert frames.inputs.row(0, named=True)["unparsed"] == 1
