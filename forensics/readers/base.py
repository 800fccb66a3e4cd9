"""The reader interface: what every format's reader is and gives back.

A reader knows one kind of file (or a family read together, as the three message
tracking logs are): the format names it gives files in the inputs table, a cheap
content check for each with a priority (lower checks first), the frames it fills,
and ``read``, which turns the files discovery gave it into rows. The registry
(:mod:`forensics.readers.registry`) lists every reader; nothing else names formats.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import polars as pl

from forensics.core.evidence import Evidence
from forensics.core.lineparse import Engine
from forensics.core.timeparse import DateOrder

# Per file: (records read, lines unparsed, lines in all) for the inputs table.
FileCounts = tuple[int, int, int]


@dataclass(frozen=True)
class ReadOptions:
    """What the user said about how to read (the CLI's reading options)."""

    date_order: DateOrder = "mdy"
    engine: Engine = "fast"
    # The year of the first line of yearless syslog files (None: from the file's time).
    year: int | None = None


@dataclass(frozen=True)
class Format:
    """One format name with the check that claims a text for it. ``priority``: the
    checks run from the lowest number up and the first that accepts takes the file
    (a check that would also accept another format's files goes after it)."""

    name: str
    priority: int
    looks_like: Callable[[str], bool]


@dataclass
class Reading:
    """What a reader read: rows by frame name (``events``, ``ndrs``, ``config``,
    ``service_events``, ``directory``, ``tracking``), the lines it could not read
    (the ``unparsed`` frame's columns), and per file what the inputs table counts."""

    frames: dict[str, pl.DataFrame] = field(default_factory=dict)
    unparsed: pl.DataFrame | None = None
    counts: dict[str, FileCounts] = field(default_factory=dict)


def counted(
    items: Sequence[Evidence],
    records: Sequence[int],
    unparsed: Sequence[int],
    lines: Sequence[int],
    *,
    frames: dict[str, pl.DataFrame],
    unparsed_rows: pl.DataFrame | None,
) -> Reading:
    """A :class:`Reading` from per-file lists in the order of ``items``; the files
    give up their text (the frames hold what matters now)."""
    counts: dict[str, FileCounts] = {}
    for i, item in enumerate(items):
        counts[item.source] = (records[i], unparsed[i], lines[i])
        item.text = None
    return Reading(frames=frames, unparsed=unparsed_rows, counts=counts)


class PerFileResult(Protocol):
    """What a reader's own read returns: per-file lists in the order of its items,
    and the lines it could not read."""

    @property
    def records(self) -> list[int]: ...

    @property
    def unparsed_counts(self) -> list[int]: ...

    @property
    def lines(self) -> list[int]: ...

    @property
    def unparsed(self) -> pl.DataFrame: ...


def reading_of(
    items: Sequence[Evidence], found: PerFileResult, frames: dict[str, pl.DataFrame]
) -> Reading:
    """:func:`counted` of a reader's result, with the rows of ``frames``."""
    return counted(
        items,
        found.records,
        found.unparsed_counts,
        found.lines,
        frames=frames,
        unparsed_rows=found.unparsed,
    )


class Reader(Protocol):
    """One reader. ``frames``: the frames its rows go to (events also make sessions
    and recipients). ``batch_lines``: when its files are independent of each other,
    the number of lines per batch that may be read while discovery goes on (None:
    all its files are read at once, after discovery)."""

    @property
    def formats(self) -> tuple[Format, ...]: ...

    @property
    def frames(self) -> tuple[str, ...]: ...

    @property
    def batch_lines(self) -> int | None: ...

    def read(self, items: list[Evidence], options: ReadOptions) -> Reading: ...


@dataclass(frozen=True)
class FormatReader:
    """The plain :class:`Reader`: its parts given as values."""

    formats: tuple[Format, ...]
    frames: tuple[str, ...]
    read_files: Callable[[list[Evidence], ReadOptions], Reading]
    batch_lines: int | None = None

    def read(self, items: list[Evidence], options: ReadOptions) -> Reading:
        return self.read_files(items, options)
