"""Conformance with the sisimai bounce corpus (../shared/corpus/ndr, SOURCES.md).

Sisimai's reasons are not our categories: they are compared through the explicit
table below, and the agreement is reported per reason. Where sisimai's own answer
for a relay refusal is not ``norelaying`` (it calls "Unable to relay"
securityerror and "Relaying is prohibited" undefined), the report names the row
rather than bending our classifier to the table."""

from __future__ import annotations

import csv
from collections import Counter, defaultdict

import pytest

from forensics.ingest import ingest
from tests.conftest import CONFORMANCE, CORPUS, corpus

# The part of the corpus EXPECTED.tsv covers: the recipient-level facts.
RECIPIENT_TARGET = 0.95  # the target

# sisimai reason -> the categories that say the same thing (None: no equivalent).
SAME_AS: dict[str, set[str] | None] = {
    "userunknown": {"unknown_recipient"},
    "hostunknown": {"host_unknown"},
    "norelaying": {"relay_denied"},
    "mailboxfull": {"mailbox_full"},
    "mesgtoobig": {"size_limit"},
    "exceedlimit": {"size_limit"},
    "expired": {"expired", "temporary", "unreachable"},
    "networkerror": {"unreachable", "temporary", "host_unknown"},
    "blocked": {"policy_block"},
    "badreputation": {"policy_block"},
    "spamdetected": {"policy_block"},
    "virusdetected": {"policy_block"},
    "contenterror": {"policy_block"},
    "filtered": {"policy_block", "unknown_recipient"},
    "policyviolation": {"policy_block"},
    "rejected": {"sender_rejected", "policy_block"},
    "securityerror": {"auth_required", "policy_block"},
    "authfailure": {"auth_required", "policy_block"},
    "requireptr": {"policy_block"},
    "systemfull": {"mailbox_full", "temporary"},
    "toomanyconn": {"temporary", "policy_block"},
    "speeding": {"temporary", "policy_block"},
    # No category of ours means these; not compared.
    "suspend": None,
    "hasmoved": None,
    "onhold": None,
    "undefined": None,
    "systemerror": None,
    "mailererror": None,
    "notaccept": None,
    "notcompliantrfc": None,
    "syntaxerror": None,
    "vacation": None,  # auto-replies: excluded above
    "not-a-bounce": None,
}


@pytest.fixture(scope="module")
def conformance():
    root = corpus(CORPUS / "ndr")
    with open(root / "EXPECTED.tsv", encoding="utf-8") as handle:
        # Auto-replies (RFC 3834, "vacation") are not bounces: the issue wants no rows
        # from them, so they are not recipients to find.
        expected = [
            r
            for r in csv.DictReader(handle, delimiter="\t")
            if r["recipient"] and r["reason"] not in ("vacation", "not-a-bounce")
        ]
    frames = ingest([root / "sisimai"])
    found: dict[tuple[str, str], str | None] = {}
    for row in frames.ndrs.iter_rows(named=True):
        # sisimai writes a quoted local part ("a..b"@c) without its quotes.
        key = ("sisimai/" + row["source"], row["recipient"].lower().replace('"', ""))
        found[key] = row["refusal"]
    return expected, found


def test_recipients_found(conformance):
    expected, found = conformance
    hits = [r for r in expected if (r["file"], r["recipient"].lower()) in found]
    share = len(hits) / len(expected)
    missed = Counter(
        r["file"].rsplit("/", 1)[1].rsplit("-", 1)[0] for r in expected if r not in hits
    )
    CONFORMANCE.append(
        f"NDR recipients found: {len(hits)} of {len(expected)} ({share:.1%}; target "
        f"{RECIPIENT_TARGET:.0%}); missed by family: {dict(missed.most_common())}"
    )
    assert share >= RECIPIENT_TARGET


def test_reasons_agree_through_the_mapping(conformance):
    expected, found = conformance
    agree: defaultdict[str, list[int]] = defaultdict(lambda: [0, 0])
    relay_disputes = []
    for r in expected:
        ours = found.get((r["file"], r["recipient"].lower()), "missing")
        same = SAME_AS[r["reason"]]
        if ours == "relay_denied" and r["reason"] != "norelaying":
            relay_disputes.append(f"{r['file']}: sisimai {r['reason']}, we relay_denied")
        if same is None or ours == "missing":
            continue
        agree[r["reason"]][1] += 1
        agree[r["reason"]][0] += ours in same
    total = [sum(a for a, _ in agree.values()), sum(n for _, n in agree.values())]
    CONFORMANCE.append(
        f"NDR reasons agreeing with sisimai through the mapping: {total[0]} of {total[1]}"
    )
    for reason, (a, n) in sorted(agree.items(), key=lambda kv: -kv[1][1]):
        CONFORMANCE.append(f"  {reason:<16} {a:>3} of {n:<3}")
    for line in relay_disputes:
        CONFORMANCE.append(f"  relay refusal, sisimai disagrees: {line}")
    # Every relay refusal sisimai recognises, we recognise too.
    assert agree["norelaying"][0] == agree["norelaying"][1]


def test_every_reason_in_the_corpus_is_in_the_mapping(conformance):
    expected, _ = conformance
    assert {r["reason"] for r in expected} <= set(SAME_AS)


def test_messages_that_are_not_bounces_give_no_rows():
    frames = ingest([corpus(CORPUS / "ndr" / "sisimai" / "not")])
    assert frames.inputs.height >= 2 and set(frames.inputs["format"]) == {"email"}
    assert frames.ndrs.height == 0


def test_flufl_samples():
    """flufl.bounce's samples (ndr/flufl/EXPECTED.tsv): the Exchange 5.5 reports and the
    X.400 gateway's relay refusal must be read; the rest is reported."""
    root = corpus(CORPUS / "ndr" / "flufl")
    with open(root / "EXPECTED.tsv", encoding="utf-8") as handle:
        expected = [r for r in csv.DictReader(handle, delimiter="\t") if r["recipient"]]
    frames = ingest([root])
    found = {
        (row["source"], row["recipient"].lower()): row["refusal"]
        for row in frames.ndrs.iter_rows(named=True)
    }
    key = {r["file"]: (r["file"].split("/", 1)[1], r["recipient"].lower()) for r in expected}
    hits = [r for r in expected if (r["file"].split("/", 1)[1], r["recipient"].lower()) in found]
    CONFORMANCE.append(f"flufl samples: {len(hits)} of {len(expected)} recipients found")
    for name in ("flufl/microsoft_01.txt", "flufl/microsoft_02.txt"):
        assert found[key[name]] == "unknown_recipient"
    assert found[key["flufl/dsn_09.txt"]] == "relay_denied"  # "5.7.1 Unable to relay for ..."
