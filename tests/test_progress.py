"""Progress: every stage is told (reading, parsing, deriving, rules, report; a fleet's
hosts and writing), shown by rich on a terminal, and nothing at all is shown with -q
or when stderr is not a terminal. No test here asserts a time."""

from __future__ import annotations

import io
import re
import threading
from typing import ClassVar

from click.testing import CliRunner
from rich.console import Console

from forensics import cli as cli_module
from forensics.cli import cli
from forensics.core.errors import EXIT_OK
from forensics.core.progress import DERIVING_STEPS, STAGES, Bar
from forensics.ingest import ingest
from tests.conftest import SAMPLES

IMS = SAMPLES / "q256856-relay-prohibited-local"  # 300-odd files, read in batches
POSTFIX = SAMPLES / "postfix-relay-after-change"
_ANSI = re.compile(r"\x1b\[")


class Recorder:
    """A Progress that writes down every call (from any thread)."""

    made: ClassVar[list[Recorder]] = []

    def __init__(self, console: object = None, totals: dict[str, float] | None = None) -> None:
        self.calls: list[tuple[str, str, float | None]] = []
        self.totals = totals or {}
        self._lock = threading.Lock()
        Recorder.made.append(self)

    def begin(self, stage: str, total: float | None = None) -> None:
        with self._lock:
            self.calls.append(("begin", stage, total))

    def advance(self, stage: str, amount: float = 1) -> None:
        with self._lock:
            self.calls.append(("advance", stage, amount))

    def end(self, stage: str) -> None:
        with self._lock:
            self.calls.append(("end", stage, None))

    def pause(self) -> None:
        pass

    close = pause

    def of(self, stage: str, what: str) -> list[float | None]:
        return [n for call, s, n in self.calls if s == stage and call == what]


def test_ingest_tells_every_stage_with_the_bytes_and_the_readings():
    told = Recorder()
    frames = ingest([IMS], progress=told)
    for stage in ("reading", "parsing", "deriving"):
        assert told.of(stage, "begin") and told.of(stage, "end") == [None], stage
    # Reading advances by every file's bytes, one call a file.
    assert sum(told.of("reading", "advance")) == frames.inputs["bytes"].sum()
    assert len(told.of("reading", "advance")) == frames.inputs.height
    # Parsing: the total is the readings counted, and each of them is told once.
    total = told.of("parsing", "begin")[-1]
    assert total is not None and total >= 2  # the IMS batches and the other readers
    assert len(told.of("parsing", "advance")) == total
    assert told.of("deriving", "begin") == [DERIVING_STEPS]
    assert len(told.of("deriving", "advance")) == DERIVING_STEPS
    # Each stage ends after its last step.
    last = {s: i for i, (call, s, _) in enumerate(told.calls) if call == "advance"}
    ends = {s: i for i, (call, s, _) in enumerate(told.calls) if call == "end"}
    assert all(ends[s] > last[s] for s in ("reading", "parsing", "deriving"))


def _watched(monkeypatch) -> None:
    """stderr is a terminal, every input is large enough, and the bar records."""
    Recorder.made.clear()
    monkeypatch.setattr(cli_module, "_stderr_is_terminal", lambda: True)
    monkeypatch.setattr(cli_module, "PROGRESS_FROM_BYTES", 1)
    monkeypatch.setattr(cli_module, "Bar", Recorder)


def test_analyze_tells_every_stage_through_the_report(tmp_path, monkeypatch):
    _watched(monkeypatch)
    args = ["analyze", str(POSTFIX), "-o", str(tmp_path / "r.html")]
    result = CliRunner().invoke(cli, [*args, "--markdown", str(tmp_path / "r.md")])
    assert result.exit_code == EXIT_OK, result.output
    (told,) = Recorder.made
    for stage in ("reading", "parsing", "deriving", "rules", "report"):
        assert told.of(stage, "begin") and told.of(stage, "advance"), stage
    assert told.totals["reading"] == sum(
        p.stat().st_size for p in POSTFIX.rglob("*") if p.is_file()
    )
    assert told.of("rules", "end") == [None]
    assert told.of("report", "begin") == [2] and len(told.of("report", "advance")) == 2


