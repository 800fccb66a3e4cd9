"""A format added at run time: a toy reader defined here, registered with
``registry.register``, is listed by ``smtp-forensics formats`` and read by
``smtp-forensics analyze`` like any built-in one, with no other module of the
package touched. Its events make sessions and recipients, and the rules see them.

The toy format: one SMTP command and its reply per line,
``<time> <client address> <verb> <path> <code> [<enhanced status>] <text>``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from functools import partial

import polars as pl
import pytest
from click.testing import CliRunner

from forensics.cli import cli
from forensics.core import frames
from forensics.core.errors import EXIT_OK
from forensics.core.evidence import Evidence
from forensics.readers import registry
from forensics.readers.base import Format, FormatReader, Reading, ReadOptions, counted

TOY_LINE = re.compile(
    r"^(?P<ts>[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}) (?P<ip>[0-9.]+) "
    r"(?P<verb>MAIL|RCPT) (?P<path><[^<> ]*>) (?P<code>[2-5][0-9]{2})"
    r"(?: (?P<status>[245]\.[0-9]{1,3}\.[0-9]{1,3}))?(?: (?P<text>.*))?$"
)
PATH_WORD = {"MAIL": "FROM", "RCPT": "TO"}


def looks_like(head: str) -> bool:
    first = next((line for line in head.splitlines() if line.strip()), "")
    return TOY_LINE.match(first) is not None


def event(source: str, line: int, ts: dt.datetime, ip: str, **columns: object) -> dict:
    """One events row: every column of the schema, the session one per client."""
    row: dict[str, object] = dict.fromkeys(frames.EVENTS)
    row.update(source=source, line=line, ts=ts, session=f"{source}#{ip}", direction="inbound")
    row.update(columns)
    return row


def toy_events(item: Evidence) -> Iterator[tuple[int, list[dict] | None, str]]:
    """(line, its events or None when it is no toy line, its text) for each line
    that is not blank; a client's first line also opens its session."""
    seen: set[str] = set()
    for number, text in enumerate((item.text or "").splitlines(), 1):
        if not text.strip():
            continue
        found = TOY_LINE.match(text)
        if found is None:
            yield number, None, text
            continue
        ip, verb = found["ip"], found["verb"]
        step = partial(event, item.source, number, dt.datetime.fromisoformat(found["ts"]), ip)
        rows = [] if ip in seen else [step(kind="connect", arg=ip)]
        seen.add(ip)
        rows.append(
            step(
                actor="client", kind="command", verb=verb, arg=f"{PATH_WORD[verb]}:{found['path']}"
            )
        )
        rows.append(
            step(
                actor="server",
                kind="reply",
                code=int(found["code"]),
                status=found["status"],
                text=found["text"],
            )
        )
        yield number, rows, text


def read_toy(items: list[Evidence], options: ReadOptions) -> Reading:
    rows: list[dict] = []
    bad: list[dict] = []
    records, unparsed, lines = [], [], []
    for item in items:
        read = missed = 0
        for number, found, text in toy_events(item):
            if found is None:
                missed += 1
                bad.append(
                    {
                        "source": item.source,
                        "line": number,
                        "reason": "not a toy line",
                        "text": text,
                    }
                )
            else:
                read += 1
                rows += found
        records.append(read)
        unparsed.append(missed)
        lines.append(len((item.text or "").splitlines()))
    events = frames.conform(pl.DataFrame(rows, schema=frames.EVENTS), frames.EVENTS)
    unparsed_rows = frames.conform(pl.DataFrame(bad, schema=frames.UNPARSED), frames.UNPARSED)
    return counted(
        items, records, unparsed, lines, frames={"events": events}, unparsed_rows=unparsed_rows
    )


# Checked after every built-in format (none of them takes these lines anyway).
TOY = FormatReader(
    formats=(Format("toy", 150, looks_like),), frames=("events",), read_files=read_toy
)

