"""Truth on real servers' logs: no relay finding without its proof, local domains
proved by evidence (file:line), and every assumption stated.

The corpus logs are real (../shared/corpus, test use only); the small logs written
here tell the shapes of real incidents the corpus lacks, in our own words."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from forensics.ingest import ingest
from forensics.rules import evaluate
from tests.conftest import CORPUS, corpus

LIGHTMETER = CORPUS / "postfix/lightmeter"
SEVERE = ("critical", "high", "medium")


def _write(folder: Path, lines: list[str], name: str = "mail.log") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("\n".join(lines) + "\n")
    return folder


def test_amavis_reinjection_from_localhost_is_not_relaying():
    # The rotated directory's server hands every message to amavis and takes it back
    # from 127.0.0.1: that was an "open relay (medium)" before.
    frames = ingest([corpus(LIGHTMETER / "rotated-directory")])
    assert [f.rule for f in evaluate(frames)] == []


def test_lightmeter_scenarios_raise_no_severe_relay_finding_and_prove_their_domains():
    frames = ingest([corpus(LIGHTMETER / "scenarios")])
    severe = [(f.rule, f.subject) for f in evaluate(frames) if f.severity in SEVERE]
    assert severe == []
    # A local delivery proves the recipient's domain local, at the line that shows it.
    row = frames.domains.filter(pl.col("domain") == "recipient.example.com").row(0, named=True)
    assert row["origin"] == "delivery"
    cited = (LIGHTMETER / "scenarios" / row["source"]).read_text().splitlines()[row["line"] - 1]
    assert "recipient.example.com" in cited


def test_each_lightmeter_server_alone_raises_nothing():
    for log in sorted(corpus(LIGHTMETER / "scenarios").glob("*.log")):
        assert evaluate(ingest([log])) == [], log.name


def test_given_local_domains_replace_every_inference():
    frames = ingest([corpus(LIGHTMETER / "rotated-directory")], local_domains=["example.org"])
    assert frames.domains.select("domain", "origin").rows() == [("example.org", "option")]


def test_a_sasl_mx_does_not_take_its_users_destinations_for_local_domains(tmp_path):
    # One domain, users who send out through authenticated submission, a stranger
    # refused as relaying to gmail.com: nothing of ours is refused, nothing is open.
    lines = [
        "Mar  3 09:00:00 mx postfix/smtpd[100]: connect from home[198.51.100.20]",
        "Mar  3 09:00:01 mx postfix/smtpd[100]: AB12CD34EF: client=home[198.51.100.20], "
        "sasl_method=PLAIN, sasl_username=ann@ourdomain.example",
        "Mar  3 09:00:01 mx postfix/qmgr[90]: AB12CD34EF: from=<ann@ourdomain.example>, "
        "size=900, nrcpt=1 (queue active)",
        "Mar  3 09:00:02 mx postfix/smtp[101]: AB12CD34EF: to=<friend@gmail.com>, "
        "relay=gmail-smtp-in.l.google.com[192.0.2.27]:25, delay=1, delays=0.1/0/0.4/0.5, "
        "dsn=2.0.0, status=sent (250 2.0.0 OK)",
        "Mar  3 09:00:02 mx postfix/smtpd[100]: disconnect from home[198.51.100.20]",
        "Mar  3 09:05:00 mx postfix/smtpd[102]: connect from outside[203.0.113.50]",
        "Mar  3 09:05:01 mx postfix/smtpd[102]: EF56AB78CD: client=outside[203.0.113.50]",
        "Mar  3 09:05:01 mx postfix/qmgr[90]: EF56AB78CD: from=<x@elsewhere.example>, "
        "size=800, nrcpt=1 (queue active)",
        "Mar  3 09:05:02 mx postfix/local[103]: EF56AB78CD: to=<ann@ourdomain.example>, "
        "relay=local, delay=0.2, delays=0.1/0/0/0.1, dsn=2.0.0, status=sent (delivered to "
        "mailbox)",
        "Mar  3 09:05:02 mx postfix/smtpd[102]: disconnect from outside[203.0.113.50]",
        "Mar  3 09:10:00 mx postfix/smtpd[104]: connect from probe[203.0.113.66]",
        "Mar  3 09:10:01 mx postfix/smtpd[104]: NOQUEUE: reject: RCPT from probe[203.0.113.66]: "
        "554 5.7.1 <someone@gmail.com>: Relay access denied; from=<a@b.example> "
        "to=<someone@gmail.com> proto=ESMTP helo=<probe>",
        "Mar  3 09:10:01 mx postfix/smtpd[104]: disconnect from probe[203.0.113.66]",
    ]
    frames = ingest([_write(tmp_path / "mx", lines)], year=2026)
    domains = dict(frames.domains.select("domain", "origin").iter_rows())
    assert domains == {"ourdomain.example": "delivery"}
    assert [f.rule for f in evaluate(frames) if f.severity in SEVERE] == []


def test_an_alias_forwarded_outside_is_not_a_relay_request(tmp_path):
    lines = [
        "Mar  3 10:00:00 mx postfix/smtpd[200]: connect from sender[203.0.113.7]",
        "Mar  3 10:00:01 mx postfix/smtpd[200]: 1A2B3C4D5E: client=sender[203.0.113.7]",
        "Mar  3 10:00:01 mx postfix/qmgr[90]: 1A2B3C4D5E: from=<bob@far.example>, size=700, "
        "nrcpt=1 (queue active)",
        "Mar  3 10:00:03 mx postfix/smtp[201]: 1A2B3C4D5E: to=<ann.private@gmail.com>, "
        "orig_to=<ann@ourdomain.example>, relay=gmail-smtp-in.l.google.com[192.0.2.27]:25, "
        "delay=2, delays=0.1/0/1/0.9, dsn=2.0.0, status=sent (250 2.0.0 OK)",
        "Mar  3 10:00:03 mx postfix/smtpd[200]: disconnect from sender[203.0.113.7]",
    ]
    frames = ingest(
        [_write(tmp_path / "mx", lines)], year=2026, local_domains=["ourdomain.example"]
    )
    rcpts = frames.recipients.filter(pl.col("direction") == "inbound")["rcpt"].to_list()
    assert rcpts == ["ann@ourdomain.example"]  # what the client asked for
    assert [f.rule for f in evaluate(frames)] == []


def test_mail_back_from_a_content_filter_on_another_address_is_not_relaying(tmp_path):
    lines = [
        "Mar  3 11:00:00 mx postfix/smtpd[300]: connect from web[198.51.100.9]",
        "Mar  3 11:00:01 mx postfix/smtpd[300]: 0A0B0C0D0E: client=web[198.51.100.9], "
        "sasl_method=LOGIN, sasl_username=shop",
        "Mar  3 11:00:01 mx postfix/qmgr[90]: 0A0B0C0D0E: from=<shop@ourdomain.example>, "
        "size=700, nrcpt=1 (queue active)",
        "Mar  3 11:00:02 mx postfix/smtp[301]: 0A0B0C0D0E: to=<buyer@far.example>, "
        "relay=192.0.2.99[192.0.2.99]:10024, delay=1, delays=0.1/0/0.4/0.5, dsn=2.0.0, "
        "status=sent (250 2.0.0 Ok: queued as 1F1F1F1F1F)",
        "Mar  3 11:00:02 mx postfix/smtpd[302]: connect from filter[192.0.2.99]",
        "Mar  3 11:00:02 mx postfix/smtpd[302]: 1F1F1F1F1F: client=filter[192.0.2.99]",
        "Mar  3 11:00:02 mx postfix/qmgr[90]: 1F1F1F1F1F: from=<shop@ourdomain.example>, "
        "size=900, nrcpt=1 (queue active)",
        "Mar  3 11:00:03 mx postfix/smtp[303]: 1F1F1F1F1F: to=<buyer@far.example>, "
        "relay=mx.far.example[192.0.2.50]:25, delay=1, delays=0.1/0/0.4/0.5, dsn=2.0.0, "
        "status=sent (250 2.0.0 OK)",
        "Mar  3 11:00:03 mx postfix/smtpd[302]: disconnect from filter[192.0.2.99]",
    ]
    frames = ingest(
        [_write(tmp_path / "mx", lines)], year=2026, local_domains=["ourdomain.example"]
    )
    assert [f.rule for f in evaluate(frames)] == []


def test_repeated_relay_refusals_without_connect_lines_are_probing_by_that_address(tmp_path):
    lines = []
    for i in range(5):
        stamp = f"2026-03-0{i + 1}T10:1{i}:07.123456+01:00" if i % 2 else f"Mar  {i + 1} 10:1{i}:07"
        lines.append(
            f"{stamp} mx postfix/smtpd[41{i}]: NOQUEUE: reject: RCPT from unknown[198.51.100.7]: "
            f"454 4.7.1 <target{i}@example.net>: Relay access denied; from=<s@example.com> "
            f"to=<target{i}@example.net> proto=ESMTP helo=<probe>"
        )
    frames = ingest([_write(tmp_path / "mx", lines)], year=2026)
    assert frames.domains.height == 0  # nothing local is known, and none is needed
    (finding,) = evaluate(frames)
    assert (finding.rule, finding.subject, finding.count) == ("relay-probing", "198.51.100.7", 5)
    assert frames.sessions["remote_ip"].to_list() == ["198.51.100.7"] * 5


def test_a_session_whose_connect_line_is_missing_still_names_its_client():
    frames = ingest([corpus(LIGHTMETER / "scenarios/18_expired.log")])
    inbound = frames.sessions.filter(pl.col("direction") == "inbound")
    assert inbound["remote_ip"].null_count() == 0


def test_configuration_evidence_names_the_local_domains_and_the_allow_list():
    frames = ingest([corpus(CORPUS / "postfix/shlomif-relay")])
    domains = frames.domains.filter(pl.col("origin") == "config")
    assert set(domains["domain"]) == {
        "localhost",
        "localhost.bezeqint.net",
        "telaviv1.shlomifish.org",
    }
    assert set(domains["source"]) == {"postconf-n--output.txt"}
    # The refused client is the server itself, inside mynetworks: no probing, no open
    # relay, but the cause, named with its line: smtpd_relay_restrictions holds
    # check_relay_domains and no permit_mynetworks.
    (finding,) = evaluate(frames)
    assert finding.rule == "allowed-client-refused"
    assert "postconf-n--output.txt:41" in finding.summary
    assert "postconf-n--output.txt:18" in finding.summary
    assert [e["line"] for e in finding.evidence] == [9]
    assert finding.resolution_for == "Postfix"


def test_an_allow_list_the_restrictions_admit_is_no_cause(tmp_path):
    # The same server with permit_mynetworks first: the localhost client would have
    # been let through, so its refusal is not explained by the configuration.
    source = corpus(CORPUS / "postfix/shlomif-relay")
    (tmp_path / "maillog").write_bytes((source / "maillog").read_bytes())
    config = (source / "postconf-n--output.txt").read_text()
    fixed = config.replace(
        "smtpd_relay_restrictions = check_relay_domains",
        "smtpd_relay_restrictions = permit_mynetworks, check_relay_domains",
    )
    assert fixed != config
    (tmp_path / "postconf-n--output.txt").write_text(fixed)
    assert [f.rule for f in evaluate(ingest([tmp_path]))] == []


def test_every_assumption_is_stated_with_how_to_override_it(tmp_path):
    frames = ingest([corpus(LIGHTMETER / "rotated-directory")])
    rows = frames.assumptions.to_dicts()
    years = [r for r in rows if r["override"] == "--year"]
    assert {r["source"] for r in years} == set(frames.inputs["path"])
    assert any("times of the postfix files" in r["what"] for r in rows)
    inferred = frames.domains.filter(pl.col("origin") == "inferred")["domain"].to_list()
    for domain in inferred:
        assert any(r["what"].startswith(domain) and "--local-domain" in r["override"] for r in rows)
    given = ingest([corpus(LIGHTMETER / "rotated-directory")], year=2020)
    assert all(
        "--year" in r["why"] for r in given.assumptions.to_dicts() if r["override"] == "--year"
    )


# Real Postfix refusals (logwatch's test list): policy refusals are their own kinds,
# never unknown recipients and never relay refusals.
LOGWATCH_CATEGORIES = {
    "Recipient address rejected: Greylisted": "greylisted",
    "Recipient address rejected: Access denied": "access_denied",
    "Helo command rejected: Access denied": "helo_rejected",
    "Client host rejected: cannot find your hostname": "client_rejected",
    "blocked using bl.spamcop.net": "blocklisted",
    "Sender address rejected: Domain not found": "sender_rejected",
    "Recipient address rejected: User unknown in local recipient table": "unknown_recipient",
    "Relay access denied": "relay_denied",
}


def test_policy_refusals_in_real_postfix_lines_get_their_own_categories():
    log = corpus(CORPUS / "postfix/logwatch/postfix-logwatch_TD_expanded.log")
    refused = ingest([log]).recipients.filter(~pl.col("accepted"))
    for phrase, category in LOGWATCH_CATEGORIES.items():
        found = set(refused.filter(pl.col("text").str.contains(phrase, literal=True))["refusal"])
        assert found == {category}, phrase


def test_q206968_fires_with_no_directory_export_and_no_inbound_mail(tmp_path):
    # The held-out case: allow-listed LAN clients refused after 'Do not reroute';
    # nothing tells the local domains, and none is needed: the refusals themselves
    # say the server takes those domains for foreign.
    from benchmarks import evidence as ev
    from tests.test_rules import REROUTE_OFF, TUE, _site, _times, _write

    site = _site("litware.example")
    sessions = [
        site.client(t, f"192.168.20.{i % 5 + 10}", accepted=False)
        for i, t in enumerate(_times(TUE, 12, minutes=20))
    ]
    _write(tmp_path, site, sessions)
    ev.changes([REROUTE_OFF], tmp_path / "changes.csv")
    allow = ["192.168.20.0;255.255.255.0"]
    ev.registry({"RelayFlags": 2, "RelayAllowList": allow}, tmp_path / "imc.reg", unicode=True)
    frames = ingest([tmp_path])
    assert frames.domains.height == 0 or set(frames.domains["origin"]) <= {"server-name"}
    (finding,) = [f for f in evaluate(frames) if f.rule == "relay-not-allowed-relayflags"]
    assert finding.count == 12 and finding.severity in SEVERE


def test_a_single_ims_log_names_its_own_domain_from_its_greeting(tmp_path):
    # Only Tuesday's refused sessions, no directory, no accepted mail: the EHLO answer
    # "250-MAIL01.contoso.example Hello" gives the server's domain, so the refusals
    # are of local mail (Q256856), not relay probes by a dozen customers.
    from tests.conftest import SAMPLES

    logs = sorted((SAMPLES / "q256856-relay-prohibited-local/imcdata/log").glob("*.LOG"))
    refused = [p.read_text() for p in logs if "Relaying is prohibited" in p.read_text()]
    (tmp_path / "L0000001.LOG").write_text("".join(refused[:40]))
    frames = ingest([tmp_path])
    row = frames.domains.row(0, named=True)
    assert (row["domain"], row["origin"], row["line"]) == ("contoso.example", "server-name", 3)
    found = [(f.rule, f.subject) for f in evaluate(frames)]
    assert found == [("relay-prohibited-local-recipient", "contoso.example")]


def test_a_postfix_log_that_opens_with_comments_is_read():
    # fail2ban keeps its real Postfix lines under '# failJSON:' comments.
    frames = ingest([corpus(CORPUS / "postfix/fail2ban")])
    (row,) = frames.inputs.select("format", "records", "unparsed").iter_rows()
    # postscreen's RBL refusal is a fact no grammar reads yet: reported, not counted.
    assert row == ("postfix", 62, 1)
    (unread,) = frames.unparsed.iter_rows(named=True)
    assert unread["reason"] == (
        "a Postfix reject line (postfix/postscreen) that this version's grammar does not read"
    )
    assert unread["text"].startswith("NOQUEUE: reject: RCPT from [216.245.194.173]")
    comments = sum(
        line.startswith("#")
        for line in (CORPUS / "postfix/fail2ban/postfix").read_text().splitlines()
    )
    assert frames.inputs["lines"][0] >= 63 + comments
