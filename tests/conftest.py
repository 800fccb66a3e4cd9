"""Shared test helpers: where the fixtures, samples and the external corpus are."""

from __future__ import annotations

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
