"""Exchange 2007-2019 configuration from the Management Shell (Get-AcceptedDomain,
Get-ReceiveConnector | fl, Get-ADPermission) read as config rows; the local domains
and the allow lists they prove."""

from __future__ import annotations

import shutil

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from forensics.core.evidence import Evidence
from forensics.core.lineparse import extract
from forensics.ingest import ingest, read_evidence
from forensics.readers.registry import sniff
from forensics.rules import evaluate
from forensics.rules.context import allowlists
from grammars import exchangeconfig as g
from tests.conftest import FIXTURES, SAMPLES
from tests.test_differential import assert_same

CONFIG = FIXTURES / "config"
NO_REGISTRY = pl.DataFrame(schema={"name": pl.String, "new": pl.String})

ACCEPTED_FL = """\
RunspaceId                        : 2d3e3f0a-1111-2222-3333-444455556666
DomainName                        : contoso.example
CatchAllRecipientID               :
DomainType                        : Authoritative
MatchSubDomains                   : False
AddressBookEnabled                : True
Default                           : True
Name                              : contoso.example
Identity                          : contoso.example

RunspaceId                        : 2d3e3f0a-1111-2222-3333-444455556666
DomainName                        : *.partner.example
DomainType                        : ExternalRelay
Default                           : False
Name                              : Partner
Identity                          : Partner
"""


def test_accepted_domains_in_list_form(tmp_path):
    (tmp_path / "accepted.txt").write_text(ACCEPTED_FL)
    frames = ingest([tmp_path])
    (row,) = frames.inputs.select("format", "records", "unparsed", "lines").iter_rows()
    assert row == ("exchange-config", 2, 0, 16)
    assert frames.config.select("line", "key", "new", "note").rows() == [
        (
            2,
            "exchange\\AcceptedDomain\\Authoritative",
            "contoso.example",
            "Name = contoso.example; Default = True",
        ),
        (
            12,
            "exchange\\AcceptedDomain\\ExternalRelay",
            "*.partner.example",
            "Name = Partner; Default = False",
        ),
    ]
    assert frames.domains.select("domain", "line").rows() == [("contoso.example", 2)]


CONNECTOR = """\
Identity         : MAIL01\\Relay
PermissionGroups : AnonymousUsers
RemoteIPRanges   : {10.1.1.5, 10.1.2.0/24, 10.1.3.1, 10.1.3.2,
                   10.1.4.1...}
"""
PERMISSION = """\
User                         ExtendedRights
----                         --------------
NT AUTHORITY\\ANONYMOUS LOGON {ms-Exch-SMTP-Accept-Any-Recipient}
"""


def test_anonymous_relay_granted_by_an_extended_right_in_the_same_output(tmp_path):
    (tmp_path / "relay.txt").write_text(CONNECTOR + "\n" + PERMISSION)
    frames = ingest([tmp_path])
    ranges = frames.config.filter(pl.col("key").str.ends_with("RemoteIPRanges")).row(0, named=True)
    # The wrapped line is joined; PowerShell cut the list short, and the note says so.
    assert ranges["line"] == 3
    assert ranges["new"] == "{10.1.1.5, 10.1.2.0/24, 10.1.3.1, 10.1.3.2, 10.1.4.1...}"
    assert ranges["note"] == (
        "relay allowed from: 10.1.1.5/32 10.1.2.0/24 10.1.3.1/32 10.1.3.2/32 10.1.4.1/32"
        " (ms-Exch-SMTP-Accept-Any-Recipient for ANONYMOUS LOGON, relay.txt:8)"
        "; the list is cut short by PowerShell ($FormatEnumerationLimit)"
    )
    labels = allowlists.allow_entries(NO_REGISTRY, frames.config, "^$")["label"].to_list()
    assert labels == ["10.1.1.5/32", "10.1.2.0/24", "10.1.3.1/32", "10.1.3.2/32", "10.1.4.1/32"]
    # The connector alone grants nothing: AnonymousUsers may send to accepted domains.
    (tmp_path / "relay.txt").write_text(CONNECTOR)
    alone = ingest([tmp_path])
    assert allowlists.allow_entries(NO_REGISTRY, alone.config, "^$").height == 0


@pytest.mark.parametrize(
    "name", ["exchange2010-receiveconnector-fl.txt", "exchange2010-adpermission-anonymous.txt"]
)
def test_real_pasted_output_is_recognised_and_both_paths_agree(name):
    assert sniff((CONFIG / name).read_text()) == "exchange-config"
    assert_same(CONFIG / name)


def test_the_real_default_connector_grants_no_relay():
    frames = ingest([CONFIG / "exchange2010-receiveconnector-fl.txt"])
    groups = frames.config.filter(pl.col("key").str.ends_with("PermissionGroups"))
    assert groups.select("line", "key", "new").rows() == [
        (
            10,
            "exchange\\ReceiveConnector\\#2\\PermissionGroups",
            "AnonymousUsers, ExchangeUsers, ExchangeServers, ExchangeLegacyServers",
        ),
    ]
    assert allowlists.allow_entries(NO_REGISTRY, frames.config, "^$").height == 0


