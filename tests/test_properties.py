"""Properties over arbitrary input: no grammar ever raises, the regex twin decides
exactly as pyparsing does (checked without the pyparsing fallback, which would hide
a twin that is too strict), and reading any file never raises or loses a line."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from forensics.core.evidence import Evidence
from forensics.core.lineparse import extract, matches
from forensics.core.text import _lines_by_explode, lines_frame, split_lines
from forensics.ingest import read_evidence
from grammars import (
    evidence_csv,
    exchange,
    ims,
    postfix,
    registry,
    smtp,
    tracking,
    transcript,
    w3c,
)

EXTRACTORS = [
    ims.LINE,
    ims.PAYLOAD,
    smtp.PATH_ARG,
    registry.LINE,
    registry.REG_QUERY_LINE,
    registry.REGEDT32_LINE,
    evidence_csv.CRASH_TIME,
    evidence_csv.TIME,
    evidence_csv.PROXY,
    evidence_csv.EVENT_TIME,
    postfix.LINE,
    postfix.CONNECT,
    postfix.DISCONNECT,
    postfix.CLIENT,
    postfix.REJECT,
    postfix.REJECT_TRAILER,
    postfix.QMGR_FROM,
    postfix.DELIVERY,
    postfix.SAID,
    postfix.MASTER,
    exchange.LINE,
    exchange.COMMAND,
    smtp.REPLY,
    transcript.LINE,
    w3c.fields_grammar(
        ("date", "time", "c-ip", "cs-username", "cs-method", "cs-uri-query", "sc-status")
    ),
    tracking.TRACK_TIME,
    tracking.ISO_TIME,
    tracking.EX5_HEAD,
    tracking.EX5_RECIPIENT,
    tracking.SOURCE_CONTEXT,
    tracking.FAIL_STATUS,
    tracking.tab_grammar(("Date", "Time", "client-ip", "Event-ID", "MSGID")),
    tracking.csv_grammar(("date-time", "source-context", "event-id", "recipient-status")),
]
DECIDERS = [ims.STARTER, ims.REPLY_HEAD, ims.DASH_REPLY]

# Pieces of real lines, so that generated text often comes close to matching.
FRAGMENTS = [
    "5/13/00 ",
    "12/ 2/1997 ",
    "The error occurred on ",
    " @ ",
    "17:27:29.240",
    "2:36:27 PM",
    "14:02:03",
    " : ",
    " :",
    "<<< ",
    ">>> ",
    "<<<",
    "IO: |",
    "IO:|",
    "A connection was accepted from ",
    "A connection to ",
    " was established.",
    "250",
    "550",
    "-",
    " ",
    "5.7.1 ",
    "5.7.",
    "OK",
    "Relaying is prohibited",
    "MAIL FROM:",
    "RCPT To:",
    "<a@b.example>",
    "<>",
    " SIZE=1460",
    "EHLO",
    "AUTH NTLM ",
    "TlRMTVNTUAADAAAAGAAY",
    "==",
    "Message subject: ",
    '""x""',
    ". Rescheduling delivery for later.",
    ".",
    '"',
    "\t",
    "   ",
    "é",
    "\x00",
    "\u2028",
    "250-",
    "AM",
    "a.m.",
    "Jan  1 00:00:01 mx1 postfix/smtpd[4100]: ",
    "2000-05-16T09:00:07.000017+01:00 mail01 postfix/smtp[7]: ",
    "connect from ",
    "unknown[203.0.113.9]",
    "NOQUEUE: reject: RCPT from ",
    "; from=<a@b> to=<c@d> proto=ESMTP helo=<h>",
    "4A1B2C3D4E: ",
    "to=<x@y>, relay=",
    "h[192.0.2.1]:25",
    ", delay=1.1, delays=0.1/0/0.5/0.5",
    ", dsn=5.7.1, status=bounced (",
    "host h[1.2.3.4] said: ",
    " (in reply to RCPT TO command))",
    "client=",
    ", sasl_method=LOGIN, sasl_username=bob",
    "from=<a@b>, size=1, nrcpt=1 (queue active)",
    "daemon started",
    "reload",
    " -- version 3.4.13,",
    " configuration /etc/postfix",
    "2014-03-04T10:00:01.100Z,",
    '"EX01\\Default Frontend EX01",',
    "08D1A2B3C4D5E6F7,3,10.0.0.5:25,203.0.113.7:51234,",
    "<,",
    ">,",
    '"550 5.7.54 SMTP; Unable to relay",',
    '""',
    "250-EX01 Hello",
    "2003-05-16 09:00:01 203.0.113.7 ",
    "OutboundConnectionResponse ",
    "+TO:+<a@b> ",
    "550 ",
    "  ",
    "c=US;a= ;p=Org;l=MAIL01-990607134455Z-12\t",
    "1017\t",
    "6/7/99 18:45:06 GMT\t",
    "1999-6-7 6:50:10 PM",
    "\tIMS\tMTA\t\t",
    "0\t2113\t0\t1\t\t2",
    "08CB6E1A2B3C4D5E;",
    "[{LRT=};{LED=",
    "550 5.7.1 Unable to relay}",
    ";{FQDN=relay.x};{IP=192.0.2.25}]",
    "FAIL,",
]
texts = st.one_of(
    st.text(max_size=60),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=3)), max_size=12).map("".join),
).filter(lambda s: "\n" not in s and "\r" not in s)


@settings(max_examples=400, deadline=None)
@given(st.lists(texts, min_size=1, max_size=8))
def test_twin_and_pyparsing_agree_on_any_text(values):
    series = pl.Series(values, dtype=pl.String)
    for grammar in EXTRACTORS:
        fast = extract(series, grammar, "fast", fallback=False).drop("error")
        exact = extract(series, grammar, "exact").drop("error")
        assert_frame_equal(fast, exact)
    for grammar in DECIDERS:
        assert (
            matches(series, grammar, "fast").to_list()
            == matches(series, grammar, "exact").to_list()
        )


@settings(max_examples=150, deadline=None)
@given(st.lists(texts, max_size=30), st.sampled_from(["\r\n", "\n", "\r"]))
def test_reading_any_log_text_never_raises_and_accounts_for_lines(lines, ending):
    text = ending.join(lines)
    item = Evidence(source="L0000001.LOG", path=None, format="ims", text=text)  # type: ignore[arg-type]
    frames = read_evidence([item])
    (entry,) = frames.inputs.to_dicts()
    # The reader reports lines as records + unparsed + the rest it accounted for;
    # that must be every line of the text.
    assert entry["lines"] == len(split_lines(text))
    assert frames.unparsed.height == entry["unparsed"]
    assert frames.events.height == entry["records"]


@settings(max_examples=150, deadline=None)
@given(st.lists(texts, max_size=20))
def test_reading_any_syslog_text_never_raises_and_accounts_for_lines(lines):
    text = "\n".join(lines)
    item = Evidence(source="mail.log", path=None, format="postfix", text=text)  # type: ignore[arg-type]
    frames = read_evidence([item], year=2000)
    (entry,) = frames.inputs.to_dicts()
    assert entry["lines"] == len(split_lines(text))
    assert frames.unparsed.height == entry["unparsed"]
    # Blank lines and comments are read and are no records.
    blank = sum(1 for line in split_lines(text) if not line.strip(" \t") or line.startswith("#"))
    assert entry["records"] + entry["unparsed"] + blank == entry["lines"]


NDR_FRAGMENTS = [
    "From: MAILER-DAEMON@x.example\n",
    "Subject: Undeliverable: x\n",
    "Return-Path: <>\n",
    "Content-Type: multipart/report; report-type=delivery-status; boundary=B\n",
    "\n",
    "--B\n",
    "--B--\n",
    "Content-Type: message/delivery-status\n",
    "Final-Recipient: rfc822; ",
    "a@b.example",
    "Action: failed\n",
    "Status: 5.7.1\n",
    "Diagnostic-Code: smtp; 550 ",
    "did not reach the following recipient(s):\n",
    " on Tue, 16 May 2000 09:14:02 -0500\n",
    "MSEXCH:IMS:Org:Site:SRV 3550 (000B09AA) 550 Relaying",
    "Content-Transfer-Encoding: base64\n",
    "=?utf-8?b?",
    "\r",
    "\x00",
    "From x Tue May 16 2000\n",
    "<a@b.example>:\n",
]
mail_texts = st.lists(
    st.one_of(st.sampled_from(NDR_FRAGMENTS), st.text(max_size=8)), max_size=30
).map("".join)


@settings(max_examples=200, deadline=None)
@given(mail_texts)
def test_reading_any_mail_text_never_raises(text):
    from forensics.readers import ndr

    result = ndr.read([text], ["m.eml"])
    assert result.ndrs.height == result.records[0]
    assert result.unparsed_counts[0] <= len(split_lines(text))  # CR, LF, CRLF all end lines


CONFIG_FRAGMENTS = [
    "REGEDIT4\r\n",
    "Windows Registry Editor Version 5.00\r\n",
    "[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\MSExchangeIMC\\Parameters]\r\n",
    '"RelayFlags"=dword:00000002\r\n',
    '"RelayAllowList"=hex(7):31,00,39,00,\\\r\n  32,00,00,00,00,00\r\n',
    '"X"=hex:zz,01\r\n',
    '"S"="a\\\\b"\r\n',
    "[-HKEY_LOCAL_MACHINE\\x]\r\n",
    '"V"=-\r\n',
    "Key Name: SYSTEM\\CurrentControlSet\\Services\\MSExchangeIMC\\Parameters\r\n",
    "Last Write Time: 12/2/97 - 5:20 PM\r\n",
    "Value 0\r\n  Name: RelayFlags\r\n  Type: REG_DWORD\r\n  Data: 0x2\r\n",
    "    RelayFlags    REG_DWORD    0x2\r\n",
    "time,component,setting,old,new,note\r\n",
    "2000-05-16 09:00,IMS,reroute,a,b,c\r\n",
    '"unterminated,\r\n',
    "12/2/97\t5:27:29 PM\tDrWatson\tError\tNone\t4097\tN/A\tEXCHSRV\tThe application\r\n",
    "Level,Date and Time,Source,Event ID,Task Category\r\n",
    "Display Name,E-mail Addresses\r\n",
    'Ann,"SMTP:ann@x.example%X400:c=US"\r\n',
    "\x00",
    "é",
    ",",
    "\t",
    "\r\n",
]
config_texts = st.lists(
    st.one_of(st.sampled_from(CONFIG_FRAGMENTS), st.text(max_size=6)), max_size=25
).map("".join)


@settings(max_examples=150, deadline=None)
@given(config_texts, st.sampled_from(["registry", "changelog", "eventlog", "directory"]))
def test_reading_any_configuration_text_never_raises(text, fmt):
    # A fuzz target for the registry, event-log, change-log and directory readers:
    # whatever the text, they read what they can and account for every line.
    item = Evidence(source="evidence.txt", path=None, format=fmt, text=text)  # type: ignore[arg-type]
    frames = read_evidence([item])
    (entry,) = frames.inputs.to_dicts()
    assert entry["records"] + entry["unparsed"] <= max(entry["lines"], 1)
    assert frames.unparsed.height == entry["unparsed"]


TRACKING_HEADERS = [
    "#Software: Microsoft Exchange Server\n#Log-type: Message Tracking Log\n"
    "#Fields: date-time,source-context,source,event-id,message-id,recipient-address,"
    "recipient-status,reference,related-recipient-address\n",
    "# Message Tracking Log File\n# Date\tTime\tRecipient-Address\tEvent-ID\tMSGID\n",
    "",
]
tracking_lines = st.lists(
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=4)), max_size=10).map("".join),
    max_size=12,
)


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(TRACKING_HEADERS),
    tracking_lines,
    st.sampled_from(["tracking-5x", "tracking-2000", "tracking-2007"]),
)
def test_reading_any_tracking_text_never_raises_and_accounts_for_lines(header, lines, fmt):
    # Whatever follows the header, each line is a record, a header, blank or
    # unparsed; the paths are built without error from whatever was read.
    text = header + "\n".join(lines)
    item = Evidence(source="t.log", path=None, format=fmt, text=text)  # type: ignore[arg-type]
    frames = read_evidence([item])
    (entry,) = frames.inputs.to_dicts()
    assert entry["lines"] == len(split_lines(text))
    assert entry["records"] + entry["unparsed"] <= entry["lines"]
    assert frames.unparsed.height == entry["unparsed"]


LINE_PIECES = ["a", "\n", "\r", "\r\n", '"', ",", "\x00", "\x1f", "\ufeff", "é", " "]
# Every byte the fast cut might use as its separator: it must fall back.
ALL_SEPARATORS = "".join(chr(c) for c in (*range(0, 9), *range(14, 32))) + "\n"
line_texts = st.lists(
    st.lists(st.sampled_from(LINE_PIECES), max_size=12).map("".join)
    | st.sampled_from(["", ALL_SEPARATORS]),
    max_size=6,
)


@settings(max_examples=300, deadline=None)
@given(line_texts)
def test_lines_are_cut_as_splitting_would_cut_them(texts):
    # Both cuts in polars (the CSV reader on a byte no line holds, and split and
    # explode) against plain splitting in Python: the same files, lines, numbers and
    # text, blank lines and BOMs kept, CR, LF and CRLF all ending a line.
    items = [Evidence(source=str(i), path="", text=t) for i, t in enumerate(texts)]
    expected = pl.DataFrame(
        [
            (fid, number, line)
            for fid, t in enumerate(texts)
            for number, line in enumerate(split_lines(t), start=1)
        ],
        schema={"fid": pl.UInt32, "line": pl.UInt32, "text": pl.String},
        orient="row",
    )
    # Small texts take the CSV reader's path too here, so that it is what is tested.
    assert_frame_equal(lines_frame(items, csv_cut_from=0), expected)
    assert_frame_equal(lines_frame(items, csv_cut_from=1 << 40), expected)
    assert_frame_equal(_lines_by_explode(texts), expected)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(max_codepoint=0x2FF)), max_size=30))
def test_the_column_forms_of_printable_and_formula_safe_agree_with_the_functions(values):
    from forensics.core.printable import (
        formula_safe,
        formula_safe_expr,
        printable,
        printable_expr,
    )

    column = pl.Series("v", values, dtype=pl.String).to_frame()
    got = column.select(formula_safe_expr(printable_expr(pl.col("v"))))["v"].to_list()
    assert got == [formula_safe(printable(v)) for v in values]
