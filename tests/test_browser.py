"""The report in a real browser: Debian's Chromium driven by Playwright.

Each sample scenario's report is opened from a file URL: no console error, no
network request, the timeline drawn with its traces, the finding cards with their
KB numbers. A log carrying script payloads leaves the page's script state untouched.
Screenshots go to test-artifacts/ (look at them: the page must be clear at first
sight). CI installs Chromium (.ci/run); elsewhere, without it, these tests skip.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

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