def test_parse_of_a_fleet_tells_each_host_and_its_writing(tmp_path, monkeypatch):
    _watched(monkeypatch)
    args = ["parse", str(POSTFIX), str(IMS), "--out", str(tmp_path / "d"), "--dataset"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == EXIT_OK, result.output
    (told,) = Recorder.made
    sizes = [sum(p.stat().st_size for p in f.rglob("*") if p.is_file()) for f in (POSTFIX, IMS)]
    assert told.of("hosts", "begin") == [sum(sizes)]
    assert told.of("hosts", "advance") == sizes
    # Each host's reading is measured against that host's bytes.
    assert [n for n in told.of("reading", "begin")] == sizes
    assert len(told.of("writing", "advance")) == 2
    for stage in ("reading", "parsing", "deriving"):
        assert len(told.of(stage, "end")) == 2, stage


def test_no_display_with_quiet_or_without_a_terminal(tmp_path, monkeypatch):
    _watched(monkeypatch)
    out = ["-o", str(tmp_path / "r.html")]
    quiet = CliRunner().invoke(cli, ["analyze", str(POSTFIX), *out, "-q"])
    assert quiet.exit_code == EXIT_OK and Recorder.made == []
    parse = ["parse", str(POSTFIX), "--out", str(tmp_path / "f"), "-q"]
    assert CliRunner().invoke(cli, parse).exit_code == EXIT_OK and Recorder.made == []
    # stderr not a terminal (the real check, as in a pipe or CI): nothing is made, and
    # nothing but the command's own lines reach stderr.
    monkeypatch.undo()
    monkeypatch.setattr(cli_module, "PROGRESS_FROM_BYTES", 1)
    piped = CliRunner().invoke(cli, ["analyze", str(POSTFIX), *out])
    assert piped.exit_code == EXIT_OK
    assert not _ANSI.search(piped.stderr) and "Reading evidence" not in piped.stderr
    assert not any(label in piped.output for label, _ in STAGES.values())


def test_the_bar_shows_each_stage_with_what_is_done():
    screen = io.StringIO()
    bar = Bar(Console(file=screen, force_terminal=True, width=160), {"reading": 3_000_000})
    bar.begin("reading")
    for _ in range(3):
        bar.advance("reading", 1_000_000)
    bar.end("reading")
    bar.begin("parsing", 4)
    bar.advance("parsing")
    bar.pause()
    shown = screen.getvalue()
    assert "Reading evidence" in shown and "3 files, 3.0 MB of 3.0 MB" in shown
    assert "Parsing" in shown and "1/4 readings" in shown and "ETA" in shown
    # Paused, then told again: shown again, the finished stage still there.
    screen.truncate(0)
    bar.advance("parsing")
    bar.close()
    assert "2/4 readings" in screen.getvalue() and "Reading evidence" in screen.getvalue()


def test_a_stage_begun_again_starts_over_in_its_own_words():
    # A fleet's next host: its reading measured against its own bytes, from zero.
    screen = io.StringIO()
    bar = Bar(Console(file=screen, force_terminal=True, width=160))
    bar.begin("reading", 3_000_000)
    bar.advance("reading", 3_000_000)
    bar.end("reading")
    bar.begin("reading", 5_000_000)
    bar.advance("reading", 1_000_000)
    screen.truncate(0)
    bar.close()
    assert "1 files, 1.0 MB of 5.0 MB" in screen.getvalue()


def test_many_small_advances_are_all_counted():
    # Handed to rich in bunches (an update costs it microseconds), none lost.
    screen = io.StringIO()
    bar = Bar(Console(file=screen, force_terminal=True, width=160))
    bar.begin("reading", 40_000_000)
    for _ in range(40_000):
        bar.advance("reading", 1000)
    screen.truncate(0)
    bar.close()
    assert "40,000 files, 40.0 MB of 40.0 MB" in screen.getvalue()
