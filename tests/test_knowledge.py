"""The data tables: refusal phrases and Exchange builds, and the schema of every
knowledge table (the keys and types the code reads)."""

from __future__ import annotations

import re
import string
from pathlib import Path

import polars as pl
import pytest

from forensics.core.findings import ARTICLE_PLATFORM, SEVERITIES
from forensics.core.replies import CATEGORIES, refusal_category
from forensics.core.versions import software_from_banner
from forensics.knowledge import load
from forensics.report.summary import READ_FORMATS_SKIPPED
from forensics.rules import RULES


def categorise(code: int, text: str) -> str | None:
    frame = pl.DataFrame({"c": [code], "t": [text]})
    return frame.select(refusal_category(pl.col("c"), pl.col("t"))).item()


# Every relay-refusal wording FORMATS.md section 2 lists, as servers write them.
RELAY_WORDINGS = [
    (550, "Relaying is prohibited"),
    (550, "relaying prohibited."),
    (550, "Relay Not Allowed"),
    (550, "Relaying mail to <bob@x.example> is not allowed."),
    (550, "5.7.1 Unable to relay for bob@x.example"),
    (550, "5.7.54 SMTP; Unable to relay recipient in non-accepted domain"),
    (554, "5.7.1 <bob@x.example>: Relay access denied"),
    (550, "5.7.1 <bob@x.example>... Relaying denied. Proper authentication required."),
    (550, "relay not permitted"),
    (553, "sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)"),
    (550, "5.7.64 TenantAttribution; Relay Access Denied"),
]


@pytest.mark.parametrize(("code", "text"), RELAY_WORDINGS)
def test_every_relay_wording_is_a_relay_refusal(code, text):
    assert categorise(code, text) == "relay_denied"


@pytest.mark.parametrize(
    ("code", "text", "category"),
    [
        (250, "OK - Recipient <a@b>", None),
        (550, "5.1.1 unknown or illegal user: a@b", "unknown_recipient"),
        (550, "Domain invalid", "host_unknown"),
        (451, "<name@domain.com>... Sender domain must resolve", "sender_rejected"),
        (554, "Mailbox is not local: JohnD@COMPANY1.com", "sender_rejected"),
        (499, "No routing hosts are reachable for tool.com.", "unreachable"),
        (421, "SERVICE NOT AVAILABLE, TEMPORARY DNS FAILURE", "temporary"),
        (530, "5.7.0 Client was not authenticated", "auth_required"),
        (552, "Message exceeds size limit", "size_limit"),
        (599, "something nobody wrote down", "other"),
    ],
)
def test_other_categories(code, text, category):
    assert categorise(code, text) == category


DESIGN_CATEGORIES = {
    "relay_denied", "unknown_recipient", "host_unknown", "unreachable", "size_limit",
    "auth_required", "sender_rejected", "policy_block", "mailbox_full", "expired",
    "temporary", "other",
}  # fmt: skip
POLICY_CATEGORIES = {
    "access_denied",
    "client_rejected",
    "helo_rejected",
    "blocklisted",
    "greylisted",
}


def test_categories_are_the_designs_and_one_per_kind_of_policy_refusal():
    assert set(CATEGORIES) == DESIGN_CATEGORIES | POLICY_CATEGORIES


@pytest.mark.parametrize(
    ("banner", "label"),
    [
        ("ESMTP Server (Microsoft Exchange Internet Mail Service 5.5.2448.0) ready", "5.5 SP2"),
        ("Internet Mail Service (5.5.2650.21)", "5.5 SP3"),
        ("Microsoft Exchange Internet Mail Service 5.5.2658.3", "5.5 SP4"),  # hotfix build
        ("Microsoft Exchange Internet Mail Service 5.5.1960.3", "5.5 RTM"),
        ("Microsoft Exchange Server Internet Mail Connector Version 4.0.994.63", "4.0)"),
    ],
)
def test_exchange_builds_name_version_and_service_pack(banner, label):
    (software,) = software_from_banner(pl.Series([banner])).to_list()
    assert software.startswith(banner) and software.endswith(")") and label in software


