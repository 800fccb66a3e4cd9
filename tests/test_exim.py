"""The Exim reader: Exim's mainlog, rejectlog and syslog lines rebuilt into SMTP
events, sessions and recipients, with both engines, on hand-written lines, the real
corpus lines (fail2ban's samples, Exim's own test suite, OSSEC's) and the sample
scenarios."""

from __future__ import annotations

import re

import pytest
from polars.testing import assert_frame_equal

from forensics.ingest import ingest
from forensics.knowledge import load
from forensics.rules import evaluate
from tests.conftest import CORPUS, SAMPLES, corpus


def _log(tmp_path, *messages: str, name: str = "mainlog", pid: bool = False):
    """An Exim main log of the messages, one second apart (with +pid: 'pid|msg')."""
    lines = []
    for i, message in enumerate(messages):
        stamp = f"2024-03-11 09:{i // 60:02d}:{i % 60:02d}"
        if pid:
            number, message = message.split("|", 1)
            stamp += f" [{number}]"
        lines.append(f"{stamp} {message}\n")
    (tmp_path / name).write_text("".join(lines))
    return ingest([tmp_path / name])


def test_a_local_delivery_is_an_accepted_rcpt_that_proves_the_domain_local(tmp_path):
    frames = _log(
        tmp_path,
        "1rAbCd-000Abc-AB <= ann@partner.example H=mx.partner.example [198.51.100.20] "
        "P=esmtp S=2297 id=a@partner.example",
        "1rAbCd-000Abc-AB => bob <bob@contoso.example> R=local_user T=local_delivery",
        "1rAbCd-000Abc-AB Completed",
    )
    (session,) = frames.sessions.iter_rows(named=True)
    assert session["session"].startswith("exim:")
    assert (session["remote_ip"], session["remote_host"]) == ("198.51.100.20", "mx.partner.example")
    assert (session["mail_from"], session["data_accepted"]) == ("ann@partner.example", True)
    (rcpt,) = frames.recipients.iter_rows(named=True)
    # The RCPT cites the delivery line, which proves the domain local.
    assert rcpt["rcpt"] == "bob@contoso.example" and rcpt["accepted"] and rcpt["line"] == 2
    assert rcpt["text"] == "queued; delivered by local transport=local_delivery"
    assert re.search(load("domains")["local_delivery"], rcpt["text"])
    assert frames.domains["domain"].to_list() == ["contoso.example"]
    assert frames.inputs["unparsed"].to_list() == [0]


def test_relay_not_permitted_is_a_refused_rcpt_from_the_client_of_its_line(tmp_path):
    frames = _log(
        tmp_path,
        "H=(yakult.com.tw) [203.0.113.9]:3755 I=[192.0.2.1]:25 F=spam@bad.example "
        "rejected RCPT x@far.example: relay not permitted",
    )
    (rcpt,) = frames.recipients.iter_rows(named=True)
    assert (rcpt["remote_ip"], rcpt["mail_from"], rcpt["rcpt"]) == (
        "203.0.113.9",
        "spam@bad.example",
        "x@far.example",
    )
    # Exim logs no code: it answers a denied RCPT with 550.
    assert (rcpt["code"], rcpt["status"], rcpt["refusal"]) == (550, None, "relay_denied")
    (session,) = frames.sessions.iter_rows(named=True)
    assert (session["helo"], session["remote_host"], session["outcome"]) == (
        "yakult.com.tw",
        "203.0.113.9",
        "refused",
    )


def test_a_temporary_refusal_is_451_and_after_data_refuses_the_data(tmp_path):
    frames = _log(
        tmp_path,
        "H=(test) [192.0.2.7] F=<a@b.example> temporarily rejected RCPT <z@contoso.example>: "
        "Could not complete sender verify callout",
        "1Unmew-0000ea-SE H=mx.b.example [192.0.2.8]:32706 F=<c@b.example> rejected after "
        "DATA: This message contains a virus",
    )
    (rcpt,) = frames.recipients.iter_rows(named=True)
    assert (rcpt["code"], rcpt["accepted"], rcpt["refusal"]) == (451, False, "temporary")
    data = frames.events.filter(frames.events["line"] == 2)
    assert data["verb"].drop_nulls().to_list() == ["MAIL", "DATA"]
    assert data.filter(data["kind"] == "reply")["code"].to_list() == [250, 550]
    assert frames.sessions["remote_ip"].to_list() == ["192.0.2.7", "192.0.2.8"]


