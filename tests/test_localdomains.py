"""Local domains: given, from the directory, inferred only with two facts."""

from __future__ import annotations

import polars as pl

from forensics.ingest import ingest

INBOUND_ONLY = (
    "5/13/00 2:36:27 PM : A connection was accepted from 192.0.2.7.\r\n"
    "5/13/00 2:36:27 PM : <<< HELO stranger\r\n"
    "5/13/00 2:36:27 PM : >>> 250 OK\r\n"
    "5/13/00 2:36:28 PM : <<< MAIL FROM:<x@stranger.example>\r\n"
    "5/13/00 2:36:28 PM : >>> 250 OK - mail from <x@stranger.example>\r\n"
    "5/13/00 2:36:28 PM : <<< RCPT TO:<a@foreign.example>\r\n"
    "5/13/00 2:36:28 PM : >>> 250 OK - Recipient <a@foreign.example>\r\n"
)


def test_accepted_inbound_mail_alone_does_not_make_a_domain_local(tmp_path):
    # A relay accepts mail for foreign domains too: without the server's own name or
    # its outbound senders, nothing is inferred and locality stays unknown.
    (tmp_path / "L0000001.LOG").write_bytes(INBOUND_ONLY.encode())
    frames = ingest([tmp_path])
    assert frames.domains.height == 0
    assert frames.recipients["local"].is_null().all()


def test_the_directory_outranks_an_inference(tmp_path):
    log = INBOUND_ONLY.replace(">>> 250 OK\r\n", ">>> 250 mail.foreign.example Hello\r\n", 1)
    (tmp_path / "L0000001.LOG").write_bytes(log.encode())
    frames = ingest([tmp_path])
    # The EHLO answer names the server: its own domain, stronger than an inference.
    assert frames.domains.select("domain", "origin").rows() == [("foreign.example", "server-name")]
    (tmp_path / "gal.csv").write_text("Display Name,E-mail Address\nAnn,ann@foreign.example\n")
    frames = ingest([tmp_path])
    row = frames.domains.row(0, named=True)
    assert (row["domain"], row["origin"], row["source"]) == (
        "foreign.example",
        "directory",
        "gal.csv",
    )
    assert frames.recipients.filter(pl.col("local"))["rcpt"].to_list() == ["a@foreign.example"]


def test_configured_lists_give_domains_only():
    from forensics.derive.localdomains import _list_items

    variables = {"$myhostname": "postfix\\myhostname", "@": "exim\\primary_hostname"}
    names = {
        "postfix\\myhostname": "mx.contoso.example",
        "exim\\primary_hostname": "mail.x.example",
    }
    # Postfix: variables, a lookup table (its content is not in the snapshot), an
    # unknown variable.
    assert _list_items(
        "$myhostname, localhost.$mydomain hash:/etc/postfix/d", variables, names
    ) == ["mx.contoso.example"]
    # Exim's lists: colons, '@' for the primary host name, and items that are no domain.
    assert _list_items(
        "@ : contoso.example : @[] : *.x.example : !y.example", variables, names
    ) == [
        "mail.x.example",
        "contoso.example",
    ]
    assert _list_items("a.example:b.example", variables, names) == ["a.example", "b.example"]
