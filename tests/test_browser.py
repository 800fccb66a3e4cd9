"""The report in a real browser: Debian's Chromium driven by Playwright.

Each sample scenario's report is opened from a file URL: no console error, no
network request, the timeline drawn with its traces, the finding cards with their
KB numbers. A log carrying script payloads leaves the page's script state untouched.
The tables search as one types, sort by a header, page, and export the rows that
match as CSV made in the page, formulas kept as text.
Screenshots go to test-artifacts/ (look at them: the page must be clear at first
sight). CI installs Chromium (.ci/run); elsewhere, without it, these tests skip.
"""

from __future__ import annotations

import csv
import ipaddress
import os
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from benchmarks.samples import SCENARIOS
from forensics import __version__
from forensics.ingest import ingest
from forensics.report import html
from forensics.report.summary import summarize
from forensics.rules import evaluate
from tests.conftest import SAMPLES

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("Debian's chromium is missing at /usr/bin/chromium: .ci/run installs it")
        pytest.skip("Debian's chromium is not installed here (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield chromium
        chromium.close()


class Visit:
    """A page opened from a file, with what it logged and asked for."""

    def __init__(self, browser, report: Path) -> None:
        self.page = browser.new_page(viewport={"width": 1400, "height": 1000})
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", self._request)
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.goto(report.as_uri())
        self.page.wait_for_function("document.getElementById('timeline').data !== undefined")

    def _request(self, request) -> None:
        if not request.url.startswith(("file:", "data:", "blob:")):
            self.requests.append(request.url)


def _report(evidence: Path, out: Path) -> Path:
    frames = ingest([evidence])
    found = evaluate(frames)
    html.write(out, html.render(frames, summarize(frames), found, version=__version__))
    return out


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_each_sample_report_opens_cleanly_and_tells_its_story(browser, scenario, tmp_path):
    visit = Visit(browser, _report(SAMPLES / scenario.name, tmp_path / "report.html"))
    page = visit.page
    assert visit.errors == [] and visit.requests == [] and visit.dialogs == []
    traces = page.evaluate("document.getElementById('timeline').data.length")
    assert traces >= 2
    assert page.locator("#timeline .main-svg").count() >= 1
    kbs = page.locator(".finding .badge.kb").all_inner_texts()
    verdict = page.locator("#verdict").inner_text()
    if scenario.kb:
        assert scenario.kb in kbs and scenario.kb in verdict
    else:
        assert "No known incident pattern matched" in verdict
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{scenario.name}.png", full_page=False)
    page.close()


def test_script_payloads_in_a_log_stay_text(browser, tmp_path):
    payloads = [
        "<script>window.__pwned=1</script>",
        "<img/src=x/onerror=window.__pwned=2>",
        '"><svg/onload=window.__pwned=3>',
    ]
    lines = ["5/13/00 2:36:27 PM : A connection was accepted from 203.0.113.7."]
    lines.append(f"5/13/00 2:36:27 PM : <<< HELO {payloads[0]}")
    lines.append("5/13/00 2:36:27 PM : >>> 250 OK")
    lines.append(f"5/13/00 2:36:28 PM : <<< MAIL FROM:<{payloads[1]}@x.example>")
    lines.append("5/13/00 2:36:28 PM : >>> 250 OK")
    for i, payload in enumerate(payloads):
        lines.append(f"5/13/00 2:36:2{9 - i} PM : <<< RCPT TO:<{payload}@far{i}.example>")
        lines.append(f"5/13/00 2:36:2{9 - i} PM : >>> 550 Relaying is prohibited {payload}")
    (tmp_path / "evidence").mkdir()
    (tmp_path / "evidence" / "L0000001.LOG").write_text("\r\n".join(lines) + "\r\n")
    (tmp_path / "evidence" / "gal.csv").write_text(
        "Display Name,E-mail Address\nAnn,ann@local.example\n"
    )
    visit = Visit(browser, _report(tmp_path / "evidence", tmp_path / "report.html"))
    page = visit.page
    # The refused relay attempts are a finding, so the payloads reach cards and hovers.
    assert page.locator('.finding[data-rule="relay-probing"]').count() == 1
    assert "window.__pwned" in page.locator(".finding").inner_text()
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.evaluate("document.querySelectorAll('img[src=x], svg[onload]').length") == 0
    # The refused-recipients table shows them as text too (its cells are textContent).
    assert payloads[2] in page.locator("#dt-refused tbody").inner_text()
    assert visit.errors == [] and visit.requests == [] and visit.dialogs == []
    # Hover the session's marker: its label shows the payloads as text.
    point = page.locator("#timeline .cartesianlayer .scatterlayer .point").first
    point.scroll_into_view_if_needed()
    box = point.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector("#timeline .hoverlayer .hovertext")
    label = page.locator("#timeline .hoverlayer").text_content()
    assert "<script>window.__pwned=1</script>" in label
    assert page.evaluate("typeof window.__pwned") == "undefined"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "hostile-log.png", full_page=False)
    page.close()