TOY_LOG = """\
2024-01-02T03:04:05 203.0.113.9 MAIL <spam@bad.example> 250 2.1.0 Sender ok
2024-01-02T03:04:05 203.0.113.9 RCPT <a@example.org> 550 5.7.1 Relaying denied
2024-01-02T03:04:06 203.0.113.9 RCPT <b@example.org> 550 5.7.1 Relaying denied

2024-01-02T03:10:00 198.51.100.7 MAIL <ann@partner.example> 250 2.1.0 Sender ok
2024-01-02T03:10:01 198.51.100.7 RCPT <bob@contoso.example> 250 2.1.5 Recipient ok
this line is no toy line
"""


@pytest.fixture
def toy_format() -> Iterator[FormatReader]:
    registry.register(TOY)
    try:
        yield TOY
    finally:
        registry.unregister(TOY)
    assert "toy" not in registry.format_names()


def run(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_formats_lists_the_toy_format(toy_format):
    result = run("formats")
    assert result.exit_code == EXIT_OK, result.output
    (listed,) = [line for line in result.output.splitlines() if line.split()[:1] == ["toy"]]
    assert listed.endswith("-> events, sessions, recipients")


def test_registering_a_format_twice_is_refused(toy_format):
    with pytest.raises(ValueError, match="toy"):
        registry.register(toy_format)


def test_analyze_reads_a_toy_file_into_sessions_and_recipients(toy_format, tmp_path):
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "smtp.toy").write_text(TOY_LOG)
    assert registry.sniff(TOY_LOG) == "toy"
    result = run("analyze", evidence, "--local-domain", "contoso.example", "--json", "-")
    assert result.exit_code == EXIT_OK, result.output
    document = json.loads(result.stdout)
    # 7 lines: 5 toy lines, a blank one, one that is not a toy line.
    (entry,) = document["inputs"]
    assert (entry["path"], entry["format"], entry["records"], entry["unparsed"]) == (
        "smtp.toy",
        "toy",
        5,
        1,
    )
    counts = document["counts"]
    assert (counts["lines"], counts["unparsed"]) == (7, 1)
    # Two clients, three RCPTs, the prober's two refused as relaying.
    assert (counts["sessions"], counts["recipients"]) == (2, 3)
    assert (counts["refused"], counts["relay_refused"]) == (2, 2)
    # The rules see frames, not formats: the prober is found, citing the toy lines.
    (finding,) = document["findings"]
    assert (finding["rule"], finding["subject"]) == ("relay-probing", "203.0.113.9")
    assert [(e["source"], e["line"]) for e in finding["evidence"]] == [
        ("smtp.toy", 2),
        ("smtp.toy", 3),
    ]


def test_the_toy_events_make_sessions_and_recipients(toy_format, tmp_path):
    from forensics.ingest import ingest

    (tmp_path / "smtp.toy").write_text(TOY_LOG)
    found = ingest([tmp_path], local_domains=["contoso.example"])
    sessions = found.sessions.sort("start").select(
        "session", "remote_ip", "mail_from", "rcpt_total", "rcpt_refused", "outcome"
    )
    assert sessions.rows() == [
        ("smtp.toy#203.0.113.9", "203.0.113.9", "spam@bad.example", 2, 2, "refused"),
        ("smtp.toy#198.51.100.7", "198.51.100.7", "ann@partner.example", 1, 0, "incomplete"),
    ]
    recipients = found.recipients.select("line", "rcpt", "code", "status", "refusal", "local")
    assert recipients.rows() == [
        (2, "a@example.org", 550, "5.7.1", "relay_denied", False),
        (3, "b@example.org", 550, "5.7.1", "relay_denied", False),
        (6, "bob@contoso.example", 250, "2.1.5", None, True),
    ]
    (bad,) = found.unparsed.select("source", "line", "reason").rows()
    assert bad == ("smtp.toy", 7, "not a toy line")
