"""The Sendmail reader: Sendmail's syslog lines rebuilt into SMTP events, sessions
and recipients, with both engines, on hand-written lines, the real corpus lines and
the sample scenarios."""

from __future__ import annotations

import pytest
from polars.testing import assert_frame_equal

from forensics.ingest import ingest
from forensics.knowledge import load
from forensics.rules import evaluate
from tests.conftest import CORPUS, SAMPLES, corpus

HEAD = "Mar  3 09:00:0{s} mx1 sm-mta[{pid}]: "


def _log(tmp_path, *messages: tuple[int, str]):
    """A maillog of the messages, each (pid, message), one second apart."""
    text = "".join(HEAD.format(s=i % 10, pid=pid) + m + "\n" for i, (pid, m) in enumerate(messages))
    (tmp_path / "maillog").write_text(text)
    return ingest([tmp_path / "maillog"], year=2020)


def test_a_local_delivery_is_an_accepted_rcpt_that_proves_the_domain_local(tmp_path):
    frames = _log(
        tmp_path,
        (
            100,
            "K4F070wJ000100: from=<ann@partner.example>, size=2297, class=0, nrcpts=1, "
            "msgid=<a@partner.example>, proto=ESMTP, daemon=MTA, "
            "relay=mx.partner.example [198.51.100.20]",
        ),
        (
            105,
            "K4F070wJ000100: to=<bob@contoso.example>, delay=00:00:01, xdelay=00:00:00, "
            "mailer=local, pri=32297, dsn=2.0.0, stat=Sent",
        ),
    )
    (session,) = frames.sessions.iter_rows(named=True)
    assert session["session"].startswith("sendmail:")
    assert (session["remote_ip"], session["remote_host"]) == ("198.51.100.20", "mx.partner.example")
    assert (session["mail_from"], session["data_accepted"]) == ("ann@partner.example", True)
    (rcpt,) = frames.recipients.iter_rows(named=True)
    assert rcpt["rcpt"] == "bob@contoso.example" and rcpt["accepted"] and rcpt["line"] == 2
    assert rcpt["text"] == "queued; delivered by local mailer=local"
    assert frames.domains["domain"].to_list() == ["contoso.example"]
    assert frames.inputs["unparsed"].to_list() == [0]


def test_check_rcpt_relaying_denied_is_a_refused_rcpt_from_the_relay_client(tmp_path):
    frames = _log(
        tmp_path,
        (
            200,
            "s1P819mk000200: ruleset=check_rcpt, arg1=<x@far.example>, relay=[203.0.113.9], "
            "reject=550 5.7.1 <x@far.example>... Relaying denied",
        ),
        (
            200,
            "s1P819mk000200: from=<spam@bad.example>, size=0, class=0, nrcpts=0, proto=ESMTP, "
            "daemon=MTA, relay=[203.0.113.9]",
        ),
    )
    (rcpt,) = frames.recipients.iter_rows(named=True)
    assert (rcpt["remote_ip"], rcpt["mail_from"], rcpt["rcpt"]) == (
        "203.0.113.9",
        "spam@bad.example",
        "x@far.example",
    )
    assert (rcpt["code"], rcpt["status"], rcpt["refusal"]) == (550, "5.7.1", "relay_denied")
    assert frames.sessions["outcome"].to_list() == ["refused"]


def test_an_authenticated_submission_logs_auth_then_235_before_mail(tmp_path):
    frames = _log(
        tmp_path,
        (
            300,
            "AUTH=server, relay=ws1.contoso.example [192.168.10.5], authid=ann, mech=PLAIN, bits=0",
        ),
        (
            300,
            "K4F070wJ000300: from=<ann@contoso.example>, size=100, class=0, nrcpts=1, "
            "proto=ESMTP, daemon=MSA, relay=ws1.contoso.example [192.168.10.5]",
        ),
        (
            301,
            "K4F070wJ000300: to=<jon@far.example>, delay=00:00:01, xdelay=00:00:01, "
            "mailer=esmtp, pri=1, relay=mx.far.example. [203.0.113.20], dsn=2.0.0, stat=Sent (ok)",
        ),
    )
    inbound = frames.events.filter(frames.events["direction"] == "inbound")
    assert inbound["verb"].to_list()[:4] == [None, "AUTH", None, "MAIL"]
    assert inbound["code"].to_list()[2] == 235
    sessions = {r["direction"]: r for r in frames.sessions.iter_rows(named=True)}
    assert sessions["inbound"]["auth_user"] == "ann"
    assert sessions["outbound"]["remote_ip"] == "203.0.113.20"
    assert sessions["outbound"]["outcome"] == "delivered"


