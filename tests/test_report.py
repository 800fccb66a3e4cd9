"""The dashboard and the post-mortem, without a browser: what they carry, that log
content stays inert, and that the report's size does not grow with the logs."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import markupsafe
import polars as pl
import pytest

from benchmarks.ims_folder import write_folder
from benchmarks.samples import SCENARIOS, write_scenario
from forensics import __version__
from forensics.core import printable
from forensics.ingest import ingest
from forensics.report import html, markdown, tables, timeline
from forensics.report import json as findings_json
from forensics.report.markdown import md
from forensics.report.summary import summarize
from forensics.rules import evaluate
from tests.conftest import SAMPLES

MAX_REPORT_BYTES = 8 * 1024 * 1024


def _render(root: Path) -> tuple[str, list]:
    frames = ingest([root])
    found = evaluate(frames)
    return html.render(frames, summarize(frames), found, version=__version__), found


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_the_report_carries_the_findings_and_the_figures(scenario, tmp_path):
    write_scenario(scenario, tmp_path, seed=11)
    page, found = _render(tmp_path)
    figures = html.figure_data(page)
    lanes = {y for trace in figures["timeline"]["data"] for y in trace.get("y", [])}
    assert {"inbound sessions", "outbound sessions"} <= lanes
    if frames_changes := timeline.changes(ingest([tmp_path]), found).height:
        assert "configuration" in lanes, frames_changes
    cards = re.findall(r'<section class="finding sev-(\w+)" data-rule="([\w-]+)"', page)
    assert [rule for _, rule in cards] == [f.rule for f in found]
    if scenario.kb:
        assert f'<span class="badge kb">{scenario.kb}</span>' in page
        assert "windows" in figures  # the findings as a Gantt chart
    else:
        assert "No known incident pattern matched" in page
    assert len(page.encode()) < MAX_REPORT_BYTES


def test_many_sessions_are_binned_and_the_report_does_not_grow(tmp_path):
    sizes, points = [], []
    for files in (3000, 6000):
        root = tmp_path / str(files)
        write_folder(root, files, seed=3)
        frames = ingest([root])
        fig, every = timeline.timeline(frames, evaluate(frames), max_points=1000)
        assert every is not None  # binned
        points.append(sum(len(t.x) for t in fig.data))
        sizes.append(len(fig.to_json()))
    # Twice the sessions, about the same number of markers and bytes (the
    # buckets cover a longer time, not more of them per unit of time).
    assert points[1] < 1.6 * points[0] and sizes[1] < 1.6 * sizes[0]
    assert points[1] < 6000 / 2


def test_the_figures_escape_log_content(tmp_path):
    hostile = "<svg/onload=alert(1)>"
    log = (
        f"5/13/00 2:36:27 PM : A connection was accepted from 192.0.2.9.\r\n"
        f"5/13/00 2:36:27 PM : <<< HELO {hostile}\r\n"
        f"5/13/00 2:36:27 PM : >>> 250 OK\r\n"
        f"5/13/00 2:36:28 PM : <<< MAIL FROM:<a@b.example>\r\n"
        f"5/13/00 2:36:28 PM : >>> 250 OK\r\n"
    )
    (tmp_path / "L0000001.LOG").write_bytes(log.encode())
    page, _ = _render(tmp_path)
    hover = " ".join(
        text
        for trace in html.figure_data(page)["timeline"]["data"]
        for text in trace.get("hovertext", [])
    )
    assert "&lt;svg/onload=alert(1)&gt;" in hover and "<svg" not in hover
    # In the page source, no "<" of a figure survives inside its script element.
    for body in re.findall(r'data-figure="\w+">(.*?)</script>', page, re.S):
        assert "<" not in body


def test_the_post_mortem_tells_the_story_in_order(tmp_path):
    write_scenario(SCENARIOS[1], tmp_path, seed=11)  # Q256856
    frames = ingest([tmp_path])
    found = evaluate(frames)
    text = markdown.render(frames, summarize(frames), found, version=__version__)
    assert text.startswith("# Post-mortem: Inbound mail for local recipients refused as relaying")
    sections = [line for line in text.splitlines() if line.startswith("## ")]
    assert sections == [
        "## Summary",
        "## Timeline of key moments",
        "## Findings",
        "## What was assumed",
        "## Evidence examined",
    ]
    moments = text.split("## Timeline of key moments")[1].split("## Findings")[0]
    order = [
        moments.index(m) for m in ("Do not reroute", "first relay refusal", "last relay refusal")
    ]
    assert order == sorted(order)
    # The hashes are in the JSON and the manifest; the post-mortem counts per folder,
    # and says how long the pattern lasted and whether it goes on.
    assert "Q256856" in text and frames.inputs["sha256"][0] not in text
    summary = text.split("## Timeline of key moments")[0]
    assert "First seen " in summary and "Still going on at the end of the evidence: " in summary
    evidence = text.split("## Evidence examined")[1]
    rows = [line for line in evidence.splitlines() if line.startswith("| ") and "---" not in line]
    lines = sum(int(r.split("|")[6].replace(",", "")) for r in rows[1:])
    assert lines == frames.inputs["lines"].sum()


def test_markdown_escaping_keeps_log_text_literal():
    assert md("[click](javascript:x) <b>*x*</b> a|b") == (
        r"\[click\](javascript:x) \<b\>\*x\*\</b\> a\|b"
    )
    assert md("two\nlines") == "two lines"


def test_a_short_log_opens_on_at_least_an_hour(tmp_path):
    (tmp_path / "L0000001.LOG").write_bytes(
        b"5/13/00 2:36:27 PM : A connection was accepted from 192.0.2.9.\r\n"
        b"5/13/00 2:36:27 PM : <<< HELO x\r\n5/13/00 2:36:28 PM : >>> 250 OK\r\n"
    )
    frames = ingest([tmp_path])
    fig, _ = timeline.timeline(frames, [])
    start, end = (dt.datetime.fromisoformat(str(v)) for v in fig.layout.xaxis.range)
    assert end - start == timeline.MIN_SPAN and start < dt.datetime(2000, 5, 13, 14, 36, 27) < end


def test_a_resolution_step_shows_its_commands_as_code_and_nothing_else():
    # Steps are knowledge data, but escaped all the same: only the `...` spans
    # become markup.
    step = html._step("Run `postconf <mydestination>` & then <b>reload</b>")
    assert str(step) == (
        "Run <code>postconf &lt;mydestination&gt;</code> &amp; then &lt;b&gt;reload&lt;/b&gt;"
    )


def test_the_post_mortem_shows_postfix_reloading_after_the_change():
    frames = ingest([SAMPLES / "postfix-relay-after-change"])
    text = markdown.render(frames, summarize(frames), evaluate(frames), version=__version__)
    moments = text.split("## Timeline of key moments")[1].split("## Findings")[0]
    change, reload = moments.index("mynetworks"), moments.index("postfix/master: reload")
    assert change < reload
    assert "var/log/mail.log:" in moments[reload:].splitlines()[0]
    assert "None" not in moments  # no event id where the service event has none


def test_a_cause_shows_its_commands_as_code():
    frames = ingest([SAMPLES / "postfix-relay-after-change"])
    page = html.render(frames, summarize(frames), evaluate(frames), version=__version__)
    cause = page.split("<dt>Cause</dt><dd>")[1].split("</dd>")[0]
    assert "<code>postfix reload</code>" in cause and "`" not in cause


# DESIGN.md's finding keys: a public interface that new keys must leave as it is.
DESIGN_FINDING_KEYS = {
    "rule", "kb", "title", "subject", "severity", "confidence", "first_seen", "last_seen",
    "count", "summary", "cause", "resolution", "evidence_total", "evidence",
}  # fmt: skip


def _probe_log(folder: Path, rcpts: int, payload: str = "") -> Path:
    """One client refused ``rcpts`` relay attempts (a relay-probing finding)."""
    lines = [
        "5/13/00 2:36:27 PM : A connection was accepted from 203.0.113.7.",
        "5/13/00 2:36:27 PM : <<< HELO probe",
        "5/13/00 2:36:27 PM : >>> 250 OK",
        "5/13/00 2:36:28 PM : <<< MAIL FROM:<a@b.example>",
        "5/13/00 2:36:28 PM : >>> 250 OK",
    ]
    for k in range(rcpts):
        lines.append(f"5/13/00 2:37:{k % 60:02d} PM : <<< RCPT TO:<u{k}@far.example>")
        lines.append(f"5/13/00 2:37:{k % 60:02d} PM : >>> 550 Relaying is prohibited {payload}")
    folder.mkdir(exist_ok=True)
    (folder / "L0000001.LOG").write_text("\r\n".join(lines) + "\r\n")
    return folder


@pytest.mark.parametrize("rcpts", [3, 45])
def test_the_json_says_how_many_evidence_rows_are_left_out_and_how_to_get_them(tmp_path, rcpts):
    frames = ingest([_probe_log(tmp_path, rcpts)])
    doc = findings_json.document(frames, evaluate(frames), version=__version__)
    (finding,) = [f for f in doc["findings"] if f["rule"] == "relay-probing"]
    assert finding.keys() >= DESIGN_FINDING_KEYS
    assert finding["evidence_total"] == rcpts
    carried = len(finding["evidence"])
    assert finding["evidence_left_out"] == rcpts - carried
    if carried == rcpts:
        assert finding["evidence_more"] is None
    else:
        assert f"{rcpts - carried:,} are left out" in finding["evidence_more"]
        assert "smtp-forensics parse" in finding["evidence_more"]
    # The card says the same, and its table carries the rows the JSON carries.
    page = html.render(frames, summarize(frames), evaluate(frames), version=__version__)
    cards = re.findall(r'data-rule="([\w-]+)"', page)
    table = html.table_data(page)[f"evidence-{cards.index('relay-probing')}"]
    assert [row[2] for row in table["rows"]] == [
        f"{e['source']}:{e['line']}" for e in finding["evidence"]
    ]
    note = f"carries the first {carried} of {rcpts} evidence rows"
    assert table["total"] == rcpts and (carried < rcpts) == (note in page)


def test_a_table_past_its_cap_embeds_the_first_rows_and_says_where_the_rest_are(monkeypatch):
    frames = ingest([SAMPLES / "postfix-relay-denied-local"])
    cap = 40
    assert frames.sessions.height > cap
    monkeypatch.setattr(tables, "MAX_ROWS", cap)
    page = html.render(frames, summarize(frames), evaluate(frames), version=__version__)
    sessions = html.table_data(page)["sessions"]
    assert len(sessions["rows"]) == cap and sessions["left_out"] == frames.sessions.height - cap
    first = frames.sessions.sort("start", "source", "session").head(cap)
    assert [r[0] for r in sessions["rows"]] == first["start"].dt.strftime(
        "%Y-%m-%d %H:%M:%S"
    ).to_list()
    note = page.split('id="dt-sessions"')[1].split("</p>")[0]
    assert f"the first {cap} of {frames.sessions.height:,} sessions" in note
    assert (
        "<code>smtp-forensics parse PATH... --out DIR</code>" in note and "sessions.parquet" in note
    )
    # Under the cap, nothing is said to be left out.
    assert "left out" not in page.split('id="dt-inputs"')[1].split("</table>")[0]


def test_the_tables_data_cannot_end_its_script_element(tmp_path):
    payload = "</script><script>alert(1)</script><!-- \x1b]0;title\x07"
    frames = ingest([_probe_log(tmp_path, 2, payload)])
    page = html.render(frames, summarize(frames), evaluate(frames), version=__version__)
    body = page.split('<script type="application/json" id="table-data">')[1].split("</script>")[0]
    assert "<" not in body and not re.search(r"[^\x20-\x7e]", body)
    replies = [row[6] for row in html.table_data(page)["refused"]["rows"]]
    # Control characters are shown, not carried (an ESC reads \x1b, as everywhere).
    shown = f"Relaying is prohibited {payload}".replace("\x1b", "\\x1b").replace("\x07", "\\x07")
    assert replies == [shown] * 2
    # The export's formula rule is the project's one rule, carried by the page.
    assert json.loads(body)["formula_start"] == list(printable.FORMULA_START)


def test_a_column_of_repeated_values_travels_as_a_dictionary_and_decodes_the_same():
    frames = ingest([SAMPLES / "postfix-relay-denied-local"])
    table = tables.refused(frames)
    encoded = table.as_json()["data"]
    direction = [c.key for c in table.columns].index("direction")
    assert "dict" in encoded[direction] and len(encoded[direction]["dict"]) <= 2
    refused = frames.recipients.filter(pl.col("accepted") == False)  # noqa: E712
    assert [row[direction] for row in table.rows] == refused.sort("ts", "source", "line")[
        "direction"
    ].to_list()


def test_the_tables_stop_growing_at_their_cap(tmp_path, monkeypatch):
    cap = 60
    monkeypatch.setattr(tables, "MAX_ROWS", cap)
    sizes = []
    for files in (150, 300):
        root = tmp_path / str(files)
        write_folder(root, files, seed=5)
        frames = ingest([root])
        page = html.render(frames, summarize(frames), evaluate(frames), version=__version__)
        data = html.table_data(page)
        for name, frame in (("sessions", frames.sessions), ("inputs", frames.inputs)):
            assert frame.height >= files > cap
            assert len(data[name]["rows"]) == cap and data[name]["total"] == frame.height
        body = page.split('<script type="application/json" id="table-data">')[1]
        sizes.append(len(body.split("</script>")[0]))
    # Twice the files, about the same bytes: only the refused RCPTs (under the cap) grew.
    assert sizes[1] < 1.15 * sizes[0]


def test_times_travel_as_seconds_and_decode_to_the_same_text():
    values = ["2000-05-16 09:00:07", None, "1999-12-31 23:59:59", "2000-05-16 09:00:07"]
    encoded = tables._encode(values, "time")
    assert "seconds" in encoded and tables.decode(encoded) == values
    odd = ["2000-05-16 09:00:07.250", "yesterday"]  # not as the tables write times: kept
    assert tables.decode(tables._encode(odd, "time")) == odd


def test_the_dashboard_states_its_assumptions_and_its_window(tmp_path):
    import datetime as dt

    from forensics.derive import window

    frames = ingest([SAMPLES / "postfix-relay-denied-local"])
    page = html.render(frames, summarize(frames), evaluate(frames), version=__version__)
    assert 'id="assumptions"' in page and 'id="window"' not in page
    for row in frames.assumptions.to_dicts():
        assert str(markupsafe.escape(row["what"])) in page
    cut = window.restrict(frames, dt.datetime(2000, 5, 16, 12), None)
    page = html.render(cut, summarize(cut), evaluate(cut), version=__version__)
    assert 'id="window"' in page and "2000-05-16 12:00:00" in page
