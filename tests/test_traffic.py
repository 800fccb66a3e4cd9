"""The traffic summary (report/traffic.py): its counts against direct filters on the
frames, its caps, and that the JSON and the dashboard carry it."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from forensics import __version__
from forensics.core.frames import Frames
from forensics.ingest import ingest
from forensics.report import html, tables, traffic
from forensics.report import json as findings_json
from forensics.report.summary import summarize
from forensics.rules import evaluate
from tests.conftest import scenario_dirs

SCENARIOS = scenario_dirs()


@pytest.fixture(scope="module", params=SCENARIOS, ids=lambda p: p.name)
def frames(request: pytest.FixtureRequest) -> Frames:
    return ingest([request.param])


def _refused() -> pl.Expr:
    return pl.col("accepted").eq(False).fill_null(False)


def _rows(frame: pl.DataFrame, column: str, value: object) -> pl.DataFrame:
    return frame.filter(pl.col(column).is_null() if value is None else pl.col(column) == value)


def _full(frames: Frames, monkeypatch: pytest.MonkeyPatch) -> traffic.Summary:
    monkeypatch.setattr(traffic, "TOP", 10**9)
    monkeypatch.setattr(traffic, "HOURS", 10**9)
    return traffic.summarize(frames)


def test_per_domain_counts_are_those_of_a_filter_on_the_recipients(frames, monkeypatch):
    r = frames.recipients
    summary = _full(frames, monkeypatch)
    domains = summary.tables["domains"]
    assert domains.height == r["rcpt_domain"].n_unique() == summary.total["domains"]
    for row in domains.iter_rows(named=True):
        mine = _rows(r, "rcpt_domain", row["domain"])
        refused = mine.filter(_refused())
        accepted = mine.filter(pl.col("accepted").eq(True).fill_null(False))
        assert row["received"] == accepted.filter(pl.col("direction") == "inbound").height
        assert row["sent"] == accepted.filter(pl.col("direction") == "outbound").height
        assert row["refused"] == refused.height
        assert row["deferred"] == refused.filter(pl.col("code") // 100 == 4).height
        assert sum(c["count"] for c in row["refused_by"]) == refused.height
        for c in row["refused_by"]:
            assert c["count"] == _rows(refused, "refusal", c["category"]).height
    # Every refused RCPT is counted once, under its domain.
    assert domains["refused"].sum() == r.filter(_refused()).height
    assert (
        domains["sent"].sum()
        == r.filter(
            pl.col("accepted").eq(True).fill_null(False) & (pl.col("direction") == "outbound")
        ).height
    )


def test_per_client_counts_are_those_of_its_inbound_sessions(frames, monkeypatch):
    s = frames.sessions.filter(pl.col("direction") == "inbound")
    clients = _full(frames, monkeypatch).tables["clients"]
    assert clients["sessions"].sum() == s.height
    assert clients.select("remote_ip", "remote_host").is_duplicated().sum() == 0
    # The session frame's own per-session tallies add up to the same RCPTs.
    assert clients["accepted"].sum() == s["rcpt_accepted"].sum()
    assert clients["refused"].sum() == s["rcpt_refused"].sum()
    for row in clients.head(5).iter_rows(named=True):
        mine = _rows(_rows(s, "remote_ip", row["remote_ip"]), "remote_host", row["remote_host"])
        assert row["sessions"] == mine.height
        assert row["refused"] == mine["rcpt_refused"].sum()
    assert clients["sessions"].is_sorted(descending=True)


def test_the_hours_add_up_to_the_sessions_and_recipients(frames, monkeypatch):
    hours = _full(frames, monkeypatch).tables["hours"]
    s, r = frames.sessions, frames.recipients
    assert hours["inbound_sessions"].sum() == (s["direction"] == "inbound").sum()
    assert hours["outbound_sessions"].sum() == (s["direction"] == "outbound").sum()
    assert hours["refused"].sum() == r.filter(_refused()).height
    assert hours["accepted"].sum() == r.filter(pl.col("accepted").eq(True).fill_null(False)).height
    assert hours["hour"].is_sorted()
    assert (hours["hour"].drop_nulls().dt.minute() == 0).all()


def test_the_top_refused_addresses_count_each_address_and_category(frames, monkeypatch):
    summary = _full(frames, monkeypatch)
    refused = frames.recipients.filter(_refused())
    for name, key in (("refused_senders", "mail_from"), ("refused_recipients", "rcpt")):
        table = summary.tables[name]
        assert table["refused"].sum() == refused.height
        assert table["refused"].is_sorted(descending=True)
        for row in table.head(5).iter_rows(named=True):
            mine = _rows(_rows(refused, key, row[key]), "refusal", row["category"])
            assert row["refused"] == mine.height


def test_each_table_keeps_its_cap_and_says_how_many_rows_it_left_out(frames, monkeypatch):
    full = _full(frames, monkeypatch)
    monkeypatch.setattr(traffic, "TOP", 2)
    monkeypatch.setattr(traffic, "HOURS", 3)
    capped = traffic.summarize(frames)
    for name in traffic.TABLES:
        cap = 3 if name == "hours" else 2
        kept = capped.tables[name]
        assert kept.height == min(cap, full.total[name])
        assert capped.total[name] == full.total[name]
        assert capped.left_out[name] == full.total[name] - kept.height
        assert kept.equals(full.tables[name].head(cap))


def test_the_json_carries_the_traffic_key(frames):
    doc = findings_json.document(frames, evaluate(frames), version=__version__)
    text = findings_json.dumps(doc)
    got = json.loads(text)["traffic"]
    summary = traffic.summarize(frames)
    assert set(traffic.TABLES) <= set(got)
    assert got["top"] == traffic.TOP
    assert got["left_out"] == summary.left_out
    for name in traffic.TABLES:
        assert len(got[name]) == summary.tables[name].height
        assert got["total"][name] == summary.total[name]
    assert sum(d["refused"] for d in got["domains"]) <= doc["counts"]["refused"]
    if summary.left_out["domains"] == 0:
        assert sum(d["refused"] for d in got["domains"]) == doc["counts"]["refused"]


def test_the_dashboard_has_the_traffic_summary_tables(frames):
    page = html.render(frames, summarize(frames), evaluate(frames), version=__version__)
    assert '<h2 id="traffic">Traffic summary</h2>' in page
    data = html.table_data(page)
    summary = traffic.summarize(frames)
    for table in tables.traffic(summary):
        assert table.id in data
        assert data[table.id]["total"] == table.total
        assert len(data[table.id]["rows"]) == len(table.rows)
        if table.total:
            assert f'id="dt-{table.id}"' in page
    domains = data["traffic-domains"]
    keys = [c["key"] for c in domains["columns"]]
    for row in domains["rows"]:
        cats = row[keys.index("categories")]
        assert (
            sum(int(part.rsplit(" ", 1)[1]) for part in cats.split(", ") if part)
            == (row[keys.index("refused")])
        )


HOSTILE = (
    "5/13/00 2:36:27 PM : A connection was accepted from 203.0.113.7.",
    "5/13/00 2:36:27 PM : <<< HELO probe",
    "5/13/00 2:36:27 PM : >>> 250 OK",
    "5/13/00 2:36:28 PM : <<< MAIL FROM:<a<svg/onload=alert(1)>@b.example>",
    "5/13/00 2:36:28 PM : >>> 250 OK",
    "5/13/00 2:37:01 PM : <<< RCPT TO:<u<script>alert(2)</script>@far<b>.example>",
    "5/13/00 2:37:01 PM : >>> 550 Relaying is prohibited",
)


def test_log_content_in_the_traffic_tables_stays_text(tmp_path: Path):
    (tmp_path / "L0000001.LOG").write_text("\r\n".join(HOSTILE) + "\r\n")
    frames = ingest([tmp_path])
    page = html.render(frames, summarize(frames), evaluate(frames), version=__version__)
    for raw in ("<svg/onload", "<script>alert(2)", "far<b>"):
        assert raw not in page
    data = html.table_data(page)
    cells = {
        c for t in data if t.startswith("traffic-") for r in data[t]["rows"] for c in r
        if isinstance(c, str)
    }  # fmt: skip
    # The tables carry the text as text (the script sets it with textContent).
    assert any("<script>alert(2)</script>" in c for c in cells), cells
    assert any("<svg/onload=alert(1)>" in c for c in cells), cells
    first_pages = "".join(page.split('id="dt-traffic-', 1)[1].split("</table>")[:1])
    assert "&lt;" in first_pages
