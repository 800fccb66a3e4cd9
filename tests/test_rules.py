"""The classifier: each scenario yields its KB finding, and the near misses do not.

Scenario folders are written afresh by the sample generator with seeds other than
the committed one, so the rules are held to evidence built the way sample_logs are
but not identical to it. What each must yield (rule, subject, count, window) is
computed from what the generator wrote, not from what the parser read.
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
from pathlib import Path

import pytest

from benchmarks import evidence as ev
from benchmarks.imsgen import ImsWriter, LogFolder, Session
from benchmarks.samples import SCENARIOS, Scenario, Site, write_scenario
from forensics.core.findings import Finding, at_least, fill
from forensics.ingest import ingest
from forensics.rules import RULES, evaluate

SEEDS = [7, 1901, 42424]
BY_NAME = {s.name: s for s in SCENARIOS}


def _analyse(root: Path, **options) -> list[Finding]:
    return evaluate(ingest([root]), **options)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_each_scenario_yields_its_finding_and_nothing_spurious(
    scenario: Scenario, seed: int, tmp_path: Path
) -> None:
    truth = write_scenario(scenario, tmp_path, seed=seed)
    found = _analyse(tmp_path)
    alarms = [f for f in found if at_least(f.severity, "medium")]
    # Nothing above low but what the scenario is about.
    assert sorted((f.rule, f.subject) for f in alarms) == sorted(
        (e.rule, e.subject) for e in truth.expected
    )
    for expected in truth.expected:
        (finding,) = [f for f in alarms if f.rule == expected.rule]
        assert finding.count == expected.count
        assert (finding.first_seen, finding.last_seen) == (expected.first, expected.last)
        assert scenario.kb in finding.kb
        assert finding.confidence >= 0.7, finding.lacked
        assert finding.evidence and finding.evidence_total >= finding.count
        for row in finding.evidence:
            assert (tmp_path / row["source"]).is_file() and row["line"] >= 1
        _assert_steps_for(finding, SERVER_OF_LOG[scenario.log])


# The server whose steps a finding must give, by the logs a scenario writes.
SERVER_OF_LOG = {
    "ims": "ims",
    "postfix": "postfix",
    "exchange": "exchange2007",
    "w3c": "exchange2000",
}


def _assert_steps_for(finding: Finding, platform: str) -> None:
    """The resolution is the one written for ``platform`` (the article's own for the
    IMS the articles describe), and says so."""
    from forensics.core.findings import articles
    from forensics.knowledge import load

    knowledge = load("servers")
    assert finding.resolution_for == knowledge["name"][platform]
    if platform == "ims":
        assert finding.resolution == articles()[finding.kb[0]]["resolution"]
    else:
        assert finding.resolution == knowledge["steps"][finding.rule][platform]
        assert not any("IMS" in step for step in finding.resolution)
        # Nor does the finding explain the failure by the IMS's switches.
        for text in (finding.title, finding.cause):
            for ims_only in ("IMS", "Internet Mail Service", "RelayFlags", "Do not reroute"):
                assert ims_only not in text, (ims_only, text)
    # Nothing is said to be lacking that this server could not have written (an
    # MSExchangeIMC event from Postfix); on the IMS everything looked for is listed.
    from forensics.core.findings import rule_meta

    items = rule_meta(finding.rule)["evidence"]
    assert len(finding.saw) + len(finding.lacked) == sum(
        platform in item.get("servers", [platform]) or item["label"] in finding.saw
        for item in items
    )


def _write(root: Path, site: Site, sessions: list[Session]) -> None:
    writer = ImsWriter(f"{site.server}.{site.domain}", site.build, site.rng)
    folder = LogFolder(root / "imcdata" / "log")
    for s in sorted(sessions, key=lambda s: s.start):
        folder.write(writer, [s])


def _site(domain: str = "contoso.example") -> Site:
    return Site("MAIL01", domain, "5.5.2650.21", random.Random(5))


def _times(start: dt.datetime, n: int, minutes: int = 7) -> list[dt.datetime]:
    return [start + dt.timedelta(minutes=minutes * i) for i in range(n)]


MON = dt.datetime(2000, 5, 15, 8, 0)
TUE = dt.datetime(2000, 5, 16, 8, 0)
REROUTE_OFF = (
    dt.datetime(2000, 5, 16, 7, 0),
    "IMS Routing tab",
    "reroute",
    "Reroute incoming SMTP mail",
    "Do not reroute incoming SMTP mail",
    "",
)


def _rules(found: list[Finding]) -> set[str]:
    return {f.rule for f in found}


def _stranger(root: Path, *, accepted: bool, auth: bool = False) -> None:
    """A day of inbound mail, then 203.0.113.9 sending five messages out through us."""
    site = _site()
    sessions = [site.inbound(t) for t in _times(MON, 10)]
    sessions += [
        site.client(t, "203.0.113.9", accepted=accepted, auth=auth) for t in _times(TUE, 5)
    ]
    _write(root, site, sessions)
    ev.gal(site.local_users, root / "gal.csv")


# --- relay-prohibited-local-recipient (Q256856) -------------------------------------


def test_a_refused_relay_to_a_foreign_domain_is_not_q256856(tmp_path):
    _stranger(tmp_path, accepted=False)
    found = _analyse(tmp_path)
    assert "relay-prohibited-local-recipient" not in _rules(found)
    (probe,) = [f for f in found if f.rule == "relay-probing"]
    assert probe.subject == "203.0.113.9" and probe.count == 5


def test_without_the_change_log_the_flip_is_an_inferred_change(tmp_path):
    scenario = BY_NAME["q256856-relay-prohibited-local"]
    truth = write_scenario(scenario, tmp_path, seed=3)
    logged = next(f for f in _analyse(tmp_path) if f.rule == "relay-prohibited-local-recipient")
    shutil.rmtree(tmp_path / "notes")
    (finding,) = [f for f in _analyse(tmp_path) if f.rule == "relay-prohibited-local-recipient"]
    assert finding.change is not None
    assert finding.change["origin"] == finding.change["ts_quality"] == "inferred"
    assert finding.change["time"] == truth.expected[0].first.isoformat()
    assert finding.confidence < logged.confidence
    assert any("logged change" in item for item in finding.lacked)


def test_a_domain_only_inferred_as_local_lowers_the_confidence(tmp_path):
    write_scenario(BY_NAME["q256856-relay-prohibited-local"], tmp_path, seed=3)
    with_directory = _analyse(tmp_path)[0]
    shutil.rmtree(tmp_path / "directory")
    (finding,) = [f for f in _analyse(tmp_path) if f.rule == "relay-prohibited-local-recipient"]
    assert finding.subject == with_directory.subject == "contoso.example"
    assert finding.count == with_directory.count
    assert finding.confidence < with_directory.confidence
    assert "(server-name)" in finding.summary  # the banner names the domain; no proof


# --- relay-not-allowed-relayflags (Q206968) -----------------------------------------


def test_refusals_before_the_change_are_not_q206968(tmp_path):
    # Clients refused all along (before and after the switch) were never allowed:
    # the switch did not take anything from them.
    site = _site("litware.example")
    sessions = [site.inbound(t) for t in _times(MON, 10)]
    sessions += [
        site.client(t, f"192.168.20.{i % 5 + 10}", accepted=False)
        for i, t in enumerate(_times(MON, 20, minutes=90))
    ]
    _write(tmp_path, site, sessions)
    ev.gal(site.local_users, tmp_path / "gal.csv")
    ev.changes([REROUTE_OFF], tmp_path / "changes.csv")
    found = _analyse(tmp_path)
    assert "relay-not-allowed-relayflags" not in _rules(found)


def test_registry_without_relayflags_contradicts_q206968(tmp_path):
    write_scenario(BY_NAME["q206968-relay-not-allowed-relayflags"], tmp_path, seed=5)
    assert "relay-not-allowed-relayflags" in _rules(_analyse(tmp_path))
    for snapshot in (tmp_path / "registry").iterdir():
        ev.registry({"RelayFlags": 0}, snapshot, unicode=True)
    assert "relay-not-allowed-relayflags" not in _rules(_analyse(tmp_path))


def test_q206968_without_the_change_log_finds_the_flip(tmp_path):
    truth = write_scenario(BY_NAME["q206968-relay-not-allowed-relayflags"], tmp_path, seed=8)
    shutil.rmtree(tmp_path / "notes")
    (finding,) = [f for f in _analyse(tmp_path) if f.rule == "relay-not-allowed-relayflags"]
    expected = truth.expected[0]
    assert (finding.count, finding.first_seen) == (expected.count, expected.first)
    assert finding.change["origin"] == "inferred"
    assert finding.change["time"] == expected.first.isoformat()


# --- unexpected-relay-after-change (Q243045) ----------------------------------------


def test_an_allowed_client_relaying_before_the_change_is_not_q243045(tmp_path):
    write_scenario(BY_NAME["q243045-relay-after-change"], tmp_path, seed=5)
    assert "unexpected-relay-after-change" in _rules(_analyse(tmp_path))
    # The same evidence seen only up to the change: relaying was allowed then.
    before = _analyse(tmp_path, until=dt.datetime(1999, 10, 27, 13, 59))
    assert "unexpected-relay-after-change" not in _rules(before)
    assert "open-relay" not in _rules(before)


# --- ims-crash-relayflags (Q179289) -------------------------------------------------


def test_a_crash_without_the_relayflags_evidence_is_not_q179289_with_confidence(tmp_path):
    write_scenario(BY_NAME["q179289-ims-crash-relayflags"], tmp_path, seed=5)
    shutil.rmtree(tmp_path / "registry")
    shutil.rmtree(tmp_path / "notes")
    (finding,) = [f for f in _analyse(tmp_path) if f.rule == "ims-crash-relayflags"]
    assert finding.confidence < 0.5
    assert any("RelayFlags = 2" in item for item in finding.lacked)
    assert "does not show the cause" in finding.cause


# --- open-relay ---------------------------------------------------------------------


def test_an_authenticated_client_relaying_is_not_an_open_relay(tmp_path):
    _stranger(tmp_path, accepted=True, auth=True)
    assert "open-relay" not in _rules(_analyse(tmp_path))


def test_an_unauthenticated_stranger_relaying_is_an_open_relay(tmp_path):
    _stranger(tmp_path, accepted=True)
    ev.registry({}, tmp_path / "imc-2000-05-16T1200.reg", unicode=False)
    (finding,) = [f for f in _analyse(tmp_path) if f.rule == "open-relay"]
    assert (finding.subject, finding.count, finding.severity) == ("203.0.113.9", 5, "critical")
    assert "no relay restriction" in finding.cause


def test_relaying_known_only_from_the_servers_own_name_is_no_alarm(tmp_path):
    # No directory, no inbound mail: only the name the server greets with says which
    # domain is its own. Mail for other domains accepted from a stranger is shown
    # (info: to check), never as an alarm, since nothing proves it had no right.
    site = _site()
    sessions = [site.client(t, "203.0.113.9", accepted=True) for t in _times(TUE, 5)]
    _write(tmp_path, site, sessions)
    found = _analyse(tmp_path)
    assert [(f.rule, f.severity) for f in found] == [("open-relay", "low")]
    assert "before calling it an open relay" in found[0].summary


# --- immediate-outbound-550 (Q168781) -----------------------------------------------


def test_an_outbound_unknown_user_is_not_q168781(tmp_path):
    site = _site("tailspin.example")
    sessions = [site.outbound(t, refusal="User unknown") for t in _times(TUE, 8)]
    sessions += [site.inbound(t) for t in _times(TUE, 8)]
    _write(tmp_path, site, sessions)
    assert "immediate-outbound-550" not in _rules(_analyse(tmp_path))


def test_event_4031_alone_is_enough_for_q168781(tmp_path):
    scenario = BY_NAME["q168781-immediate-outbound-550"]
    truth = write_scenario(scenario, tmp_path, seed=5)
    shutil.rmtree(tmp_path / "imcdata")
    (finding,) = [f for f in _analyse(tmp_path) if f.rule == "immediate-outbound-550"]
    assert finding.count == truth.expected[0].count  # one event per refused recipient
    assert any("4031" in item for item in finding.saw)
    assert any("outbound SMTP sessions" in item for item in finding.lacked)


# --- the window and the knowledge ---------------------------------------------------


def test_since_and_until_restrict_the_window(tmp_path):
    truth = write_scenario(BY_NAME["q256856-relay-prohibited-local"], tmp_path, seed=9)
    expected = truth.expected[0]
    assert _analyse(tmp_path, until=expected.first - dt.timedelta(seconds=1)) == []
    noon = dt.datetime(2000, 5, 16, 12, 0)
    (late,) = _analyse(tmp_path, since=noon)
    assert late.first_seen >= noon and late.count < expected.count


def test_every_rule_has_its_knowledge():
    from forensics.core.findings import articles, rule_meta

    for rule in RULES:
        meta = rule_meta(rule)
        assert meta["kb"] and all(kb in articles() for kb in meta["kb"])
        assert meta["severity"][-1].get("when") is None, "the last severity must always hold"
        assert articles()[meta["kb"][0]]["resolution"]


def test_templates_take_plain_names_only():
    assert fill("{count} RCPTs", {"count": 3}) == "3 RCPTs"
    with pytest.raises(ValueError):
        fill("{count.__class__}", {"count": 3})


def test_forwarded_bounces_alone_are_enough_for_q256856(tmp_path):
    write_scenario(BY_NAME["q256856-relay-prohibited-local"], tmp_path, seed=5)
    shutil.rmtree(tmp_path / "imcdata")
    bounces = sorted((tmp_path / "ndr").iterdir())
    (finding,) = _analyse(tmp_path)
    assert finding.rule == "relay-prohibited-local-recipient"
    failed = sum(b.read_text().count("Final-Recipient:") for b in bounces)
    assert finding.subject == "contoso.example" and finding.count == failed
    assert {row["source"] for row in finding.evidence} == {f"ndr/{b.name}" for b in bounces}
    # Any server may have written a bounce: it says nothing of ours, so the article's
    # own steps stay.
    _assert_steps_for(finding, "ims")


def test_the_server_with_the_most_evidence_rows_decides_the_steps():
    from forensics.core.findings import platform_of

    formats = {"mail.log": "postfix", "imc.reg": "registry", "bounce.eml": "email"}
    # Three rows from Postfix's log against one from an IMS registry export.
    assert platform_of(["mail.log", "imc.reg", "mail.log", "mail.log"], formats) == "postfix"
    assert platform_of(["imc.reg", "imc.reg", "mail.log"], formats) == "ims"
    # Bounces and files not in the inputs belong to no server: no verdict.
    assert platform_of(["bounce.eml", "bounce.eml", "gone.log"], formats) is None
    assert platform_of([], formats) is None


def test_evidence_of_another_server_is_not_lacking(tmp_path):
    write_scenario(BY_NAME["exchange2013-smarthost-relay-denied"], tmp_path, seed=2)
    (finding,) = [f for f in _analyse(tmp_path) if f.rule == "immediate-outbound-550"]
    assert finding.resolution_for == "Exchange 2007-2019"
    assert not any("MSExchangeIMC" in label for label in finding.lacked)
    assert not any("Exchange 4.0 or 5.0" in label for label in finding.lacked)


def test_every_platform_rule_and_field_in_servers_toml_is_known():
    import string

    from forensics.core.findings import platforms
    from forensics.knowledge import load

    knowledge = load("servers")
    assert set(platforms().values()) <= set(knowledge["name"])
    assert set(knowledge["steps"]) <= set(RULES)
    for rule, by_platform in knowledge["steps"].items():
        assert set(by_platform) <= set(knowledge["name"]) - {"ims"}, rule
        assert all(steps for steps in by_platform.values()), rule

    def fields(template: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(template) if name}

    from forensics.core.findings import rule_meta as meta_of

    for section in ("title", "cause"):
        assert set(knowledge[section]) <= set(RULES), section
        for rule, by_platform in knowledge[section].items():
            # The article's server too, where the rule's own text speaks of more.
            assert set(by_platform) <= set(knowledge["name"]) | {"other"}, rule
            # Filled from the facts the rule gives its own templates, and no others.
            meta = meta_of(rule)
            given = fields(meta["summary"]) | fields(meta["cause"])
            given |= {"subject", "count", "first", "last"}
            for template in by_platform.values():
                assert fields(template) <= given, (rule, fields(template) - given)
    from forensics.core.findings import rule_meta

    for rule in RULES:
        for item in rule_meta(rule)["evidence"]:
            assert set(item.get("servers", [])) <= set(knowledge["name"]), (rule, item["key"])


def test_no_flip_is_inferred_while_mail_is_still_accepted_after_refusals(tmp_path):
    site = _site()
    sessions = [
        site.inbound(t, refusal="Relaying is prohibited" if i % 3 == 0 else None)
        for i, t in enumerate(_times(TUE, 12))
    ]
    _write(tmp_path, site, sessions)
    ev.gal(site.local_users, tmp_path / "gal.csv")
    (finding,) = _analyse(tmp_path)
    assert finding.rule == "relay-prohibited-local-recipient" and finding.change is None


def test_private_clients_are_grouped_by_network(tmp_path):
    site = _site()
    sessions = [site.inbound(t) for t in _times(MON, 5)]
    sessions += [
        site.client(t, f"192.168.7.{i % 3 + 20}", accepted=True)
        for i, t in enumerate(_times(TUE, 6))
    ]
    _write(tmp_path, site, sessions)
    ev.gal(site.local_users, tmp_path / "gal.csv")
    (finding,) = _analyse(tmp_path)
    assert (finding.rule, finding.subject, finding.count) == ("open-relay", "192.168.7.0/24", 6)
    assert "3 clients in 192.168.7.0/24" in finding.summary
    # Nothing shows these LAN clients had no right to relay (no allow list, no
    # registry): the finding says to check, at the lowest severity.
    assert finding.severity == "info" and "before calling it an open relay" in finding.summary


def test_allow_lists_in_the_change_log_are_networks_allowed_to_relay(tmp_path):
    """mynetworks, RemoteIPRanges or a Relay list in the change log name networks that
    were allowed (old value) or are (new value), in any of the ways admins write
    them; a change that takes a network out of such a list tightens relaying."""
    from forensics.rules.context import Context

    ev.changes(
        [
            (
                dt.datetime(2000, 2, 8, 10, 30),
                "Postfix main.cf",
                "mynetworks",
                "127.0.0.0/8, 192.168.42.0/24, 10.1.2.3",
                "127.0.0.0/8, 10.1.2.3",
                "",
            ),
            (
                dt.datetime(2000, 2, 8, 11, 0),
                "Exchange Receive connector 'Relay'",
                "RemoteIPRanges",
                "172.16.0.0;255.255.0.0",
                "172.16.0.0;255.255.0.0 172.17.0.0/255.255.0.0",
                "widened",
            ),
            # Not an allow list, though it holds an address.
            (dt.datetime(2000, 2, 8, 12, 0), "DNS", "mx", "192.0.2.1", "192.0.2.2", ""),
        ],
        tmp_path / "notes" / "changes.csv",
    )
    ctx = Context(ingest([tmp_path]))
    assert ctx.allow_entries["label"].to_list() == [
        "10.1.2.3/32",
        "127.0.0.0/8",
        "172.16.0.0/16",
        "172.17.0.0/16",
        "192.168.42.0/24",
    ]
    # Only the change that took a network out tightened relaying.
    assert ctx.tightening_changes()["key"].to_list() == ["Postfix main.cf\\mynetworks"]
    assert ctx.stop_relay_changes().height == 0  # none says 'stop relaying' in so many words


def test_confidence_counts_only_the_evidence_the_server_can_show():
    """On Postfix, everything Postfix can show weighs what everything weighs on the
    IMS; on the IMS nothing changes."""
    from forensics.core.findings import Finding, for_platform, judge, rule_meta

    rule = "unexpected-relay-after-change"
    meta = rule_meta(rule)
    everything = {item["key"]: True for item in meta["evidence"]}
    on_postfix = {
        item["key"]: "postfix" in item.get("servers", ["postfix"]) for item in meta["evidence"]
    }
    assert not all(on_postfix.values())  # the registry and the release are the IMS's

    def finding(seen: dict[str, bool]) -> Finding:
        confidence, saw, lacked = judge(rule, seen)
        return Finding(
            rule,
            ["Q243045"],
            "t",
            "s",
            "high",
            confidence,
            None,
            None,
            1,
            "",
            "",
            [],
            0,
            [],
            saw=saw,
            lacked=lacked,
        )

    full = finding(everything)
    assert for_platform(finding(on_postfix), "postfix").confidence == full.confidence
    assert finding(on_postfix).confidence < full.confidence
    assert for_platform(full, "ims").confidence == full.confidence
    half = {key: key in {"restart"} for key in everything}
    assert for_platform(finding(half), "postfix").confidence > finding(half).confidence


def test_an_unsure_finding_is_at_most_medium_and_says_why():
    import dataclasses

    from forensics.core.findings import tempered
    from tests.conftest import SAMPLES

    frames = ingest([SAMPLES / "q256856-relay-prohibited-local"])
    (sure,) = [f for f in evaluate(frames) if f.severity == "critical"]
    assert tempered(sure) == sure  # sure enough: unchanged
    unsure = dataclasses.replace(sure, confidence=0.3)
    lowered = tempered(unsure)
    assert lowered.severity == "medium"
    assert lowered.lacked[-1].startswith("confidence 0.30 below 0.50")
    assert tempered(dataclasses.replace(unsure, severity="low")).severity == "low"