def test_an_authenticated_submission_logs_auth_then_235_before_mail(tmp_path):
    frames = _log(
        tmp_path,
        "1avJcc-0003Py-15 <= ann@contoso.example H=(ws1) [192.168.10.5]:1543 P=esmtpsa "
        "X=TLS1.2:ECDHE-RSA-AES256-GCM-SHA384:256 CV=no A=dovecot_login:ann S=3455 "
        'id=1@ws1 T="Re: the plan for Tuesday" for jon@far.example',
        "1avJcc-0003Py-15 => jon@far.example R=dnslookup T=remote_smtp "
        'H=mx.far.example [203.0.113.20] X=TLS1.2:x:256 CV=yes C="250 2.0.0 queued as 4AB"',
        "1avJcc-0003Py-15 Completed",
    )
    inbound = frames.events.filter(frames.events["direction"] == "inbound")
    assert inbound["verb"].to_list()[:5] == [None, "HELO", "AUTH", None, "MAIL"]
    assert inbound["code"].to_list()[3] == 235
    sessions = {r["direction"]: r for r in frames.sessions.iter_rows(named=True)}
    assert sessions["inbound"]["auth_user"] == "ann"
    assert sessions["outbound"]["remote_ip"] == "203.0.113.20"
    assert sessions["outbound"]["outcome"] == "delivered"
    out = frames.recipients.filter(frames.recipients["direction"] == "outbound")
    # The confirmation answers the data; the RCPT was accepted.
    assert out["code"].to_list() == [250] and out["accepted"].to_list() == [True]
    data = frames.events.filter(
        (frames.events["direction"] == "outbound") & (frames.events["line"] == 2)
    )
    assert data["text"].to_list()[-1] == "queued as 4AB" and data["status"].to_list()[-1] == "2.0.0"
    inside = frames.recipients.filter(frames.recipients["direction"] == "inbound")
    assert inside["text"].to_list() == [
        "queued; delivered by transport=remote_smtp relay=mx.far.example[203.0.113.20]"
    ]


def test_local_submission_is_no_inbound_session_and_its_remote_refusal_is_read(tmp_path):
    # The new message id (Exim 4.97: 6-11-4) and an old one (6-6-2).
    frames = _log(
        tmp_path,
        "10HmaX-000000005vi-0000 <= root@mx1.contoso.example U=root P=local S=312",
        "10HmaX-000000005vi-0000 ** w@remote.example R=dnslookup T=remote_smtp "
        "H=mx.remote.example [77.88.21.249]: SMTP error from remote mail server after "
        "RCPT TO:<w@remote.example>: 550 5.7.1 <w@remote.example>: Relay access denied",
        "1Gmary-0002iA-00 == v@late.example R=dnslookup T=remote_smtp defer (-44): "
        "SMTP error from remote mailer after RCPT TO:<v@late.example>: host mx.late.example "
        "[198.51.100.3]: 451 4.7.1 greylisted, try later",
    )
    assert frames.sessions["direction"].to_list() == ["outbound", "outbound"]
    refused = frames.recipients.sort("line").rows(named=True)
    assert [(r["remote_ip"], r["code"], r["status"], r["accepted"]) for r in refused] == [
        ("77.88.21.249", 550, "5.7.1", False),
        ("198.51.100.3", 451, "4.7.1", False),
    ]
    assert refused[0]["mail_from"] == "root@mx1.contoso.example"
    assert refused[0]["refusal"] == "relay_denied"
    assert frames.inputs["unparsed"].to_list() == [0]


