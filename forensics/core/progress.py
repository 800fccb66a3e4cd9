"""The stages of a run, told to whoever shows them.

The library tells a :class:`Progress` when each stage begins, how far it got and
when it ended; it never decides whether anything is shown. The command line gives
it a :class:`Bar` (rich) when a person watches a terminal, and nothing otherwise.
A stage is one of :data:`STAGES`; ``begin`` may be called again for a stage once its
total is known (the parsing's batches are counted while discovery goes on).
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress as RichProgress
    from rich.progress import Task, TaskID

# Stage -> (what a person reads, the unit it advances by).
STAGES: dict[str, tuple[str, str]] = {
    "reading": ("Reading evidence", "bytes"),  # every file read, hashed, decoded
    "parsing": ("Parsing", "readings"),  # every reader's (or batch's) files parsed
    "deriving": ("Deriving sessions", "steps"),  # sessions, local domains, paths, inputs
    "hosts": ("Parsing hosts", "bytes"),  # a fleet: the hosts' evidence, host by host
    "writing": ("Writing frames", "hosts"),  # parse: the Parquet files
    "rules": ("Running the rules", "steps"),
    "report": ("Writing reports", "files"),
}
# The derivation's steps once every reader is done (ingest.read_evidence).
DERIVING_STEPS = 5
# How often a display hands what it counted to rich (it draws ten times a second).
FLUSH_SECONDS = 0.05


class Progress(Protocol):
    """What a run tells of its stages. Calls may come from worker threads."""

    def begin(self, stage: str, total: float | None = None) -> None:
        """``stage`` began (or its total is now known)."""

    def advance(self, stage: str, amount: float = 1) -> None:
        """``stage`` got ``amount`` further (bytes for reading, one per step else)."""

    def end(self, stage: str) -> None:
        """``stage`` is done."""


class Silent:
    """A run nobody watches."""

    def begin(self, stage: str, total: float | None = None) -> None:
        pass

    def advance(self, stage: str, amount: float = 1) -> None:
        pass

    def end(self, stage: str) -> None:
        pass


SILENT = Silent()


def _size(amount: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if amount < 1000:
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1000
    return f"{amount:.1f} TB"


def _counted(task: Task) -> str:
    """What the stage has done, at what rate: '12 files, 40.1 MB of 120.3 MB, 85.2 MB/s'."""
    stage = task.fields.get("stage", "")
    unit = STAGES.get(stage, ("", ""))[1]
    rate = task.finished_speed or task.speed
    if unit == "bytes":
        calls = task.fields.get("calls", 0)
        done = f"{calls:,} {'hosts' if stage == 'hosts' else 'files'}, {_size(task.completed)}"
        done += f" of {_size(task.total)}" if task.total else ""
        return done + (f", {_size(rate)}/s" if rate else "")
    done = f"{task.completed:,.0f}" + (f"/{task.total:,.0f}" if task.total else "")
    return f"{done} {unit}" + (f", {rate:,.1f}/s" if rate else "")


class Bar:
    """Every stage as a line of a rich progress display on ``console`` (stderr): a
    bar, what is done with its rate, the time spent and the time left. Transient:
    :meth:`pause` clears it before the command prints a line, and the next call
    shows it again. ``totals`` gives the totals the caller knows before a stage
    begins (the bytes to read, from a walk of the folders)."""

    def __init__(self, console: Console, totals: dict[str, float] | None = None) -> None:
        from rich.progress import (
            BarColumn,
            ProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as RichProgress
        from rich.text import Text

        class Counted(ProgressColumn):
            def render(self, task: Task) -> Text:
                return Text(_counted(task))

        self._progress: RichProgress = RichProgress(
            TextColumn("{task.description:<18}"),
            BarColumn(),
            Counted(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._tasks: dict[str, TaskID] = {}
        self._totals = dict(totals or {})
        self._lock = threading.Lock()
        self._shown = False
        self._ended: set[str] = set()
        self._pending: dict[str, list[float]] = {}
        self._flushed = 0.0

    def _show(self) -> None:
        if not self._shown:
            self._shown = True
            self._progress.start()

    def _task(self, stage: str) -> TaskID:
        if stage not in self._tasks:
            label = STAGES.get(stage, (stage, ""))[0]
            self._tasks[stage] = self._progress.add_task(
                label, total=self._totals.get(stage), stage=stage, calls=0
            )
        return self._tasks[stage]

    def begin(self, stage: str, total: float | None = None) -> None:
        with self._lock:
            self._flush()
            task = self._task(stage)
            if stage in self._ended:  # again: the next host of a fleet
                self._ended.discard(stage)
                again = total or self._totals.get(stage)
                self._progress.reset(task, total=again, stage=stage, calls=0)
            elif total is not None:
                self._progress.update(task, total=total)

    def advance(self, stage: str, amount: float = 1) -> None:
        # Counted here and handed to rich at most every FLUSH_SECONDS: an update costs
        # it some 10 us, and forty thousand small files are forty thousand calls.
        with self._lock:
            pending = self._pending.setdefault(stage, [0.0, 0])
            pending[0] += amount
            pending[1] += 1
            now = time.monotonic()
            if now - self._flushed >= FLUSH_SECONDS or not self._shown:
                self._flush()
                self._flushed = now

    def _flush(self) -> None:
        """Hand rich what was counted since the last time (the lock held)."""
        self._show()
        for stage, (amount, calls) in self._pending.items():
            task = self._task(stage)
            before = self._progress.tasks[self._index(task)].fields.get("calls", 0)
            self._progress.update(task, advance=amount, calls=before + calls)
        self._pending.clear()

    def _index(self, task: TaskID) -> int:
        return next(i for i, t in enumerate(self._progress.tasks) if t.id == task)

    def end(self, stage: str) -> None:
        with self._lock:
            self._flush()
            task = self._task(stage)
            done = self._progress.tasks[self._index(task)]
            # A stage whose total was unknown (or overestimated) ends full.
            self._progress.update(task, total=done.completed or 1, completed=done.completed or 1)
            self._progress.stop_task(task)
            self._ended.add(stage)

    def pause(self) -> None:
        """Clear the display (a line is about to be printed)."""
        with self._lock:
            if self._shown:
                self._flush()
                self._shown = False
                self._progress.stop()

    close = pause
