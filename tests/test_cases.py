"""Data-driven reader cases: every folder ``tests/cases/<format>/<case>/`` is a test.

A case folder holds the input file(s) and ``expected.json``: the key columns of the
frames, written by hand from reading the input (``tests/cases/README.md`` gives its
shape). The inputs are copied to a temporary folder (so that file times can be set,
and the inputs table names them relative to the case), read by ``ingest`` with each
engine (the vectorised fast path and pyparsing's exact path must agree), and held to
what ``expected.json`` says: each input's format and counts, the row count of each
frame it names, and each record it spells out. Adding a case is adding a folder.

The last test here is the suite's own rule that, in CI, a test needing the shared
corpus fails rather than skips when the corpus is absent (tests/conftest.py).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from forensics.core.frames import ALL, Frames
from forensics.ingest import ingest
from forensics.readers import registry
from tests.conftest import CORPUS_ABSENT

# For the CI rule's test only: it runs pytest on a test file of its own.
pytest_plugins = ["pytester"]

CASES = Path(__file__).resolve().parent / "cases"
EXPECTED = "expected.json"
# What expected.json may hold, and the options it may give ``ingest``.
TOP_KEYS = {"about", "options", "mtimes", "inputs", "frames", "records"}
OPTIONS = {"date_order", "local_domains", "year"}
ENGINES = ("fast", "exact")


def case_dirs() -> list[Path]:
    return sorted(p.parent for p in CASES.glob(f"*/*/{EXPECTED}"))


def input_files(case: Path) -> list[Path]:
    """Every file of the case but expected.json (and hidden files), in name order."""
    return sorted(
        p
        for p in case.rglob("*")
        if p.is_file() and p.name != EXPECTED and not p.name.startswith(".")
    )


def stage(case: Path, spec: dict[str, Any], tmp: Path) -> Path:
    """The case's inputs copied under ``tmp`` (relative paths kept), with the
    modification times ``mtimes`` gives (local time, as file times are read)."""
    root = tmp / case.name
    for path in input_files(case):
        target = root / path.relative_to(case)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    for name, when in spec.get("mtimes", {}).items():
        stamp = dt.datetime.fromisoformat(when).timestamp()
        os.utime(root / name, (stamp, stamp))
    return root


def typed(value: Any, dtype: pl.DataType) -> Any:
    """A JSON value as the frame holds it: ISO text in a time column is a datetime."""
    if value is not None and isinstance(dtype, pl.Datetime):
        return dt.datetime.fromisoformat(value)
    return value


def matching(frame: pl.DataFrame, record: dict[str, Any]) -> pl.DataFrame:
    conditions = [
        pl.col(name).is_null() if value is None else pl.col(name) == value
        for name, value in record.items()
    ]
    return frame.filter(*conditions) if conditions else frame


def near(frame: pl.DataFrame, record: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows that share the record's place (source and line), to show on a mismatch."""
    place = {k: record[k] for k in ("source", "line") if k in record and k in frame.columns}
    rows = matching(frame, place) if place else frame.head(5)
    return rows.select([c for c in record if c in frame.columns]).to_dicts()


def position(name: str, frame: pl.DataFrame, record: dict[str, Any], default: str | None) -> int:
    """The row of ``frame`` that ``record`` describes: exactly one row must match."""
    unknown = set(record) - set(frame.columns)
    assert not unknown, f"{name}: no such columns {sorted(unknown)}"
    if "source" in frame.columns and "source" not in record and default is not None:
        record = {"source": default, **record}
    wanted = {k: typed(v, frame.schema[k]) for k, v in record.items()}
    hits = matching(frame.with_row_index("_row"), wanted)
    assert hits.height == 1, (
        f"{name}: {hits.height} rows match {record}; rows at the same place: {near(frame, wanted)}"
    )
    return int(hits["_row"][0])


def check(frames: Frames, spec: dict[str, Any], inputs: list[str]) -> None:
    """``frames`` held to ``spec`` (expected.json) for a case of ``inputs``."""
    table = {row["path"]: row for row in frames.inputs.to_dicts()}
    assert sorted(table) == sorted(inputs), "every input file is in the inputs table"
    assert sorted(spec["inputs"]) == sorted(inputs), "expected.json lists every input file"
    for path, want in spec["inputs"].items():
        want = {k: typed(v, frames.inputs.schema[k]) for k, v in want.items()}
        got = {k: table[path][k] for k in want}
        assert got == want, f"inputs row of {path}"
    for name, height in spec.get("frames", {}).items():
        assert name in ALL, f"no frame named {name}"
        assert getattr(frames, name).height == height, f"rows of {name}"
    default = inputs[0] if len(inputs) == 1 else None
    for name, records in spec.get("records", {}).items():
        assert name in ALL, f"no frame named {name}"
        rows = [position(name, getattr(frames, name), r, default) for r in records]
        # Listed in the frame's order: the order of events is what sessions are made of.
        assert rows == sorted(rows) and len(set(rows)) == len(rows), (
            f"{name}: the records are listed in the frame's order (rows {rows})"
        )


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", case_dirs(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_case(case: Path, engine: str, tmp_path: Path):
    spec = json.loads((case / EXPECTED).read_text(encoding="utf-8"))
    assert set(spec) <= TOP_KEYS, f"unknown keys {sorted(set(spec) - TOP_KEYS)}"
    options = spec.get("options", {})
    assert set(options) <= OPTIONS, f"unknown options {sorted(set(options) - OPTIONS)}"
    assert case.parent.name in registry.format_names(), "a case folder sits under its format"
    root = stage(case, spec, tmp_path)
    inputs = [p.relative_to(case).as_posix() for p in input_files(case)]
    frames = ingest([root], engine=engine, **options)
    check(frames, spec, inputs)
    formats = set(frames.inputs["format"])
    assert case.parent.name in formats, "a case holds at least one file of its format"


def test_every_format_has_a_case():
    """A new format comes with its cases (forensics/readers/registry.py says so)."""
    covered = {p.parent.name for p in case_dirs()}
    assert set(registry.format_names()) <= covered


# --- In CI, a test that needs the shared corpus fails where it would skip ---------

CORPUS_TESTS = """
import pytest
from pathlib import Path

from tests.conftest import corpus

MISSING = Path({missing!r})


@pytest.fixture
def evidence():
    return corpus(MISSING)


def test_reads_the_corpus():
    corpus(MISSING)


def test_reads_it_in_a_fixture(evidence):
    pass


def test_skips_for_another_reason():
    pytest.skip("Debian's chromium is not installed here")
"""


@pytest.mark.parametrize(
    ("ci", "outcomes"),
    [
        (None, {"skipped": 3}),
        ("false", {"skipped": 3}),
        # The body's skip fails, the fixture's is an error at set-up; others still skip.
        ("true", {"failed": 1, "errors": 1, "skipped": 1}),
    ],
)
def test_corpus_skips_fail_where_ci_is_set(pytester, monkeypatch, tmp_path, ci, outcomes):
    missing = str(tmp_path / "no-corpus")
    pytester.makeconftest(
        "from tests.conftest import pytest_make_collect_report, pytest_runtest_makereport\n"
        '__all__ = ["pytest_make_collect_report", "pytest_runtest_makereport"]\n'
    )
    pytester.makepyfile(test_corpus=CORPUS_TESTS.format(missing=missing))
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-rA")
    result.assert_outcomes(**outcomes)
    words = "\n".join(result.outlines)
    assert f"{CORPUS_ABSENT} {missing}" in words
    assert "chromium is not installed" in words
    assert ("must run there, not skip" in words) == (ci == "true")