def test_a_connection_ends_a_session_and_process_ids_keep_clients_apart(tmp_path):
    frames = _log(
        tmp_path,
        "100|SMTP connection from [203.0.113.5]:4001 (TCP/IP connection count = 1)",
        "100|H=(a) [203.0.113.5]:4001 F=<x@spam.example> rejected RCPT <y@far.example>: "
        "relay not permitted",
        "100|SMTP connection from (a) [203.0.113.5]:4001 closed by QUIT",
        "101|SMTP connection from [203.0.113.5]:4002 (TCP/IP connection count = 1)",
        "101|no MAIL in SMTP connection from (a) [203.0.113.5]:4002 D=2s C=EHLO,QUIT",
        "102|H=(b) [203.0.113.5]:4003 F=<x@spam.example> rejected RCPT <z@far.example>: "
        "relay not permitted",
        pid=True,
    )
    sessions = frames.sessions.sort("start")
    assert sessions["session"].to_list() == [
        "exim:mainlog:100:203.0.113.5#1",
        "exim:mainlog:101:203.0.113.5#1",
        "exim:mainlog:102:203.0.113.5#1",
    ]
    assert sessions["remote_ip"].to_list() == ["203.0.113.5"] * 3
    assert sessions["rcpt_refused"].to_list() == [1, 0, 1]
    assert sessions["helo"].to_list() == ["a", "a", "b"]


def test_known_lines_are_read_and_others_are_unparsed_naming_exim(tmp_path):
    frames = _log(
        tmp_path,
        "exim 4.96 daemon started: pid=1999, -q30m, listening for SMTP on port 25 (IPv4)",
        "Start queue run: pid=2001",
        "1rAbCd-000Abc-AB Completed",
        "this is nothing Exim says",
        "End queue run: pid=2001",
    )
    (unparsed,) = frames.unparsed.iter_rows(named=True)
    assert unparsed["line"] == 4 and "Exim" in unparsed["reason"]
    assert frames.service_events["message"].to_list() == [
        "exim 4.96 daemon started: pid=1999, -q30m, listening for SMTP on port 25 (IPv4)"
    ]
    assert frames.inputs["records"].to_list() == [4]


def test_the_reject_log_copies_are_read_once(tmp_path):
    line = (
        "2024-03-11 09:00:00 H=(probe) [203.0.113.66] F=<win@lottery.example> "
        "rejected RCPT <victim@far.example>: relay not permitted\n"
    )
    (tmp_path / "mainlog").write_text(line)
    (tmp_path / "rejectlog").write_text(
        line + "Envelope-from: <win@lottery.example>\nEnvelope-to: <victim@far.example>\n"
    )
    frames = ingest([tmp_path])
    assert frames.recipients.height == 1
    assert frames.inputs["unparsed"].to_list() == [0, 0]


FAIL2BAN = CORPUS / "exim" / "fail2ban"
TESTSUITE = CORPUS / "exim" / "testsuite"


def test_the_fail2ban_lines_are_read_with_the_client_of_each():
    frames = ingest([corpus(FAIL2BAN) / "exim"])
    # 51 Exim lines under fail2ban's comments; a syslog-ng 'host exim[pid]:' after a
    # stamp and a journal line among them.
    assert frames.inputs["records"].to_list() == [51]
    assert frames.unparsed.height == 0
    assert frames.sessions["remote_ip"].null_count() == 0
    # The quoted command's injected H=(test) [8.8.8.8] is not the client.
    assert "192.0.2.6" in frames.sessions["remote_ip"].to_list()
    assert "8.8.8.8" not in frames.sessions["remote_ip"].to_list()
    failed_logins = frames.events.filter(frames.events["code"] == 535)
    assert failed_logins.height == 12
    relay = frames.recipients.filter(frames.recipients["refusal"] == "relay_denied")
    assert relay.height == 2
    (first,) = relay.filter(relay["line"] == 51).iter_rows(named=True)
    assert first == first | {
        "source": "exim",
        "line": 51,
        "direction": "inbound",
        "remote_ip": "202.132.70.178",
        "mail_from": "menacedsj04@listserv.eurasia.org",
        "rcpt": "dir@ml3.ru",
        "rcpt_domain": "ml3.ru",
        "code": 550,
        "status": None,
        "text": "relay not permitted",
        "accepted": False,
        "refusal": "relay_denied",
    }


