"""Postfix configuration evidence: postconf -n output and main.cf read as config rows."""

from __future__ import annotations

import polars as pl

from forensics.ingest import ingest
from forensics.readers.registry import sniff
from tests.conftest import CORPUS, SAMPLES, corpus

RULE = "relay-prohibited-local-recipient"

MAIN_CF = """\
# See /usr/share/postfix/main.cf.dist for a commented, more complete version
myhostname = mx1.example.org
mydomain = example.org
mydestination = $myhostname, localhost.$mydomain,
    localhost, $mydomain

mynetworks = 127.0.0.0/8 [::1]/128
  192.0.2.0/24
smtpd_relay_restrictions = permit_mynetworks permit_sasl_authenticated defer_unauth_destination
this line is no setting
"""


def test_main_cf_settings_with_continued_values_comments_and_a_stray_line(tmp_path):
    (tmp_path / "main.cf").write_text(MAIN_CF)
    frames = ingest([tmp_path])
    (row,) = frames.inputs.select("format", "records", "unparsed", "lines").iter_rows()
    assert row == ("postfix-config", 5, 1, 10)
    values = dict(frames.config.select("key", "new").iter_rows())
    assert (
        values["postfix\\mydestination"] == "$myhostname, localhost.$mydomain, localhost, $mydomain"
    )
    assert values["postfix\\mynetworks"] == "127.0.0.0/8 [::1]/128 192.0.2.0/24"
    first = frames.config.row(0, named=True)
    assert (first["source"], first["line"], first["origin"], first["key"], first["new"]) == (
        "main.cf",
        2,
        "postconf",
        "postfix\\myhostname",
        "mx1.example.org",
    )
    assert first["ts_quality"] == "mtime"
    (bad,) = frames.unparsed.select("line", "reason").iter_rows()
    assert bad == (10, "not a Postfix 'name = value' setting")


def test_a_log_that_quotes_settings_is_not_a_configuration():
    log = "Oct  2 18:37:35 mx postfix/smtpd[1]: warning: mynetworks = 127.0.0.0/8\n" * 5
    assert sniff(log) == "postfix"
    assert sniff("mydestination = a\nmynetworks = b\nrelayhost = c\n") == "postfix-config"


def test_the_postconf_output_beside_a_real_relay_refusal():
    frames = ingest([corpus(CORPUS / "postfix/shlomif-relay")])
    formats = dict(frames.inputs.select("path", "format").iter_rows())
    assert formats == {"maillog": "postfix", "postconf-n--output.txt": "postfix-config"}
    settings = dict(frames.config.select("key", "new").iter_rows())
    assert settings["postfix\\mynetworks"] == "127.0.0.0/8"
    assert settings["postfix\\smtpd_relay_restrictions"] == "check_relay_domains"
    assert frames.config.filter(pl.col("key").str.contains("mydestination"))["line"].to_list() == [
        16
    ]


def test_a_refused_local_domain_missing_from_mydestination_is_named_with_the_line(tmp_path):
    # The Postfix sample (contoso.example taken out of mydestination at 09:00) with
    # the `postconf -n` the admin pasted while the refusals went on.
    import shutil

    from forensics.rules import evaluate

    shutil.copytree(SAMPLES / "postfix-relay-denied-local", tmp_path / "case")
    (tmp_path / "case" / "postconf-n.txt").write_text(
        "myhostname = mail01.contoso.example\n"
        "mydestination = $myhostname, localhost\n"
        "mynetworks = 127.0.0.0/8\n"
    )
    found = [f for f in evaluate(ingest([tmp_path / "case"])) if f.rule == RULE]
    (finding,) = found
    assert "mydestination = $myhostname, localhost (postconf-n.txt:2)" in finding.summary
    assert any(label.startswith("the domain missing from") for label in finding.saw)
    # With the domain back in the list the configuration is no longer the cause.
    (tmp_path / "case" / "postconf-n.txt").write_text(
        "myhostname = mail01.contoso.example\n"
        "mydestination = $myhostname, localhost, contoso.example\n"
    )
    (again,) = [f for f in evaluate(ingest([tmp_path / "case"])) if f.rule == RULE]
    assert "postconf-n.txt" not in again.summary