def test_an_outbound_refusal_reads_its_dsn_class_as_the_reply(tmp_path):
    frames = _log(
        tmp_path,
        (
            400,
            "29VC3c9f000400: from=<a@contoso.example>, size=1, class=0, nrcpts=1, "
            "relay=root@localhost",
        ),
        (
            401,
            "29VC3c9f000400: to=<w@remote.example>, delay=00:00:04, xdelay=00:00:04, "
            "mailer=esmtp, pri=1, relay=mx.remote.example. [77.88.21.249], dsn=5.7.1, "
            "stat=User unknown",
        ),
        (401, "29VC3c9f000400: 29VC3l9f000401: DSN: User unknown"),
    )
    (rcpt,) = frames.recipients.iter_rows(named=True)
    assert (rcpt["direction"], rcpt["code"], rcpt["status"], rcpt["accepted"]) == (
        "outbound",
        550,
        "5.7.1",
        False,
    )
    # Mail given to sendmail on the command line makes no inbound session.
    assert frames.sessions["direction"].to_list() == ["outbound"]
    assert frames.inputs["unparsed"].to_list() == [0]


def test_known_lines_are_read_and_others_are_unparsed_naming_sendmail(tmp_path):
    frames = _log(
        tmp_path,
        (1, "starting daemon (8.15.2): SMTP+queueing@00:30:00"),
        (
            2,
            "STARTTLS=server, relay=[192.0.2.1], version=TLSv1.2, verify=NO, cipher=x, "
            "bits=256/256",
        ),
        (3, "alias database /etc/mail/aliases rebuilt by root"),
        (4, "this is nothing Sendmail says"),
    )
    (unparsed,) = frames.unparsed.iter_rows(named=True)
    assert unparsed["line"] == 4 and "Sendmail" in unparsed["reason"]
    assert frames.service_events["message"].to_list() == [
        "starting daemon (8.15.2): SMTP+queueing@00:30:00"
    ]


FAIL2BAN = CORPUS / "sendmail" / "fail2ban"


def test_the_fail2ban_reject_lines_are_read_with_the_client_of_each():
    frames = ingest([corpus(FAIL2BAN) / "sendmail-reject"], year=2005)
    # 45 Sendmail lines, four of them with syslogd's '<mail.notice>' before the host.
    assert frames.inputs["records"].to_list() == [45]
    assert frames.unparsed.height == 0
    tagged = frames.events.filter(frames.events["line"] == 127)
    assert tagged.height > 0 and tagged["session"].str.starts_with("sendmail:").all()
    assert frames.sessions["remote_ip"].null_count() == 0
    relay = frames.recipients.filter(frames.recipients["refusal"] == "relay_denied")
    assert relay.height == 4
    (first,) = relay.filter(relay["line"] == 4).iter_rows(named=True)
    assert first == first | {
        "source": "sendmail-reject",
        "line": 4,
        "direction": "inbound",
        "remote_ip": "128.68.136.133",
        "rcpt": "asservnew@freemailhost.ru",
        "rcpt_domain": "freemailhost.ru",
        "code": 550,
        "status": "5.7.1",
        "text": "<asservnew@freemailhost.ru>... Relaying denied. Proper authentication required.",
        "accepted": False,
        "refusal": "relay_denied",
    }


def test_the_fail2ban_auth_lines_are_sessions_with_a_client_each():
    frames = ingest([corpus(FAIL2BAN) / "sendmail-auth"], year=2005)
    assert frames.inputs["records"].to_list() == [13]
    assert frames.unparsed.height == 0
    # The injected 'user=criminal, relay=[192.0.2.100]': the client is the last relay=.
    assert "192.0.2.4" in frames.sessions["remote_ip"].to_list()
    assert "192.0.2.100" not in frames.sessions["remote_ip"].to_list()
    assert frames.sessions["remote_ip"].null_count() == 0


def test_the_ossec_sendmail_lines_are_read():
    frames = ingest([corpus(CORPUS / "syslog" / "ossec-unix-mta") / "sendmail.log"], year=2005)
    assert frames.unparsed.height == 0
    # Two check_mail refusals (their lines have no syslog header) and two check_relay.
    assert frames.events.filter(frames.events["code"] == 553).height == 4


@pytest.mark.parametrize(
    "path",
    [
        FAIL2BAN / "sendmail-reject",
        FAIL2BAN / "sendmail-auth",
        SAMPLES / "sendmail-relay-denied-local",
    ],
    ids=lambda p: p.name,
)
def test_both_engines_read_sendmail_alike(path):
    fast = ingest([corpus(path)], engine="fast", year=2005)
    exact = ingest([path], engine="exact", year=2005)
    for name, frame in fast.as_dict().items():
        assert_frame_equal(frame, getattr(exact, name), check_exact=True)


def test_the_samples_give_their_findings_with_sendmails_steps():
    local = evaluate(ingest([SAMPLES / "sendmail-relay-denied-local"]))
    found = {(f.rule, f.subject) for f in local}
    assert ("relay-prohibited-local-recipient", "contoso.example") in found
    assert ("relay-probing", "203.0.113.66") in found
    assert not any(f.rule == "open-relay" for f in local)
    opened = evaluate(ingest([SAMPLES / "sendmail-relay-after-change"]))
    relayed = {f.subject for f in opened if f.rule == "open-relay"}
    assert len(relayed) == 12 and "192.168.42.0/24" not in relayed
    for finding in [*local, *opened]:
        assert finding.resolution_for == "Sendmail"
        assert finding.resolution == load("servers")["steps"][finding.rule]["sendmail"]