def test_other_banners_are_kept_as_they_are():
    banners = ["ESMTP Sendmail 8.9.3/8.9.3 ready", None]
    assert software_from_banner(pl.Series(banners, dtype=pl.String)).to_list() == banners


# --- the knowledge tables' schema: the keys and types the code reads ---------------

KNOWLEDGE = Path(__file__).resolve().parent.parent / "forensics" / "knowledge"
NAMES = sorted(path.stem for path in KNOWLEDGE.glob("*.toml"))


def _is_regex(pattern: object) -> bool:
    """Whether polars (Rust regex, as the code runs it) accepts ``pattern``."""
    if not isinstance(pattern, str):
        return False
    pl.Series([""]).str.contains("(?i)" + pattern)  # raises on a bad pattern
    return True


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@pytest.mark.parametrize("name", NAMES)
def test_every_knowledge_table_loads(name):
    assert load(name)


def test_rules_toml_has_an_entry_for_every_rule_and_no_other():
    assert set(load("rules")["rule"]) == set(RULES)


@pytest.mark.parametrize("rule", sorted(RULES))
def test_a_rules_entry_has_what_findings_read(rule):
    meta = load("rules")["rule"][rule]
    for key in ("title", "subject", "summary", "cause"):
        assert isinstance(meta[key], str) and meta[key], key
    for template in (meta["summary"], meta["cause"]):
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
        assert all(f.isidentifier() for f in fields), template
    kb = {a["id"] for a in load("kb")["article"]}
    assert meta["kb"] and set(meta["kb"]) <= kb
    assert _number(meta["base"]) and 0 <= meta["base"] < 1
    keys = [item["key"] for item in meta["evidence"]]
    assert len(keys) == len(set(keys))
    platforms = set(load("servers")["name"])
    for item in meta["evidence"]:
        assert isinstance(item["label"], str) and _number(item["weight"])
        assert set(item.get("servers", [])) <= platforms
    levels = meta["severity"]
    assert all(entry["level"] in SEVERITIES for entry in levels)
    assert all(_number(v) for entry in levels for v in entry.get("when", {}).values())
    assert "when" not in levels[-1]  # the last level always holds


# What each rule reads from its settings, and of what type.
SETTINGS = {
    "immediate-outbound-550": {"refusal_event": dict},
    "relay-prohibited-local-recipient": {"recent_change_hours": int},
    "relay-not-allowed-relayflags": {"ndr_wording": "regex"},
    "unexpected-relay-after-change": {"restart_within_minutes": int},
    "ims-crash-relayflags": {
        "change_within_hours": int,
        "cut_within_minutes": int,
        "crash_pattern": "regex",
        "failures": list,
        "heap_crash": list,
    },
    "open-relay": {"unrelated_clients": int, "unproven_text": str},
    "relay-probing": {"min_attempts": int},
    "allowed-client-refused": {"deciders": list},
}


@pytest.mark.parametrize("rule", sorted(RULES))
def test_a_rules_settings_have_the_keys_and_types_it_reads(rule):
    settings = load("rules")["rule"][rule].get("settings", {})
    assert set(settings) == set(SETTINGS[rule])
    for key, kind in SETTINGS[rule].items():
        assert _is_regex(settings[key]) if kind == "regex" else isinstance(settings[key], kind)


def test_the_event_settings_name_sources_and_ids():
    settings = load("rules")["rule"]
    event = settings["immediate-outbound-550"]["settings"]["refusal_event"]
    assert isinstance(event["source"], str) and isinstance(event["id"], int)
    crash = settings["ims-crash-relayflags"]["settings"]
    for kind in crash["failures"]:
        assert isinstance(kind["source"], str) and isinstance(kind["about_ims"], bool)
        assert all(isinstance(i, int) for i in kind.get("ids", []))
        assert set(kind) <= {"source", "ids", "about_ims"}
    assert crash["heap_crash"] and all(_is_regex(w) for w in crash["heap_crash"])