def test_the_fail2ban_spam_lines_are_data_refusals():
    frames = ingest([corpus(FAIL2BAN) / "exim-spam"])
    assert frames.inputs["records"].to_list() == [8]
    assert frames.unparsed.height == 0
    # Two local_scan refusals and one after DATA: the data refused with 550.
    data = frames.events.filter(frames.events["verb"] == "DATA")
    assert data.height == 3


def test_exims_own_test_suite_logs_are_read():
    files = ["0024", "0227", "0234", "4204", "4206", "4214", "4216", "4224", "4226"]
    frames = ingest([corpus(TESTSUITE) / f for f in files])
    # The test suite's own separator between the client's and the server's log (in
    # the six 42xx files) is no line of Exim's.
    assert frames.unparsed["text"].to_list() == ["******** SERVER ********"] * 6
    relay = frames.recipients.filter(frames.recipients["refusal"] == "relay_denied")
    # 'relay not permitted' in 0024 (1), 0227 (4), 0234 (1) and the six 42xx (1 each).
    assert relay.height == 12
    local = frames.recipients.filter(
        frames.recipients["text"].str.starts_with("queued; delivered by local ").fill_null(False)
    )
    # A transport given no host (local_delivery) delivered these; dev_null with
    # H=ten-1.test.ex is the test suite's stand-in for a remote host, no proof.
    assert set(local["rcpt"].to_list()) == {"postmaster@test.ex", "userx@test.ex"}
    faked = frames.recipients.filter(
        (frames.recipients["rcpt"] == "x@ten-1.test.ex") & frames.recipients["accepted"]
    )
    assert set(faked["text"].to_list()) == {
        "queued; delivered by transport=dev_null host=ten-1.test.ex"
    }


def test_the_ossec_exim_lines_are_outbound_refusals():
    frames = ingest([corpus(CORPUS / "syslog" / "ossec-unix-mta") / "exim.log"])
    refused = frames.recipients.sort("line")
    assert refused["direction"].to_list() == ["outbound"] * 3
    assert refused["code"].to_list() == [550, 450, 501]
    assert refused["remote_ip"].to_list() == ["1.1.1.1", "66.93.22.101", "1.1.3.1"]
    assert refused["refusal"].to_list()[2] == "relay_denied"


@pytest.mark.parametrize(
    "path",
    [
        FAIL2BAN / "exim",
        FAIL2BAN / "exim-spam",
        TESTSUITE / "0227",
        CORPUS / "syslog" / "ossec-unix-mta" / "exim.log",
        SAMPLES / "exim-relay-denied-local",
    ],
    ids=lambda p: p.name,
)
def test_both_engines_read_exim_alike(path):
    fast = ingest([corpus(path)], engine="fast")
    exact = ingest([path], engine="exact")
    for name, frame in fast.as_dict().items():
        assert_frame_equal(frame, getattr(exact, name), check_exact=True)


def test_the_samples_give_their_findings_with_exims_steps():
    local = evaluate(ingest([SAMPLES / "exim-relay-denied-local"]))
    found = {(f.rule, f.subject) for f in local}
    assert ("relay-prohibited-local-recipient", "contoso.example") in found
    assert ("relay-probing", "203.0.113.66") in found
    assert not any(f.rule == "open-relay" for f in local)
    opened = evaluate(ingest([SAMPLES / "exim-relay-after-change"]))
    relayed = {f.subject for f in opened if f.rule == "open-relay"}
    assert len(relayed) == 12 and "192.168.42.0/24" not in relayed
    for finding in [*local, *opened]:
        assert finding.resolution_for == "Exim"
        assert finding.resolution == load("servers")["steps"][finding.rule]["exim"]


