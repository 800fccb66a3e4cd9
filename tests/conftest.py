"""Shared test helpers: where the fixtures, samples and the external corpus are."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
IMS_FIXTURES = FIXTURES / "ims"
SAMPLES = ROOT / "sample_logs"
CORPUS = ROOT.parent / "shared" / "corpus"
IMS_CORPUS = CORPUS / "ims"


def corpus(path: Path) -> Path:
    """The corpus folder, or a clean skip with the reason when it is absent."""
    if not path.exists():
        pytest.skip(f"external corpus not present at {path} (see shared/corpus/SOURCES.md)")
    return path


def scenario_dirs() -> list[Path]:
    return sorted(p for p in SAMPLES.iterdir() if p.is_dir())


# Figures that conformance tests report (corpus coverage, agreement per reason):
# printed in pytest's terminal summary, so they are in every CI log.
CONFORMANCE: list[str] = []


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if CONFORMANCE:
        terminalreporter.section("conformance figures")
        for line in CONFORMANCE:
            terminalreporter.write_line(line)


# The words of every skip for an absent corpus (``corpus`` above writes them). Where
# the environment variable CI is set, such a skip fails the test instead: CI must
# run the corpus tests, and a missing corpus there is a broken set-up, not a pass.
CORPUS_ABSENT = "external corpus not present at"


def in_ci() -> bool:
    """Whether this is a CI run: CI set to anything but empty, 0, false or no."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _failed_for_absent_corpus(report: pytest.TestReport | pytest.CollectReport) -> None:
    """Turn a skip for an absent corpus into a failure, with the reason, in CI."""
    if not (report.skipped and isinstance(report.longrepr, tuple)) or not in_ci():
        return
    reason = str(report.longrepr[2])
    if CORPUS_ABSENT in reason:
        report.outcome = "failed"
        report.longrepr = (
            f"{reason.removeprefix('Skipped: ')}\n"
            "CI is set: tests that need the shared corpus must run there, not skip."
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    _failed_for_absent_corpus(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector):
    report = yield
    _failed_for_absent_corpus(report)  # a module skipped whole
    return report