def test_a_protocol_log_is_not_configuration_output():
    folder = SAMPLES / "exchange2013-relay-denied-local"
    logs = sorted(folder.rglob("RECV*.LOG"))
    assert logs and sniff(logs[0].read_text()) == "exchange"


def test_the_accepted_domains_beside_the_exchange_story(tmp_path):
    # sample_logs' Exchange 2013 story: contoso.example was removed from the accepted
    # domains at 09:00 and its mail is refused 'Unable to relay recipient in
    # non-accepted domain'. Get-AcceptedDomain pasted beside the logs lists the
    # domains still accepted: local by config, with their line; the refused domain is
    # missing from it, and the finding is made for it.
    folder = tmp_path / "case"
    shutil.copytree(SAMPLES / "exchange2013-relay-denied-local", folder)
    (folder / "Get-AcceptedDomain.txt").write_text(
        "Name                           DomainName                     DomainType        Default\n"
        "----                           ----------                     ----------        -------\n"
        "contoso.local                  contoso.local                  Authoritative     True\n"
    )
    frames = ingest([folder])
    proved = frames.domains.filter(pl.col("origin") == "config")
    assert proved.select("domain", "source", "line").rows() == [
        ("contoso.local", "Get-AcceptedDomain.txt", 3)
    ]
    findings = [f for f in evaluate(frames) if f.rule == "relay-prohibited-local-recipient"]
    assert [f.subject for f in findings] == ["contoso.example"]


FRAGMENTS = [
    "RemoteIPRanges",
    " : ",
    ":",
    "{",
    "}",
    "10.0.0.1-10.0.0.9",
    ", ",
    "...",
    "Name",
    "DomainType",
    " Authoritative ",
    "True",
    "  ",
    "NT AUTHORITY\\ANONYMOUS LOGON ",
    "{ms-Exch-SMTP-Accept-Any-Recipient}",
    "[PS] C:\\>",
    "-----",
    "a.example",
    " ",
]
texts = (
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=3)), max_size=10)
    .map("".join)
    .filter(lambda s: "\n" not in s and "\r" not in s)
)


@settings(max_examples=300, deadline=None)
@given(st.lists(texts, min_size=1, max_size=8))
def test_twin_and_pyparsing_agree_on_any_text(values):
    series = pl.Series(values, dtype=pl.String)
    for grammar in (g.PROPERTY, g.ACCEPTED_ROW, g.PERMISSION_ROW):
        fast = extract(series, grammar, "fast", fallback=False).drop("error")
        assert_frame_equal(fast, extract(series, grammar, "exact").drop("error"))


@settings(max_examples=100, deadline=None)
@given(st.lists(texts, max_size=20))
def test_reading_any_text_never_raises_and_counts_every_line(lines):
    item = Evidence(source="ems.txt", path=None, format="exchange-config", text="\n".join(lines))  # type: ignore[arg-type]
    frames = read_evidence([item])
    (entry,) = frames.inputs.to_dicts()
    assert entry["records"] + entry["unparsed"] <= entry["lines"]
    assert frames.config.height == entry["records"]


def test_powershell_output_redirected_to_a_file_is_utf16(tmp_path):
    # `Get-AcceptedDomain > domains.txt` writes UTF-16LE with a BOM and CRLF.
    case = FIXTURES.parent / "cases/exchange-config/accepted-domains-and-relay-connector"
    text = (case / "ems-2024-03-11T0915.txt").read_text().replace("\n", "\r\n")
    (tmp_path / "domains.txt").write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    frames = ingest([tmp_path])
    (row,) = frames.inputs.select("format", "records", "unparsed", "encoding").iter_rows()
    assert row == ("exchange-config", 13, 2, "utf-16-le")
    assert frames.domains.select("domain", "line").rows() == [
        ("contoso.example", 5),
        ("fabrikam.example", 6),
    ]


def test_a_domain_cut_short_by_the_table_is_unparsed(tmp_path):
    (tmp_path / "domains.txt").write_text(
        "Name                DomainName          DomainType      Default\n"
        "----                ----------          ----------      -------\n"
        "Contoso Worldwi...  contoso-worldwid... Authoritative   True\n"
        "Fabrikam            fabrikam.example    Authoritative   False\n"
    )
    frames = ingest([tmp_path])
    assert frames.config["new"].to_list() == ["fabrikam.example"]
    (bad,) = frames.unparsed.select("line", "reason").iter_rows()
    assert bad == (3, "an accepted domain cut short by the table's width: use | fl")
    assert frames.domains["domain"].to_list() == ["fabrikam.example"]
