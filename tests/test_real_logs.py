"""Real logs, read as a mail admin would read them (tests/fixtures/real/).

Each folder holds a few real log files found in public places (their origin, commit
or URL and licence are in tests/fixtures/real/SOURCES.md) and an ``expected.toml``
written by hand after reading the logs: the findings an admin would conclude (rule
and subject), which must appear; no other finding of severity low or above; the
counts that matter for the story; the clients of the sessions; and, per file, the
format, the lines, records, unparsed lines (with their reason) and the lines of other
programs, which must add up. Where the tool disagrees with the admin, the case is a
strict xfail naming the bug, so it flips when the bug is fixed.

The fixtures are evidence: they are only read, every output goes to tmp_path."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner

from forensics.cli import cli
from forensics.ingest import ingest
from tests.conftest import FIXTURES

REAL = FIXTURES / "real"
NOT_EVIDENCE = {"expected.toml"}
QUIET_SEVERITIES = ("critical", "high", "medium", "low")


def _cases() -> list[Path]:
    return sorted(p for p in REAL.iterdir() if (p / "expected.toml").is_file())


def _expected(case: Path) -> dict[str, Any]:
    return tomllib.loads((case / "expected.toml").read_text())


def _evidence(case: Path) -> list[Path]:
    return sorted(p for p in case.iterdir() if p.is_file() and p.name not in NOT_EVIDENCE)


def _params(part: str) -> list[Any]:
    """One case per folder; a strict xfail where the expectation ``part`` names a bug."""
    params = []
    for case in _cases():
        expected = _expected(case)
        reasons = []
        if part == "files":
            reasons = [f["xfail"] for f in expected.get("files", {}).values() if "xfail" in f]
        elif "xfail" in expected.get(part, {}):
            reasons = [expected[part]["xfail"]]
        marks = [pytest.mark.xfail(strict=True, reason="; ".join(reasons))] if reasons else []
        params.append(pytest.param(case, id=case.name, marks=marks))
    return params


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """``analyze`` run once per folder, on its evidence files: the JSON document."""
    done = {}
    for case in _cases():
        out = tmp_path_factory.mktemp(case.name)
        args = ["analyze", *map(str, _evidence(case))]
        args += ["--json", str(out / "findings.json"), "-o", str(out / "report.html"), "-q"]
        result = CliRunner().invoke(cli, args, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        done[case.name] = json.loads((out / "findings.json").read_text())
    return done


def test_there_are_real_logs_to_read() -> None:
    cases = _cases()
    assert len(cases) >= 10
    sources = (REAL / "SOURCES.md").read_text()
    for case in cases:
        for path in _evidence(case):
            assert f"{case.name}/{path.name}" in sources, f"{path} has no row in SOURCES.md"


@pytest.mark.parametrize("case", _params("finding"))
def test_the_findings_an_admin_concludes_and_nothing_else(
    case: Path, analysed: dict[str, dict[str, Any]]
) -> None:
    expected = _expected(case)
    found = analysed[case.name]["findings"]
    wanted = {(f["rule"], f["subject"]) for f in expected.get("finding", [])}
    got = {(f["rule"], f["subject"]) for f in found}
    assert wanted <= got, f"missing {wanted - got}; the tool said {got}"
    loud = {
        (f["rule"], f["subject"], f["severity"])
        for f in found
        if f["severity"] in QUIET_SEVERITIES and (f["rule"], f["subject"]) not in wanted
    }
    assert loud == set(), "findings no admin would conclude from these logs"


@pytest.mark.parametrize("case", _params("counts"))
def test_the_counts_that_tell_the_story(case: Path, analysed: dict[str, dict[str, Any]]) -> None:
    wanted = {k: v for k, v in _expected(case).get("counts", {}).items() if k != "xfail"}
    counts = analysed[case.name]["counts"]
    assert {k: counts[k] for k in wanted} == wanted


@pytest.mark.parametrize(
    "case", [p for p in _params("sessions") if "sessions" in _expected(p.values[0])]
)
def test_every_session_names_its_client(case: Path) -> None:
    wanted = _expected(case)["sessions"]["remote_ips"]
    frames = ingest(_evidence(case))
    assert sorted(frames.sessions["remote_ip"].to_list(), key=str) == sorted(wanted)


def _programs(listed: str | None) -> dict[str, int]:
    """'postfix 1,217, dovecot 2' -> {'postfix': 1217, 'dovecot': 2}."""
    if not listed:
        return {}
    out: dict[str, int] = {}
    for part in listed.replace(", ", "\0").split("\0"):
        name, count = part.rsplit(" ", 1)
        out[name] = int(count.replace(",", ""))
    return out


@pytest.mark.parametrize("case", _params("files"))
def test_every_line_is_accounted_for(case: Path) -> None:
    expected = _expected(case)["files"]
    evidence = _evidence(case)
    assert sorted(expected) == sorted(p.name for p in evidence)
    frames = ingest(evidence)
    inputs = {row["path"]: row for row in frames.inputs.iter_rows(named=True)}
    unparsed = frames.unparsed
    for path in evidence:
        want, row = expected[path.name], inputs[path.name]
        text = path.read_bytes().decode("utf-8-sig").splitlines()
        # What the admin counted by hand, checked against the file itself.
        assert want["lines"] == len(text)
        blank = sum(1 for t in text if not t.strip(" \t") or t.startswith("#"))
        assert want["blank_or_comment"] == blank
        mail, other = want["mail_programs"], want["other_programs"]
        assert want["records"] + want["unparsed"] == (sum(mail.values()) or want["lines"] - blank)
        assert want["lines"] == want["records"] + want["unparsed"] + sum(other.values()) + blank
        # What the tool says.
        got = {k: row[k] for k in ("format", "lines", "records", "unparsed")}
        assert got == {k: want[k] for k in got}, path.name
        assert _programs(row["programs"]) == {**mail, **other}, path.name
        reasons = unparsed.filter(pl.col("source") == path.name)["reason"].to_list()
        assert len(reasons) == want["unparsed"]
        for needle, reason in zip(want.get("unparsed_reasons", []), reasons, strict=True):
            assert needle in reason, (path.name, reason)
