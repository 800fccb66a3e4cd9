"""The timeline tells relayed sessions from refused and healthy ones, and its hover
texts say who, what, the reply and where it was read (issue 21, item 6).

Every expectation is computed here from the frames, not copied from an output."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from functools import cache

import polars as pl
import pytest

from forensics.core.frames import RECIPIENTS, SESSIONS, Frames, conform
from forensics.ingest import ingest
from forensics.report.figures import build_figures
from forensics.report.timeline import timeline
from tests.conftest import SAMPLES

RELAYED = "session relayed to outside domains"
RELAYING = [
    "postfix-relay-after-change",
    "exim-relay-after-change",
    "exchange2013-relay-not-allowed",
]


@cache
def _frames(name: str) -> Frames:
    return ingest([SAMPLES / name])


def _relayed(frames: Frames) -> pl.DataFrame:
    """The sessions (with a start) that relayed, with the source:line of their first
    recipient row, straight from the recipients frame."""
    rcpts = frames.recipients
    relayed = (
        rcpts.filter(
            (pl.col("direction") == "inbound")
            & (pl.col("accepted") == True)  # noqa: E712 - null is not accepted
            & (pl.col("local") == False)  # noqa: E712 - null is not known to be outside
            & pl.col("own").ne_missing(True)
        )
        .select("session", "source")
        .unique()
    )
    first = rcpts.group_by("session", "source").agg(pl.col("line").min())
    started = frames.sessions.drop_nulls("start").select("session", "source")
    return relayed.join(started, on=["session", "source"]).join(first, on=["session", "source"])


def _trace(fig, name: str):
    found = [t for t in fig.data if t.name == name]
    return found[0] if found else None


@pytest.mark.parametrize("name", RELAYING)
def test_relayed_sessions_have_their_own_trace_and_colour(name):
    frames = _frames(name)
    expected = _relayed(frames)
    assert expected.height > 0  # the sample relays
    fig = build_figures(frames, []).timeline
    relayed = _trace(fig, RELAYED)
    assert relayed is not None and len(relayed.x) == expected.height
    assert set(relayed.y) == {"inbound sessions"}
    # Refused, relayed and healthy sessions: three traces, three colours.
    drawn = {t.name: t.marker.color for t in fig.data if t.name and t.name.startswith("session")}
    healthy = drawn["session delivered (healthy)"]
    assert len({drawn[RELAYED], healthy, drawn.get("session refused", "")}) == 3
    # A relayed session is no longer counted among the healthy ones.
    delivered = frames.sessions.drop_nulls("start").filter(pl.col("outcome") == "delivered")
    relayed_delivered = delivered.join(expected, on=["session", "source"]).height
    assert len(_trace(fig, "session delivered (healthy)").x) == delivered.height - relayed_delivered


@pytest.mark.parametrize("name", RELAYING)
def test_binned_sessions_keep_the_relayed_category(name):
    frames = _frames(name)
    fig, every = timeline(frames, [], max_points=10)
    assert every is not None
    relayed = _trace(fig, RELAYED)
    assert relayed is not None
    counts = [int(re.match(r"<b>(\d+) ", text).group(1)) for text in relayed.hovertext]
    assert sum(counts) == _relayed(frames).height


def test_a_sample_without_relaying_has_no_relayed_trace():
    frames = _frames("healthy-baseline")
    assert _relayed(frames).height == 0
    assert _trace(timeline(frames, [])[0], RELAYED) is None


@pytest.mark.parametrize("name", RELAYING)
def test_relayed_hover_texts_cite_the_first_recipient_line(name):
    frames = _frames(name)
    expected = _relayed(frames)
    relayed = _trace(timeline(frames, [])[0], RELAYED)
    cited = Counter()
    for text in relayed.hovertext:
        for row in expected.iter_rows(named=True):
            if f"<br>{row['source']}:{row['line']} {row['session']}" in text:
                cited[(row["source"], row["session"])] += 1
    assert cited == Counter((s, sid) for s, sid in expected.select("source", "session").rows())


def test_hover_texts_show_the_client_sender_recipient_reply_and_escape_them():
    hostile = "<script>alert(1)</script>"
    start = dt.datetime(2024, 3, 1, 10, 0, 0)
    sessions = conform(
        pl.DataFrame(
            {
                "session": ["s1"],
                "source": ["logs/mail.log"],
                "start": [start],
                "direction": ["inbound"],
                "remote_host": [f"evil{hostile}.example"],
                "remote_ip": ["192.0.2.7"],
                "helo": [hostile],
                "mail_from": [f"{hostile}@x.example"],
                "rcpt_total": [3],
                "rcpt_accepted": [1],
                "rcpt_refused": [2],
                "outcome": ["partial"],
            }
        ),
        SESSIONS,
    )
    recipients = conform(
        pl.DataFrame(
            {
                "session": ["s1"] * 3,
                "source": ["logs/mail.log"] * 3,
                "line": [42, 41, 43],
                "ts": [start] * 3,
                "direction": ["inbound"] * 3,
                "mail_from": [f"{hostile}@x.example"] * 3,
                "rcpt": ["second@far.example", f"first{hostile}@far.example", "third@here"],
                "code": [554, 250, 554],
                "text": [f"Relay access denied {hostile}", "OK", "denied again"],
                "accepted": [False, True, False],
                "local": [False, False, True],
            }
        ),
        RECIPIENTS,
    )
    fig, _ = timeline(Frames(sessions=sessions, recipients=recipients), [])
    relayed = _trace(fig, RELAYED)  # its one accepted recipient is outside
    assert relayed is not None and len(relayed.hovertext) == 1
    text = relayed.hovertext[0]
    safe = "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert "<script" not in text
    assert f"client: evil{safe}.example [192.0.2.7]" in text
    assert f"MAIL FROM: {safe}@x.example" in text
    assert f"RCPT: first{safe}@far.example (and 2 more)" in text
    assert f"reply: 554 Relay access denied {safe}" in text  # the first refusal
    assert "logs/mail.log:41 " in text  # the session's first recipient row
