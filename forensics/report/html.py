"""The HTML dashboard: one self-contained file, readable offline and when mailed.

Rendered with Jinja2 and autoescaping on, so log content (host names, addresses,
reply texts, file names) never becomes markup. plotly.js is embedded once; the
figures and the tables' rows travel as JSON in non-executable script elements, and
the tables' script (tablejs.py) sets every cell with textContent. A Content-Security-Policy
allows exactly the three inline scripts by hash and no network address at all, so
even a payload that slipped past the escaping could neither run nor call out.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import markupsafe
import plotly.offline

from forensics.core.errors import OutputError
from forensics.core.findings import SEVERITIES, Finding, articles
from forensics.core.frames import Frames
from forensics.core.printable import printable
from forensics.derive.window import OVERRIDE as WINDOW
from forensics.report import tables, traffic
from forensics.report.figures import build_figures
from forensics.report.json import with_evidence_note
from forensics.report.summary import Summary
from forensics.report.tablejs import SCRIPT as _TABLES

if TYPE_CHECKING:
    import plotly.graph_objects as go


def _shown(value: Any) -> Any:
    """What a template shows of a value: text with its control characters written
    out (ESC as \\x1b, as on the terminal and in the Markdown), markup as it is."""
    return printable(value) if type(value) is str else value


_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("forensics.report", "templates"),
    autoescape=True,  # every template, whatever its name
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    finalize=_shown,
)

_CODE_SPAN = re.compile(r"`([^`]+)`")


def _step(text: str) -> markupsafe.Markup:
    """A resolution step or a cause, escaped, with its `command` spans set as code
    (they are knowledge data, filled with facts from the evidence: everything is
    escaped first, so a backquote in a log makes at most a code span)."""
    escaped = str(markupsafe.escape(text))
    return markupsafe.Markup(_CODE_SPAN.sub(r"<code>\1</code>", escaped))


_ENV.filters["step"] = _step

# Draws every figure from its JSON, once plotly.js has loaded. No button of a chart
# may reach a network address: plotly's share, Chart Studio and logo links are off.
_INIT = """
document.querySelectorAll('script[type="application/json"][data-figure]').forEach(function (s) {
  var fig = JSON.parse(s.textContent);
  var div = document.getElementById(s.dataset.figure);
  Plotly.newPlot(div, fig.data, fig.layout, {
    responsive: true, displaylogo: false, showLink: false, showSendToCloud: false,
    showEditInChartStudio: false, plotlyServerURL: "",
    modeBarButtonsToRemove: ["sendDataToCloud", "editInChartStudio"]
  });
});
"""


@cache
def _plotly_js() -> str:
    return plotly.offline.get_plotlyjs()


def _hash(script: str) -> str:
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def _figure_json(fig: go.Figure) -> str:
    """The figure as JSON that cannot end or alter its script element: every "<"
    (only ever inside a JSON string) becomes the escape \\u003c."""
    return fig.to_json().replace("<", "\\u003c")


def render(frames: Frames, summary: Summary, found: list[Finding], *, version: str) -> str:
    figures = build_figures(frames, found)
    findings = [with_evidence_note(f.as_json()) for f in found]
    # Each finding's evidence table rides on its card's dict (for the template only).
    evidence = [tables.evidence(i, f) for i, f in enumerate(findings)]
    for f, table in zip(findings, evidence, strict=True):
        f["table"] = table
    refused, sessions, inputs = (
        tables.refused(frames), tables.sessions(frames), tables.inputs(frames)
    )  # fmt: skip
    # The pflogsumm view: per domain, client and hour, the senders and recipients refused most.
    summary_tables = tables.traffic(traffic.summarize(frames))
    by_severity = {s: sum(f.severity == s for f in found) for s in SEVERITIES}
    worst = next((f for f in findings if f["severity"] in ("critical", "high", "medium")), None)
    plotly_js = _plotly_js()
    # plotly's WebGL traces compile shaders with Function(): 'unsafe-eval' lets the
    # embedded library do that; no inline script runs but these three, by hash.
    csp = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data: blob:; "
        "connect-src 'none'; form-action 'none'; base-uri 'none'; frame-src 'none'; "
        f"script-src {_hash(plotly_js)} {_hash(_INIT)} {_hash(_TABLES)} 'unsafe-eval'"
    )
    return _ENV.get_template("dashboard.html.j2").render(
        csp=csp,
        plotly_js=plotly_js,
        init_js=_INIT,
        figures={name: _figure_json(fig) for name, fig in figures.as_dict().items()},
        binned=figures.binned,
        summary=summary,
        findings=findings,
        by_severity=by_severity,
        worst=worst,
        inputs=inputs,
        sessions=sessions,
        formats=summary.files_by_format,
        domains=frames.domains.sort("domain").to_dicts(),
        assumptions=frames.assumptions.to_dicts(),
        # The time window the run was cut to (--since/--until), named at the top.
        window=next(
            (a["what"] for a in frames.assumptions.to_dicts() if a["override"] == WINDOW),
            None,
        ),
        unparsed_total=summary.unparsed,
        version=version,
        articles=articles(),
        refused=refused,
        traffic=summary_tables,
        table_data=tables.data_json([*evidence, refused, *summary_tables, sessions, inputs]),
        table_js=_TABLES,
    )


def write(path: Path, html: str) -> None:
    try:
        path.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise OutputError(
            f"cannot write the report to {path}: {exc.strerror or exc}; "
            "choose another place with -o"
        ) from exc


def figure_data(html: str) -> dict[str, Any]:
    """The figures a rendered report carries (for tests and tools)."""
    out = {}
    marker = '<script type="application/json" data-figure="'
    for part in html.split(marker)[1:]:
        name, rest = part.split('"', 1)
        body = rest.split(">", 1)[1].split("</script>", 1)[0]
        out[name] = json.loads(body)
    return out


def table_data(html: str) -> dict[str, dict[str, Any]]:
    """The tables a rendered report carries, by id, each with its rows decoded (for
    tests and tools)."""
    marker = '<script type="application/json" id="table-data">'
    doc = json.loads(html.split(marker, 1)[1].split("</script>", 1)[0])
    out = {}
    for table in doc["tables"]:
        columns = [tables.decode(c) for c in table["data"]]
        out[table["id"]] = {**table, "rows": [list(r) for r in zip(*columns, strict=True)]}
    return out
