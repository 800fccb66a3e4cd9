"""Words per server (issue 21 item 4): a finding on one server's evidence speaks of
that server only. Each sample's findings are read for the marks of every other
platform: its product name and the settings, commands and tabs only it has."""

from __future__ import annotations

import pytest

from forensics.ingest import ingest
from forensics.knowledge import load
from forensics.rules import evaluate
from tests.conftest import FIXTURES, SAMPLES

# What only each platform's texts name. Test data, chosen by reading servers.toml and
# kb.toml: a mark must be unmistakably one server's.
MARKS = {
    "ims": ["Internet Mail Service", "IMS", "Routing tab", "RelayAllowList", "MSExchangeIMC"],
    "postfix": ["Postfix", "postconf", "mydestination", "mynetworks", "main.cf"],
    "exchange2007": ["Get-AcceptedDomain", "Receive connector", "Set-SendConnector"],
    "exchange2000": ["Exchange System Manager", "SMTP virtual server", "Recipient Policies"],
    "sendmail": ["Sendmail", "local-host-names", "sendmail.mc", "makemap"],
    "exim": ["Exim", "relay_from_hosts", "acl_smtp_rcpt", "exim.conf"],
}
PLATFORM_OF = {f["name"]: f.get("platform") for f in load("formats")["format"]}


def _platforms(folder):
    frames = ingest([folder])
    found = {PLATFORM_OF.get(fmt) for fmt in frames.inputs["format"]} - {None}
    return frames, found


# Every sample, and fixtures of formats no sample has (IIS SMTP logs).
FOLDERS = {p.name: p for p in SAMPLES.iterdir() if p.is_dir()} | {"iis": FIXTURES / "iis"}


@pytest.mark.parametrize("sample", sorted(FOLDERS))
def test_a_finding_speaks_of_its_own_server_only(sample):
    frames, platforms = _platforms(FOLDERS[sample])
    assert len(platforms) == 1, f"{sample}: one server's evidence per sample"
    (platform,) = platforms
    for finding in evaluate(frames):
        words = " ".join([finding.title, finding.summary, finding.cause, *finding.resolution])
        for other, marks in MARKS.items():
            if other == platform:
                continue
            said = [m for m in marks if m in words]
            assert not said, f"{sample} ({platform}) {finding.rule} names {other}: {said}"


def test_every_platform_has_marks():
    assert set(MARKS) == set(load("servers")["name"])
