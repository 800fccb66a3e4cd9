"""Outputs never touch the evidence: refused over inputs, among inputs or through
links, and written whole or not at all."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from forensics.cli import cli
from forensics.core import outputs
from forensics.core.errors import EXIT_OK, EXIT_USAGE
from forensics.ingest import ingest
from tests.conftest import SAMPLES

SCENARIO = SAMPLES / "healthy-baseline"


@pytest.fixture
def evidence(tmp_path: Path) -> Path:
    folder = tmp_path / "evidence"
    shutil.copytree(SCENARIO, folder)
    return folder


def _state(folder: Path) -> dict[str, tuple[str, int]]:
    """Every file below ``folder``: its hash and modification time."""
    return {
        str(p.relative_to(folder)): (
            hashlib.sha256(p.read_bytes()).hexdigest(),
            p.stat().st_mtime_ns,
        )
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def run(*args: str, cwd: Path | None = None):
    runner = CliRunner()
    if cwd is None:
        return runner.invoke(cli, list(args))
    old = Path.cwd()
    os.chdir(cwd)
    try:
        return runner.invoke(cli, list(args))
    finally:
        os.chdir(old)


@pytest.mark.parametrize("option", ["-o", "--json", "--markdown"])
def test_an_output_naming_an_input_file_is_refused_and_the_file_kept(evidence, tmp_path, option):
    victim = evidence / "directory" / "gal-export.csv"
    before = _state(evidence)
    extra = [] if option == "-o" else ["-o", str(tmp_path / "r.html")]
    result = run("analyze", str(evidence), option, str(victim), *extra)
    assert result.exit_code == EXIT_USAGE
    assert "is an input file" in result.output
    assert _state(evidence) == before


def test_an_output_inside_the_evidence_folder_is_refused(evidence):
    before = _state(evidence)
    result = run("analyze", str(evidence), "-o", str(evidence / "report.html"))
    assert result.exit_code == EXIT_USAGE
    assert "inside the evidence folder" in result.output
    assert _state(evidence) == before


def test_a_planted_link_named_like_the_default_report_is_not_followed(evidence, tmp_path):
    target = tmp_path / "precious.txt"
    target.write_text("the analyst's own file\n")
    (evidence / "forensics-report.html").symlink_to(target)
    result = run("analyze", ".", cwd=evidence)
    assert result.exit_code == EXIT_USAGE
    assert "symbolic link" in result.output
    assert target.read_text() == "the analyst's own file\n"


def test_parse_out_among_the_evidence_is_refused(evidence):
    result = run("parse", str(evidence), "--out", str(evidence / "frames"))
    assert result.exit_code == EXIT_USAGE
    assert not (evidence / "frames").exists()


def test_json_to_stdout_alone_writes_no_report(evidence, tmp_path):
    result = run("analyze", str(evidence), "-q", "--json", "-", cwd=tmp_path)
    assert result.exit_code == EXIT_OK
    assert result.output.lstrip().startswith("{")
    assert not (tmp_path / "forensics-report.html").exists()


def test_an_interrupted_write_leaves_the_old_file_whole(tmp_path, monkeypatch):
    path = tmp_path / "findings.json"
    path.write_text("old\n")

    def broken(fd: int, mode: int) -> None:
        raise KeyboardInterrupt  # as Ctrl-C would, after part of the data is written

    monkeypatch.setattr(os, "fchmod", broken)
    with pytest.raises(KeyboardInterrupt):
        outputs.write_text(path, "new\n" * 1000)
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["findings.json"]


def test_a_written_file_replaces_a_link_instead_of_following_it(tmp_path):
    target = tmp_path / "target.txt"
    target.write_text("keep\n")
    link = tmp_path / "out.txt"
    link.symlink_to(target)
    outputs.write_text(link, "new\n")
    assert target.read_text() == "keep\n"
    assert not link.is_symlink() and link.read_text() == "new\n"


def test_the_manifest_lists_every_file_and_no_file_name_becomes_a_formula(tmp_path):
    import csv

    from forensics.report import manifest

    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "=HYPERLINK(evil).log").write_text(
        "Mar 11 09:00:01 mx1 postfix/smtpd[1]: connect from a[192.0.2.1]\n"
    )
    (evidence / "notes.txt").write_text("nothing of ours\n")
    frames = ingest([evidence], year=2024)
    rows = list(csv.DictReader(manifest.render(frames).splitlines()))
    assert sorted(r["path"] for r in rows) == ["'=HYPERLINK(evil).log", "notes.txt"]
    by_path = {r["path"]: r for r in rows}
    assert (
        by_path["'=HYPERLINK(evil).log"]["sha256"]
        == frames.inputs.filter(frames.inputs["path"] == "=HYPERLINK(evil).log")["sha256"][0]
    )
    assert by_path["'=HYPERLINK(evil).log"]["format"] == "postfix"
