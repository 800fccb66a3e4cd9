"""The data tables: refusal phrases and Exchange builds."""

from __future__ import annotations

import polars as pl
import pytest

from forensics.core.replies import CATEGORIES, refusal_category
from forensics.core.versions import software_from_banner


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


def test_categories_are_the_designs():
    assert len(CATEGORIES) == 12 and "relay_denied" in CATEGORIES


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