def test_the_lines_that_end_or_trouble_a_connection_name_its_client(tmp_path):
    frames = _log(
        tmp_path,
        "rejected EHLO from [192.0.2.1]: syntactically invalid argument(s): _",
        "unexpected disconnection while reading SMTP command from (x) [192.0.2.2]:4000 "
        "(error: Connection reset by peer) D=0s",
        "TLS error on connection from (x) [192.0.2.3]:4001 I=[192.0.2.9]:25 (SSL_accept): "
        "error:0A000416:SSL routines::sslv3 alert certificate unknown",
        "Connection from [192.0.2.4] refused: too many connections",
        "SMTP command timeout on connection from [192.0.2.5]",
        "SMTP connection from [192.0.2.6]:5000 I=[192.0.2.9]:25 (TCP/IP connection count = 3)",
        "1rAbCd-000Abc-AB ** x@nowhere.example: Unrouteable address",
    )
    assert frames.inputs["unparsed"].to_list() == [0]
    assert frames.sessions.sort("start")["remote_ip"].to_list() == [
        f"192.0.2.{n}" for n in range(1, 7)
    ]
    # A routing failure is no SMTP talk with any host; its address keeps no colon.
    assert frames.recipients.height == 0


def test_exim_through_syslog_is_read_with_or_without_its_own_stamp(tmp_path):
    (tmp_path / "mail.log").write_text(
        "Mar 11 09:00:00 mx1 exim[4100]: 2024-03-11 09:00:00 H=(probe) [203.0.113.9] "
        "F=<spam@bad.example> rejected RCPT <victim@elsewhere.example>: relay not permitted\n"
        "Mar 11 09:00:05 mx1 exim[4107]: 1rjVYf-0010kB-2x <= ann@partner.example "
        "H=mail.partner.example [198.51.100.20] P=esmtp S=2297\n"
        "Mar 11 09:00:06 mx1 exim[4108]: 1rjVYf-0010kB-2x => bob <bob@contoso.example> "
        "R=local_user T=local_delivery\n"
        "Mar 11 09:00:07 mx1 postfix/smtpd[200]: connect from unknown[192.0.2.1]\n"
    )
    frames = ingest([tmp_path / "mail.log"], year=2024)
    assert frames.inputs["unparsed"].to_list() == [0]
    exim = frames.sessions.filter(frames.sessions["session"].str.starts_with("exim:"))
    # The syslog's process id keeps the sessions apart; Postfix's stays Postfix's.
    assert exim["session"].to_list() == [
        "exim:mail.log:4100:203.0.113.9#1",
        "exim:mail.log:4107:198.51.100.20#1",
    ]
    assert frames.recipients.sort("line")["code"].to_list() == [550, 250]
    assert frames.domains["domain"].to_list() == ["contoso.example"]


def test_the_panic_log_gives_error_events(tmp_path):
    (tmp_path / "paniclog").write_text(
        "2024-03-11 09:00:00 failed to open DB file /var/spool/exim4/db/retry: "
        "Permission denied\n"
        "2024-03-11 09:00:01 exim 4.96 daemon started: pid=2000, -q30m, listening for SMTP "
        "on port 25 (IPv4)\n"
    )
    frames = ingest([tmp_path / "paniclog"])
    assert frames.inputs["unparsed"].to_list() == [0]
    events = frames.service_events
    assert events["type"].to_list() == ["Error", "Error"]
    assert events["message"].to_list()[0].startswith("failed to open DB file")


