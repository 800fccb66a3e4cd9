"""Sendmail's configuration files (access, local-host-names, relay-domains) read as
config rows; the local domains and the allow list they prove."""

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
from grammars import sendmailconfig as g
from tests.conftest import FIXTURES, SAMPLES
from tests.test_differential import assert_same

CONFIG = FIXTURES / "config"

ACCESS = """\
# by default we allow relaying from localhost...
Connect:localhost.localdomain           RELAY
Connect:127.0.0.1                       RELAY
Connect:192.168.0                       RELAY
Connect:10                              RELAY
From:spammer@example.net                REJECT
To:example.org                          RELAY
Connect:203.0.113.9                     ERROR:"550 We don't accept mail from spammers"
Try_TLS:broken.server.example           NO
this line has no action at all
"""


def test_access_entries_their_left_sides_and_the_networks_allowed_to_relay(tmp_path):
    (tmp_path / "access").write_text(ACCESS)
    frames = ingest([tmp_path])
    (row,) = frames.inputs.select("format", "records", "unparsed", "lines").iter_rows()
    assert row == ("sendmail-config", 8, 1, 10)
    rows = {r["key"]: (r["line"], r["new"], r["note"]) for r in frames.config.to_dicts()}
    assert rows["sendmail\\access\\Connect:192.168.0"] == (
        4,
        "RELAY",
        "relay allowed from: 192.168.0.0/24",
    )
    assert rows["sendmail\\access\\Connect:10"][2] == "relay allowed from: 10.0.0.0/8"
    assert rows["sendmail\\access\\From:spammer@example.net"] == (6, "REJECT", None)
    # Relaying *to* a domain and refusals are no allow list of clients.
    assert rows["sendmail\\access\\To:example.org"][2] is None
    assert rows["sendmail\\access\\Connect:203.0.113.9"] == (
        8,
        'ERROR:"550 We don\'t accept mail from spammers"',
        None,
    )
    assert rows["sendmail\\access\\Try_TLS:broken.server.example"][1] == "NO"
    (bad,) = frames.unparsed.select("line", "reason").iter_rows()
    assert bad == (10, "an access entry whose action Sendmail does not know")
    registry = pl.DataFrame(schema={"name": pl.String, "new": pl.String})
    labels = allowlists.allow_entries(registry, frames.config, "^$")["label"].to_list()
    assert labels == ["10.0.0.0/8", "127.0.0.1/32", "192.168.0.0/24"]


def test_relay_domains_named_by_the_prompt_and_a_name_list_without_a_name():
    pasted = "root@mx:~# cat /etc/mail/relay-domains\nbranch.example\n192.168.7\n"
    assert sniff(pasted) == "sendmail-config"
    # A bare list of names says nothing of what it lists: not taken.
    assert sniff("branch.example\nother.example\n") != "sendmail-config"
    # Untagged 'pattern action' lines are also Postfix's access(5) maps: not taken.
    assert sniff("192.168.1 OK\nspammer.example REJECT\n") != "sendmail-config"


def test_relay_domains_rows_and_their_networks(tmp_path):
    (tmp_path / "pasted.txt").write_text(
        "root@mx:~# cat /etc/mail/relay-domains\nbranch.example\n192.168.7\n"
    )
    frames = ingest([tmp_path])
    rows = frames.config.select("line", "key", "new", "note").rows()
    assert rows == [
        (2, "sendmail\\relay-domains", "branch.example", None),
        (3, "sendmail\\relay-domains", "192.168.7", "relay allowed from: 192.168.7.0/24"),
    ]
    # relay-domains are domains relayed for, not local ones.
    assert frames.domains.height == 0


@pytest.mark.parametrize(
    "name", ["sendmail-access-fedora-pasted.txt", "sendmail-local-host-names-pasted.txt"]
)
def test_both_paths_agree_on_the_fixtures(name):
    assert_same(CONFIG / name)


def test_a_local_domain_missing_from_local_host_names_beside_the_refusals(tmp_path):
    # The Sendmail story of sample_logs (contoso.example refused as relaying after a
    # change), with the local-host-names the admin pasted: contoso.example is not in
    # it. The names it holds are local by the configuration, with their line; the
    # refused domain stays local by the directory, and the finding is made.
    folder = tmp_path / "case"
    shutil.copytree(SAMPLES / "sendmail-relay-denied-local", folder)
    (folder / "local-host-names.txt").write_text(
        "[root@mail01 ~]# cat /etc/mail/local-host-names\n"
        "# local-host-names - include all aliases for your machine here.\n"
        "mail01.contoso.example\n"
    )
    frames = ingest([folder])
    proved = frames.domains.filter(pl.col("origin") == "config")
    assert proved.select("domain", "source", "line").rows() == [
        ("mail01.contoso.example", "local-host-names.txt", 3)
    ]
    assert "contoso.example" not in frames.config["new"].to_list()
    findings = [f for f in evaluate(frames) if f.rule == "relay-prohibited-local-recipient"]
    assert [f.subject for f in findings] == ["contoso.example"]


FRAGMENTS = [
    "Connect:",
    "To:",
    "From:",
    "Try_TLS:",
    " ",
    "\t",
    "RELAY",
    "OK",
    "ERROR:",
    "550 x",
    "192.168.0",
    "a.example",
    "[",
    "]",
    "#",
    "local-host-names",
    "@",
    ".",
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
    for grammar in (g.ACCESS, g.NAME):
        fast = extract(series, grammar, "fast", fallback=False).drop("error")
        assert_frame_equal(fast, extract(series, grammar, "exact").drop("error"))


@settings(max_examples=100, deadline=None)
@given(st.lists(texts, max_size=20))
def test_reading_any_text_never_raises_and_counts_every_line(lines):
    item = Evidence(source="access", path=None, format="sendmail-config", text="\n".join(lines))  # type: ignore[arg-type]
    frames = read_evidence([item])
    (entry,) = frames.inputs.to_dicts()
    assert entry["records"] + entry["unparsed"] <= entry["lines"]
    assert frames.config.height == entry["records"]
