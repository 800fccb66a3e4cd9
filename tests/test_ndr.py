"""Non-delivery reports, one fixture per form the issue names. Expected values are
read off the fixtures by hand."""

from __future__ import annotations

import datetime as dt

import polars as pl
from polars.testing import assert_frame_equal

from forensics.ingest import ingest
from forensics.readers import ndr
from tests.conftest import CORPUS, FIXTURES, corpus

NDR = FIXTURES / "ndr"


def rows(name: str) -> pl.DataFrame:
    return ingest([NDR / name]).ndrs


def one(frame: pl.DataFrame, recipient: str) -> dict:
    hits = frame.filter(pl.col("recipient") == recipient)
    assert hits.height == 1, (recipient, frame["recipient"].to_list())
    return hits.row(0, named=True)


def test_exchange55_report_with_a_remote_relay_refusal_under_an_x400_reason():
    frame = rows("exchange55_relay_refused.eml")
    assert frame.height == 2
    bob = one(frame, "bob@partner-a.example")
    # The X.400 reason says "not recognized"; the remote reply, wrapped to column 0
    # in the diagnostic, says relaying was refused: that is what it was.
    assert bob["reason_text"] == "The recipient name is not recognized"
    assert (bob["msexch_component"], bob["msexch_org"], bob["msexch_site"]) == (
        "IMS",
        "Fabrikam Inc",
        "Head Office",
    )
    assert (bob["msexch_server"], bob["msexch_code"], bob["msexch_hex"]) == (
        "MAIL01",
        "3550",
        "000B09AA",
    )
    assert bob["remote_code"] == 550
    assert bob["remote_text"] == "Relaying mail to bob@partner-a.example is not allowed."
    assert bob["refusal"] == "relay_denied"
    assert bob["generator"] == "exchange-ims"
    assert bob["software"] == "Internet Mail Service (5.5.2653.19) (Exchange Server 5.5 SP4)"
    assert bob["original_subject"] == "quarterly figures"
    assert bob["original_from"] == "Ann Baker <ann.baker@fabrikam.example>"
    assert bob["original_sent"] == dt.datetime(2000, 5, 16, 9, 13, 51)
    assert bob["ts"] == dt.datetime(2000, 5, 16, 9, 14, 3)
    assert bob["line"] == 24  # the recipient's line in the file: evidence to cite
    carla = one(frame, "carla@nowhere.example")
    assert (carla["msexch_code"], carla["msexch_hex"]) == ("3902", "000B099C")
    assert carla["refusal"] == "host_unknown"


def test_outlook_rendering_pasted_as_text():
    (row,) = rows("outlook_pasted.txt").to_dicts()
    assert row["recipient"] == "dev.chen@supplier.example"
    assert row["msexch_server"] == "EXCH01" and row["msexch_site"] == "Main Site"
    assert row["refusal"] == "unknown_recipient"
    assert row["original_subject"] == "Re: order 4471"


def test_mbox_dsn_with_folded_diagnostic_and_an_ordinary_mail():
    frames = ingest([NDR / "mbox_mixed"])
    (row,) = frames.ndrs.to_dicts()  # the second message is not a bounce
    assert row["recipient"] == "jon.ito@customer-b.example"
    assert row["generator"] == "dsn"
    assert (row["remote_code"], row["remote_status"]) == (554, "5.7.1")
    assert row["remote_text"] == "<jon.ito@customer-b.example>: Relay access denied"
    assert row["remote_mta"] == "mx.customer-b.example"
    assert row["reporting_mta"] == "relay.isp-west.example"
    assert row["refusal"] == "relay_denied"
    assert row["line"] == 20
    assert frames.inputs["unparsed"][0] == 0


def test_read_receipts_are_not_ndrs():
    frames = ingest([NDR / "read_receipt.eml"])
    assert frames.inputs["format"][0] == "email"
    assert frames.ndrs.height == 0 and frames.unparsed.height == 0


def test_line_endings_read_the_same():
    folder = corpus(CORPUS / "ndr" / "line-endings")
    frame = ingest([folder]).ndrs
    by_form = {
        form: frame.filter(pl.col("source").str.starts_with(form)).select(
            "recipient", "refusal", "msexch_code"
        )
        for form in ("dos-", "mac-")
    }
    assert by_form["dos-"].height > 0
    assert by_form["dos-"].to_dicts() == by_form["mac-"].to_dicts()