def test_the_rule_context_settings():
    context = load("rules")["context"]
    for key in ("stop_relay", "service_start", "allow_list_setting"):
        assert _is_regex(context[key]), key
    for mark in context["start_events"]:
        assert _is_regex(mark["source"])
        # An event id or a pattern of the message, not both.
        assert ("id" in mark) != ("message" in mark)
        assert isinstance(mark["id"], int) if "id" in mark else _is_regex(mark["message"])
    for mark in context["lifecycle_events"]:
        assert _is_regex(mark["source"])
        assert all(isinstance(i, int) for i in mark.get("ids", []))


def test_kb_articles():
    ids = [a["id"] for a in load("kb")["article"]]
    assert len(ids) == len(set(ids))
    for article in load("kb")["article"]:
        assert isinstance(article["title"], str) and isinstance(article["cause"], str)
        assert article["resolution"] and all(isinstance(s, str) for s in article["resolution"])
        assert "version_match" not in article or _is_regex(article["version_match"])


def test_reply_categories_are_listed_once_and_every_rule_uses_one():
    replies = load("replies")
    categories = replies["categories"]
    assert len(categories) == len(set(categories))
    assert {"temporary", "other"} <= set(categories)  # the fallbacks on the code
    assert set(categories) == set(CATEGORIES)
    for rule in replies["rule"]:
        assert rule["category"] in categories
        assert all(isinstance(c, int) for c in rule["codes"])
        assert _is_regex(rule["text"]) and isinstance(rule["note"], str)


def test_every_refusal_category_the_code_names_is_in_replies_toml():
    # Compared with the refusal column, or named as a category: a typo would match
    # nothing and fail silently.
    named = re.compile(r"""(?:"refusal"\)\s*==|category\s*==)\s*"(\w+)\"""")
    source = Path(__file__).resolve().parent.parent / "forensics"
    used = {m for path in source.rglob("*.py") for m in named.findall(path.read_text())}
    assert "relay_denied" in used
    assert used <= set(load("replies")["categories"])


def test_tracking_events():
    tracking = load("tracking")
    assert isinstance(tracking["immediate_seconds"], int) and tracking["immediate_seconds"] > 0
    events = tracking["events"]
    for generation in ("exchange-5x", "exchange-2000"):
        assert all(key.isdigit() for key in events[generation])  # read as int
    words = {w for table in events.values() for w in table.values()}
    assert all(isinstance(w, str) and w.isidentifier() and w.islower() for w in words)
    # The words the message paths are made of.
    assert {"receive", "send", "deliver", "queued_out", "ndr", "fail", "defer"} <= words


def test_relayflags_bits():
    table = load("relayflags")
    assert isinstance(table["none"], str) and isinstance(table["deny_only"], str)
    values = [bit["value"] for bit in table["bit"]]
    assert len(values) == len(set(values)) and all(v > 0 and v & (v - 1) == 0 for v in values)
    for bit in table["bit"]:
        assert isinstance(bit["allows"], bool) and isinstance(bit["meaning"], str)


def test_versions_builds():
    for row in load("versions")["build"]:
        assert re.fullmatch(r"\d+\.\d+\.\d+", row["build"])
        assert isinstance(row["product"], str) and isinstance(row["sp"], str)


def test_servers_toml_speaks_of_known_rules_and_platforms():
    servers = load("servers")
    platforms = set(servers["name"])
    assert ARTICLE_PLATFORM in platforms
    for section in ("steps", "title", "cause"):
        for rule, by_platform in servers.get(section, {}).items():
            assert rule in RULES, (section, rule)
            assert set(by_platform) <= platforms | {"other"}, (section, rule)
    for by_platform in servers["steps"].values():
        assert all(isinstance(s, str) for steps in by_platform.values() for s in steps)


def test_formats_name_their_platform_and_the_skipped_kinds():
    formats = load("formats")
    platforms = set(load("servers")["name"])
    for entry in formats["format"]:
        assert isinstance(entry["name"], str) and isinstance(entry["title"], str)
        assert entry.get("platform", ARTICLE_PLATFORM) in platforms
    skipped = {entry["name"] for entry in formats["skipped"]}
    assert set(READ_FORMATS_SKIPPED) <= skipped