def test_without_process_ids_a_client_s_sessions_end_at_quit_or_after_silence(tmp_path):
    refusal = (
        "H=(a) [203.0.113.5] F=<x@spam.example> rejected RCPT <y@far.example>: relay not permitted"
    )
    (tmp_path / "mainlog").write_text(
        f"2024-03-11 09:00:00 {refusal}\n"
        "2024-03-11 09:00:01 SMTP connection from (a) [203.0.113.5] closed by QUIT\n"
        f"2024-03-11 09:00:02 {refusal}\n"
        f"2024-03-11 09:04:59 {refusal}\n"
        f"2024-03-11 09:10:00 {refusal}\n"
    )
    frames = ingest([tmp_path / "mainlog"])
    sessions = frames.sessions.sort("start")
    # QUIT ends the first; 4:57 of silence does not end the second; 5:01 does.
    assert sessions["session"].to_list() == [
        "exim:mainlog::203.0.113.5#1",
        "exim:mainlog::203.0.113.5#2",
        "exim:mainlog::203.0.113.5#3",
    ]
    assert sessions["rcpt_refused"].to_list() == [1, 2, 1]


def test_the_exim_samples_give_the_findings_of_their_sendmail_twins():
    # The same stories (the same clients, times and recipients) told by Sendmail.
    for exim, sendmail in {
        "exim-relay-denied-local": "sendmail-relay-denied-local",
        "exim-relay-after-change": "sendmail-relay-after-change",
    }.items():
        found = {(f.rule, f.subject) for f in evaluate(ingest([SAMPLES / exim]))}
        twin = {(f.rule, f.subject) for f in evaluate(ingest([SAMPLES / sendmail]))}
        assert found == twin, exim


def test_before_4_97_the_daemons_connection_line_joins_the_session_it_opened(tmp_path):
    frames = _log(
        tmp_path,
        "50|SMTP connection from [203.0.113.5]:4001 (TCP/IP connection count = 1)",
        "50|SMTP connection from [198.51.100.7]:4100 (TCP/IP connection count = 2)",
        "101|H=(a) [203.0.113.5]:4001 F=<x@spam.example> rejected RCPT <y@far.example>: "
        "relay not permitted",
        "101|SMTP connection from (a) [203.0.113.5]:4001 closed by QUIT",
        pid=True,
    )
    # The daemon (pid 50) logged both connections; process 101 served the first.
    rows = frames.sessions.sort("start").select("session", "remote_ip", "rcpt_refused").rows()
    assert rows == [
        ("exim:mainlog:101:203.0.113.5#1", "203.0.113.5", 1),
        ("exim:mainlog:50:198.51.100.7#1", "198.51.100.7", 0),
    ]
    first = frames.events.filter(frames.events["session"] == rows[0][0])
    assert first["line"].to_list()[0] == 1


def test_newer_wordings_are_read(tmp_path):
    frames = _log(
        tmp_path,
        # 4.9x names the client of a failed login as everywhere else, with H=
        "spa authenticator failed for H=(xxxx) [192.0.2.30]:4000: 535 Incorrect "
        "authentication data",
        # what one host said before the delivery's own line, and an admin's removal
        "1rAbCd-000Abc-AB H=mx.far.example [203.0.113.20] Connection refused",
        "1rAbCd-000Abc-AB removed by root",
    )
    assert frames.inputs["unparsed"].to_list() == [0]
    (session,) = frames.sessions.iter_rows(named=True)
    assert (session["remote_ip"], session["helo"]) == ("192.0.2.30", "xxxx")
    assert frames.events.filter(frames.events["verb"] == "AUTH").height == 1


def test_local_sessions_vrfy_and_autoreplies_are_read_without_a_client(tmp_path):
    frames = _log(
        tmp_path,
        "SMTP connection from root",
        "VRFY failed for <nobody@contoso.example> H=(test) [192.0.2.40] U=CALLER",
        "SMTP connection from root D=0.1s closed by QUIT",
        "1rAbCd-000Abc-AB <= ann@partner.example H=mx.partner.example [198.51.100.20] "
        "P=esmtp S=100",
        "1rAbCd-000Abc-AB => bob <bob@contoso.example> R=local_user T=local_delivery",
        "1rAbCd-000Abc-AB => >ann@partner.example <bob@contoso.example> R=filter T=autoreply",
    )
    assert frames.inputs["unparsed"].to_list() == [0]
    assert frames.sessions.sort("start")["remote_ip"].to_list() == [
        "192.0.2.40",
        "198.51.100.20",
    ]
    # The autoreply is no second recipient of the partner's message.
    assert frames.recipients["rcpt"].to_list() == ["bob@contoso.example"]


