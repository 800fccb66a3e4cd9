"""Exim's configuration (exim -bP output, exim.conf's main section, Debian's
update-exim4.conf.conf) read as config rows; the local domains and the allow list
they prove."""

from __future__ import annotations

import shutil

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from forensics.core.evidence import Evidence
from forensics.core.lineparse import extract
from forensics.ingest import ingest, read_evidence
from forensics.readers.registry import sniff
from forensics.rules import evaluate
from forensics.rules.context import allowlists
from grammars import eximconfig as g
from tests.conftest import FIXTURES, SAMPLES
from tests.test_differential import assert_same

CONFIG = FIXTURES / "config"

EXIM4_CONF = """\
primary_hostname = mail01.contoso.example
domainlist local_domains = @ : localhost : \\
    fabrikam.example
hostlist   relay_from_hosts = <; 127.0.0.1 ; ::1 ; 192.168.42.0/24
no_split_spool_directory
.include /etc/exim4/local.conf
this is no setting
begin acl
acl_check_rcpt:
  accept  hosts = :
"""


def test_settings_continued_values_booleans_and_the_lines_not_read(tmp_path):
    (tmp_path / "exim4.conf").write_text(EXIM4_CONF)
    frames = ingest([tmp_path])
    (row,) = frames.inputs.select("format", "records", "unparsed", "lines").iter_rows()
    assert row == ("exim-config", 4, 5, 10)
    rows = frames.config.select("line", "key", "new", "note").rows()
    assert rows == [
        (1, "exim\\primary_hostname", "mail01.contoso.example", None),
        (2, "exim\\local_domains", "@ : localhost : fabrikam.example", "domainlist"),
        (
            4,
            "exim\\relay_from_hosts",
            "<; 127.0.0.1 ; ::1 ; 192.168.42.0/24",
            "relay allowed from: <; 127.0.0.1 ; ::1 ; 192.168.42.0/24",
        ),
        (5, "exim\\split_spool_directory", "false", None),
    ]
    reasons = dict(frames.unparsed.select("line", "reason").iter_rows())
    assert (
        reasons[6] == "a directive of the configuration file (.include, .ifdef, ...): not followed"
    )
    assert reasons[7] == "not an Exim 'name = value' setting"
    assert reasons[10] == "in Exim's acl section: not read (only the main section's settings are)"
    # @ is the primary host name; the list's items with their line.
    proved = frames.domains.select("domain", "line").rows()
    assert proved == [("fabrikam.example", 2), ("localhost", 2), ("mail01.contoso.example", 2)]
    registry = pl.DataFrame(schema={"name": pl.String, "new": pl.String})
    labels = allowlists.allow_entries(registry, frames.config, "^$")["label"].to_list()
    assert labels == ["127.0.0.1/32", "192.168.42.0/24"]


def test_debian_update_exim4_conf_conf(tmp_path):
    (tmp_path / "update-exim4.conf.conf").write_text(
        "dc_eximconfig_configtype='internet'\n"
        "dc_other_hostnames='contoso.example'\n"
        "dc_local_interfaces='127.0.0.1 ; ::1'\n"
        "dc_relay_nets='192.168.42.0/24'\n"
    )
    frames = ingest([tmp_path])
    assert frames.inputs["format"].to_list() == ["exim-config"]
    values = dict(frames.config.select("key", "new").iter_rows())
    assert values["exim\\dc_other_hostnames"] == "contoso.example"
    assert values["exim\\dc_relay_nets"] == "192.168.42.0/24"
    assert frames.domains.select("domain", "line").rows() == [("contoso.example", 2)]
    registry = pl.DataFrame(schema={"name": pl.String, "new": pl.String})
    labels = allowlists.allow_entries(registry, frames.config, "^$")["label"].to_list()
    assert labels == ["192.168.42.0/24"]


def test_a_log_is_not_a_configuration():
    line = (
        "2000-05-16 09:03:11 H=(x) [203.0.113.9] F=<a@b.example> rejected RCPT"
        " <u@contoso.example>: relay not permitted\n"
    )
    assert sniff(line * 5) != "exim-config"
    assert sniff("primary_hostname = mx\nqualify_domain = x\nnever_users = root\n") == "exim-config"


def test_both_paths_agree_on_the_fixture():
    assert_same(CONFIG / "exim-configure-default-main.conf")


def test_the_configuration_beside_the_exim_story(tmp_path):
    # sample_logs' Exim story: contoso.example went out of local_domains at 09:00 and
    # its mail is refused 'relay not permitted'. With the configuration as it is now
    # pasted beside the logs, the domains it still lists are local by config, with
    # their line, and the refused domain is not among them; the finding is made.
    folder = tmp_path / "case"
    shutil.copytree(SAMPLES / "exim-relay-denied-local", folder)
    (folder / "exim4.conf-main.txt").write_text(
        "primary_hostname = mail01.contoso.example\ndomainlist local_domains = @\n"
    )
    frames = ingest([folder])
    proved = frames.domains.filter(pl.col("origin") == "config")
    assert proved.select("domain", "source", "line").rows() == [
        ("mail01.contoso.example", "exim4.conf-main.txt", 2)
    ]
    findings = [f for f in evaluate(frames) if f.rule == "relay-prohibited-local-recipient"]
    assert [f.subject for f in findings] == ["contoso.example"]


FRAGMENTS = [
    "domainlist ",
    "hostlist",
    " = ",
    "=",
    "local_domains",
    "no_",
    "not_",
    "begin ",
    "acl",
    " ",
    "\t",
    "@",
    " : ",
    "\\",
    "#",
    ".include",
    "'",
    "x_y",
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
    for grammar in (g.SETTING, g.FLAG, g.BEGIN):
        fast = extract(series, grammar, "fast", fallback=False).drop("error")
        assert_frame_equal(fast, extract(series, grammar, "exact").drop("error"))


@settings(max_examples=100, deadline=None)
@given(st.lists(texts, max_size=20))
def test_reading_any_text_never_raises_and_counts_every_line(lines):
    item = Evidence(source="exim.conf", path=None, format="exim-config", text="\n".join(lines))  # type: ignore[arg-type]
    frames = read_evidence([item])
    (entry,) = frames.inputs.to_dicts()
    assert entry["records"] + entry["unparsed"] <= entry["lines"]
    assert frames.config.height == entry["records"]
