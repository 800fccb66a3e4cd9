"""The IMS excerpts quoted in Microsoft KB articles (../shared/corpus/ims): real log
lines nobody here wrote, re-wrapped, indented and quoted by KB editors.

The expected counts were made by reading each excerpt: one record per timestamped
or arrowed line, minus the ``IO: |`` lines that the next line repeats; wrapped
pieces belong to the line above."""

from __future__ import annotations

import polars as pl
import pytest

from forensics.ingest import ingest
from tests.conftest import IMS_CORPUS, corpus

EXPECTED = {  # file: (records, unparsed lines)
    "Q146669_reschedule_template.log": (1, 0),  # the KB's template of the summary line
    "Q186134_554_line.log": (1, 0),
    "Q198981_io_lines.log": (2, 0),  # two IO lines in quotes, nothing repeats them
    "Q228725_outbound_499.log": (11, 0),  # 12 records, the IO 354 repeated by the next
    "Q239816_499_line.log": (1, 0),  # one summary wrapped over two lines, in quotes
    "Q245787_outbound_550_invalid_domain.log": (12, 0),  # 17 records, 5 IO repeats
    "Q262945_inbound_ntlm_554_mailbox_not_local.log": (16, 0),
    "Q295725_inbound_pix_mailguard.log": (10, 0),
}


@pytest.fixture(scope="module")
def frames():
    return ingest([corpus(IMS_CORPUS)])


def test_every_excerpt_is_taken_for_an_ims_log_and_fully_read(frames):
    got = {
        r["path"]: (r["records"], r["unparsed"])
        for r in frames.inputs.to_dicts()
        if r["format"] == "ims"
    }
    assert got == EXPECTED


def test_wrapped_io_reply_and_its_repeat_count_once(frames):
    q = frames.events.filter(pl.col("source") == "Q245787_outbound_550_invalid_domain.log")
    assert q.filter(pl.col("code") == 250).height == 2  # HELO reply and MAIL reply
    refused = frames.recipients.filter(pl.col("rcpt") == "vincent@expedia.com").row(0, named=True)
    assert (refused["code"], refused["text"], refused["refusal"]) == (
        550,
        "Domain invalid",
        "host_unknown",
    )


def test_inbound_ntlm_session_of_q262945(frames):
    s = frames.sessions.filter(pl.col("source").str.starts_with("Q262945")).row(0, named=True)
    assert s["auth_user"] == "TIMDOFU\\administrator"
    assert s["outcome"] == "failed"  # 554 Mailbox is not local after the data
    assert s["data_accepted"] is False


def test_second_connection_in_one_file_is_a_second_session(frames):
    q = frames.sessions.filter(pl.col("source").str.starts_with("Q295725"))
    assert q["remote_host"].to_list() == ["mail.domain1.com", "mail.domain3.com"]