def test_malformed_messages_never_raise(tmp_path):
    (tmp_path / "cut.eml").write_text(
        "From: MAILER-DAEMON@x.example\nSubject: Undeliverable: x\nContent-Type: multipart/"
        'report; boundary="B"\n\n--B\nContent-Type: message/delivery-status\n\nFinal-Rec'
    )
    (tmp_path / "charset.eml").write_bytes(
        b"From: postmaster@x.example\nSubject: Returned mail\nContent-Type: text/plain; "
        b"charset=x-no-such-charset\n\n<a@b.example>: host said: 550 \xff\xfe no\n"
    )
    frames = ingest([tmp_path])
    assert frames.inputs["format"].to_list() == ["email", "email"]
    # Both are bounces whose recipients cannot be found: counted, not lost.
    assert sorted(frames.unparsed["source"].to_list()) == ["charset.eml", "cut.eml"]
    assert frames.inputs["unparsed"].to_list() == [
        len(p.read_text(errors="replace").splitlines()) for p in sorted(tmp_path.iterdir())
    ]


def test_ims_notification_to_administrators():
    # Only this report's opening line is documented; the layout below it is inferred,
    # so the reader takes any line that holds just an address as a recipient.
    frame = rows("ims_admin_notification.eml")
    assert sorted(frame["recipient"]) == ["ines.jones@bank.example", "kim.fox@partner-a.example"]
    kim = one(frame, "kim.fox@partner-a.example")
    assert (kim["remote_code"], kim["remote_text"]) == (550, "Relaying is prohibited")
    assert kim["refusal"] == "relay_denied"
    assert kim["software"] == "Internet Mail Service (5.5.2232.0) (Exchange Server 5.5 SP1)"
    assert one(frame, "ines.jones@bank.example")["refusal"] == "host_unknown"


def test_exchange2003_outlook_rendering_with_an_enhanced_status():
    (row,) = rows("exchange2003_outlook.eml").to_dicts()
    assert row["recipient"] == "gone.user@partner-a.example"
    assert row["remote_status"] == "5.1.1"
    assert row["diagnostic"] == "<mx.partner-a.example #5.1.1>"
    assert row["reason_text"].startswith("The e-mail account does not exist")
    assert row["refusal"] == "unknown_recipient"


def test_reading_in_two_processes_gives_the_same_rows():
    """Large batches are read by this process and a worker: the rows, their order
    and the per-file counts are those of one process reading them all."""
    files = sorted(p for p in (FIXTURES / "ndr").iterdir() if p.is_file()) * 3
    texts = [p.read_text(encoding="utf-8", errors="replace") for p in files]
    sources = [f"{i}/{p.name}" for i, p in enumerate(files)]
    one = ndr.read(texts, sources, parallel=False)
    two = ndr.read(texts, sources, parallel=True)
    assert (one.processes, two.processes) == (1, 2)
    assert two.ndrs.height > 0
    assert_frame_equal(one.ndrs, two.ndrs)
    assert_frame_equal(one.unparsed, two.unparsed)
    assert (one.records, one.unparsed_counts) == (two.records, two.unparsed_counts)


X500_REPORT = """From: System Administrator <postmaster@contoso.example>
To: ann@contoso.example
Subject: Undeliverable: quote
Date: Tue, 16 May 2000 09:05:00 -0400
MIME-Version: 1.0
Content-Type: text/plain

Your message

  To:      Sales Desk
  Subject: quote
  Sent:    5/16/00 9:03 AM

did not reach the following recipient(s):

</o=Contoso/ou=Site1/cn=Recipients/cn=Sales> on 5/16/00 9:03 AM
            The recipient name is not recognized
            MSEXCH:IMS:Contoso:Site1:MAIL01 0 (000C05A6) Unknown Recipient

Sales Desk on 5/16/00 9:03 AM
            The recipient name is not recognized
            MSEXCH:IMS:Contoso:Site1:MAIL01 0 (000C05A6) Unknown Recipient

jane@tailspin.example on 5/16/00 9:03 AM
            You do not have permission to send to this recipient.
            MSEXCH:IMS:Contoso:Site1:MAIL01 3550 (000B09AA) 550 Relaying is prohibited
"""


def test_directory_recipients_named_by_x500_dn_or_display_name_are_rows(tmp_path):
    # An Exchange 5.x report names a directory recipient without an SMTP address of
    # its own by its X.500 DN or its display name: each is a failed recipient too.
    (tmp_path / "bounce.eml").write_text(X500_REPORT)
    rows = ingest([tmp_path]).ndrs.select("recipient", "msexch_code", "refusal").rows()
    assert rows == [
        ("/o=contoso/ou=site1/cn=recipients/cn=sales", "0", "unknown_recipient"),
        ("sales desk", "0", "unknown_recipient"),
        ("jane@tailspin.example", "3550", "relay_denied"),
    ]