def test_no_chart_button_reaches_any_network_address(browser, tmp_path):
    # Every modebar button of every chart is clicked: no request leaves file:, data:,
    # blob: or about:, and no window opens (plotly's share and Chart Studio paths
    # would send the chart's data, host names and addresses, to a cloud service).
    scenario = SAMPLES / "q256856-relay-prohibited-local"
    visit = Visit(browser, _report(scenario, tmp_path / "report.html"))
    page = visit.page
    opened: list[str] = []
    page.context.on("page", lambda p: opened.append(p.url))
    charts = page.locator(".js-plotly-plot")
    assert charts.count() >= 3
    clicked = 0
    for i in range(charts.count()):
        chart = charts.nth(i)
        chart.scroll_into_view_if_needed()
        chart.hover()
        buttons = chart.locator(".modebar-btn")
        titles = buttons.evaluate_all("bs => bs.map(b => b.getAttribute('data-title'))")
        assert not any("Cloud" in (t or "") or "Chart Studio" in (t or "") for t in titles)
        for j in range(buttons.count()):
            chart.hover()
            buttons.nth(j).click(force=True)
            clicked += 1
    page.wait_for_timeout(500)
    assert clicked > 0
    assert visit.requests == [] and opened == [] and visit.dialogs == []
    assert visit.errors == []
    page.close()


def _probes(folder: Path, clients: int = 60) -> Path:
    """An IMS log of ``clients`` relay probes from 203.0.113.1.., 1, 6 or 11 refused
    RCPTs each, whose HELO, sender and recipients start like spreadsheet formulas."""
    lines = []
    for i in range(clients):
        t = f"5/13/00 2:{10 + i // 60:02d}:{i % 60:02d} PM"
        lines += [
            f"{t} : A connection was accepted from 203.0.113.{i + 1}.",
            f"{t} : <<< HELO =probe{i}",
            f"{t} : >>> 250 OK",
            f"{t} : <<< MAIL FROM:<@sender{i}@x.example>",
            f"{t} : >>> 250 OK",
        ]
        for k in range(1 + (i % 3) * 5):
            lines += [
                f"{t} : <<< RCPT TO:<=1+{k}@far{i}.example>",
                f"{t} : >>> 550 Relaying is prohibited",
            ]
        lines.append(f"{t} : <<< QUIT")
    folder.mkdir()
    (folder / "L0000001.LOG").write_text("\r\n".join(lines) + "\r\n")
    (folder / "gal.csv").write_text("Display Name,E-mail Address\nAnn,ann@local.example\n")
    return folder


class Grid:
    """One of the page's tables, as an investigator uses it."""

    def __init__(self, page, id: str) -> None:
        self.page, self.root = page, page.locator(f"#dt-{id}")
        self.labels = self.root.locator("thead th").all_inner_texts()

    def column(self, label: str) -> list[str]:
        j = self.labels.index(label)
        return self.root.locator("tbody tr").evaluate_all(
            f"rows => rows.map(r => r.cells[{j}] ? r.cells[{j}].textContent : null)"
        )

    def rows(self) -> int:
        return self.root.locator("tbody tr td:not(.dt-none)").count() // len(self.labels)

    @property
    def matching(self) -> int:
        return int(self.root.get_attribute("data-matching"))

    @property
    def page_number(self) -> int:
        return int(self.root.get_attribute("data-page"))

    def search(self, text: str) -> None:
        box = self.root.locator(".dt-search")
        box.fill("")
        box.press_sequentially(text)  # as one types: no Enter

    def sort(self, label: str) -> None:
        self.root.locator("thead th").nth(self.labels.index(label)).locator("button").click()

    def go(self, title: str) -> None:
        self.root.locator(f'.dt-pager button[title="{title}"]').click()

    def export(self) -> tuple[str, list[list[str]]]:
        with self.page.expect_download() as info:
            self.root.locator(".dt-csv").click()
        download = info.value
        text = Path(download.path()).read_text(encoding="utf-8-sig")
        return download.url, list(csv.reader(text.splitlines()))