def test_an_arrival_with_every_field_keeps_its_login(tmp_path):
    frames = _log(
        tmp_path,
        "1rAbCd-000Abc-AB <= ann@contoso.example H=ws1.contoso.example (ws1) "
        "[192.168.10.5]:50001 I=[192.168.10.1]:587 Ci=30416 P=esmtpsa L. "
        'X=TLS1.3:TLS_AES_256_GCM_SHA384:256* CV=yes DN="/CN=ws1, O=Contoso" '
        "SNI=mail.contoso.example A=dovecot_plain:ann@contoso.example K S=1200 M8S=8 "
        'RT=0.004s id=1@ws1 T="a \\"quoted\\" subject for you" from <ann@contoso.example> '
        "for jon@far.example kim@far.example",
    )
    (session,) = frames.sessions.iter_rows(named=True)
    assert (session["auth_user"], session["remote_host"], session["helo"]) == (
        "ann@contoso.example",
        "ws1.contoso.example",
        "ws1",
    )
    # The recipients after "for", not the "for" of the subject.
    assert frames.recipients["rcpt"].to_list() == ["jon@far.example", "kim@far.example"]
    assert frames.recipients["text"].to_list() == ["queued as 1rAbCd-000Abc-AB"] * 2


def test_an_entry_syslog_split_is_read_as_one_line(tmp_path):
    (tmp_path / "mail.log").write_text(
        "Mar 11 09:00:00 mx1 exim[4100]: [1/3] 2024-03-11 09:00:00 H=(probe) "
        "[203.0.113.9] F=<spam@bad.exa\n"
        "Mar 11 09:00:00 mx1 exim[4100]: [2/3] mple> rejected RCPT <victim@elsewhere.e\n"
        "Mar 11 09:00:00 mx1 exim[4100]: [3/3] xample>: relay not permitted\n"
        "Mar 11 09:00:01 mx1 exim[4100]: [1\\3] 2024-03-11 09:00:01 H=(probe) "
        "[203.0.113.9] F=<a@bad.example> rejected RCPT <b@far.example>: relay not permitted\n"
        "Mar 11 09:00:01 mx1 exim[4100]: [2\\3] Envelope-from: <a@bad.example>\n"
        "Mar 11 09:00:01 mx1 exim[4100]: [3/3] Envelope-to: <b@far.example>\n"
    )
    frames = ingest([tmp_path / "mail.log"], year=2024)
    assert frames.inputs["unparsed"].to_list() == [0]
    rows = frames.recipients.select("line", "mail_from", "rcpt", "code").rows()
    assert rows == [
        (1, "spam@bad.example", "victim@elsewhere.example", 550),
        (4, "a@bad.example", "b@far.example", 550),
    ]


def test_ipv6_clients_and_a_refusal_at_the_end_of_data(tmp_path):
    frames = _log(
        tmp_path,
        "H=mail.far.example [2001:db8::25]:41000 F=<a@far.example> rejected RCPT "
        "<b@elsewhere.example>: relay not permitted",
        "1rAbCd-000Abc-AB <= ann@contoso.example U=ann P=local S=100",
        "1rAbCd-000Abc-AB ** jon@far.example R=dnslookup T=remote_smtp "
        "H=mx.far.example [2001:db8::10]: SMTP error from remote mail server after end of "
        "data: 550 5.7.1 Message rejected as spam",
    )
    inbound = frames.sessions.filter(frames.sessions["direction"] == "inbound")
    assert inbound["remote_ip"].to_list() == ["2001:db8::25"]
    out = frames.events.filter(frames.events["direction"] == "outbound")
    replies = out.filter(out["kind"] == "reply")
    # The RCPT was taken; the remote refused the data.
    assert replies["code"].to_list() == [250, 250, 550]
    assert out.filter(out["kind"] == "command")["verb"].to_list() == ["MAIL", "RCPT", "DATA"]