def test_tables_search_sort_page_and_export_the_rows_that_match(browser, tmp_path):
    evidence = _probes(tmp_path / "evidence")
    frames = ingest([evidence])
    refused = frames.recipients.filter(pl.col("accepted") == False)  # noqa: E712
    assert refused.height > 2 * html.tables.PAGE_SIZE  # enough rows for several pages
    visit = Visit(browser, _report(evidence, tmp_path / "report.html"))
    page = visit.page

    grid = Grid(page, "refused")
    size = html.tables.PAGE_SIZE
    assert (grid.matching, grid.rows(), grid.page_number) == (refused.height, size, 1)
    times = refused.sort("ts")["ts"].dt.strftime("%Y-%m-%d %H:%M:%S").to_list()
    assert grid.column("Time") == times[:size]  # the times travel as seconds: decoded
    first = grid.column("To")
    grid.go("Next page")
    assert grid.page_number == 2 and grid.rows() == size and grid.column("To") != first
    grid.go("Last page")
    pages = -(-refused.height // size)
    assert grid.page_number == pages and grid.rows() == refused.height - (pages - 1) * size

    # The search filters as one types, across every column; key:value in one column.
    grid.search("far7.example")
    wanted = refused.filter(pl.col("rcpt").str.contains("far7.example", literal=True))
    assert grid.page_number == 1 and grid.matching == wanted.height == grid.rows() > 0
    assert all("far7.example" in to for to in grid.column("To"))
    marked = set(grid.root.locator("tbody mark").all_inner_texts())
    assert marked == {"far7.example"}  # what matched is marked, as text
    grid.search("from:sender7@")
    assert grid.matching == wanted.height
    grid.search("to:sender7@")  # the sender's address is in no To cell
    assert grid.matching == 0 and "No row matches" in grid.root.locator("tbody").inner_text()

    # The rows that match, exported in the page: a blob: download, formulas as text.
    grid.search("far7.example")
    url, table = grid.export()
    assert url.startswith("blob:")
    assert table[0] == grid.labels and len(table) - 1 == wanted.height
    rows = [dict(zip(table[0], row, strict=True)) for row in table[1:]]
    assert sorted(r["To"] for r in rows) == sorted("'" + t for t in wanted["rcpt"].to_list())
    assert all(r["From"] == "'@sender7@x.example" and r["Code"] == "550" for r in rows)

    # Numbers sort as numbers (6 before 11), addresses in natural order (.9 before .10).
    sessions = Grid(page, "sessions")
    counts = sorted(frames.sessions["rcpt_total"].to_list())
    sessions.sort("RCPTs")
    assert [int(n) for n in sessions.column("RCPTs")] == counts[:size]
    sessions.sort("RCPTs")
    assert [int(n) for n in sessions.column("RCPTs")] == counts[::-1][:size]
    sessions.sort("Remote address")
    ips = sorted(frames.sessions["remote_ip"].to_list(), key=ipaddress.ip_address)
    assert sessions.column("Remote address") == ips[:size]
    assert sessions.root.locator("thead th").nth(3).get_attribute("aria-sort") == "ascending"

    # A finding's evidence table pages too.
    evidence_grid = Grid(page, "evidence-0")
    carried = evidence_grid.matching
    assert carried > html.tables.EVIDENCE_PAGE_SIZE
    evidence_grid.go("Next page")
    assert evidence_grid.rows() == carried - html.tables.EVIDENCE_PAGE_SIZE

    assert visit.errors == [] and visit.requests == [] and visit.dialogs == []
    ARTIFACTS.mkdir(exist_ok=True)
    grid.root.screenshot(path=ARTIFACTS / "table-refused.png")
    page.close()
