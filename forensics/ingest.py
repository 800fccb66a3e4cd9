"""Files -> frames: discovery, every registered reader, sessions, the inputs table."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from forensics.core import frames
from forensics.core.evidence import Evidence, NoInputError
from forensics.core.frames import Frames
from forensics.core.lineparse import Engine
from forensics.core.progress import DERIVING_STEPS, SILENT, Progress
from forensics.core.timeparse import DateOrder
from forensics.derive import assumptions, localdomains, paths, servers, sessions, submission
from forensics.readers import registry, tracking
from forensics.readers.base import FileCounts, Reader, Reading, ReadOptions


def _inputs(items: Sequence[Evidence], stats: dict[str, FileCounts]) -> pl.DataFrame:
    counts = [stats.get(item.source, (0, 0, 0)) for item in items]
    columns = {
        "path": [item.source for item in items],
        "sha256": [item.sha256 for item in items],
        "bytes": [item.size for item in items],
        "format": [item.format for item in items],
        "records": [c[0] for c in counts],
        "unparsed": [c[1] for c in counts],
        "lines": [c[2] for c in counts],
        "encoding": [item.encoding for item in items],
        "compression": [item.compression for item in items],
        "note": [item.note for item in items],
        "programs": [item.programs for item in items],
        "host": [item.host for item in items],
    }
    # An explicit schema: inference looks at the first rows only, and a folder whose
    # first hundred files are plain and the next one gzip must not break it. Built by
    # column: forty thousand files make forty thousand rows.
    schema = {c: frames.INPUTS[c] for c in columns}
    return frames.conform(pl.DataFrame(columns, schema=schema), frames.INPUTS)


# Two batches in flight keep both cores busy: many polars operations use one thread.
PARSE_WORKERS = 2


@dataclass
class _Read:
    """One reading, with the sessions and recipients its events make."""

    reading: Reading
    sessions: pl.DataFrame | None = None
    recipients: pl.DataFrame | None = None


def _read(
    reader: Reader, items: list[Evidence], options: ReadOptions, progress: Progress = SILENT
) -> _Read:
    reading = reader.read(items, options)
    done = _Read(reading)
    events = reading.frames.get("events")
    if events is not None:
        done.sessions, done.recipients = sessions.build(events)
    progress.advance("parsing")
    return done


def _batches(
    items: Iterable[Evidence],
    options: ReadOptions,
    worker: ThreadPoolExecutor,
    progress: Progress,
) -> tuple[list[Evidence], dict[int, list[Future[_Read]]]]:
    """Take in what discovery finds; the files of readers that read files one batch
    at a time are parsed on ``worker`` while discovery goes on (polars runs without
    the GIL). Returns every item seen and the batches per reader (by position)."""
    seen: list[Evidence] = []
    pending: dict[int, tuple[list[Evidence], int]] = {}
    futures: dict[int, list[Future[_Read]]] = {}
    position = {f.name: i for i, r in enumerate(registry.READERS) for f in r.formats}
    for item in items:
        seen.append(item)
        progress.advance("reading", item.size)
        at = position.get(item.format)
        if at is None:
            continue
        reader = registry.READERS[at]
        if reader.batch_lines is None:
            continue
        batch, size = pending.get(at, ([], 0))
        batch.append(item)
        size += (item.text or "").count("\n")
        if size >= reader.batch_lines:
            futures.setdefault(at, []).append(
                worker.submit(_read, reader, batch, options, progress)
            )
            batch, size = [], 0
        pending[at] = (batch, size)
    for at, (batch, _) in pending.items():
        if batch:
            futures.setdefault(at, []).append(
                worker.submit(_read, registry.READERS[at], batch, options, progress)
            )
    return seen, futures


# The frames made from a reader's rows, besides those rows' own frame.
DERIVED = {"events": ("sessions", "recipients"), "tracking": ("paths",)}


def frames_from(reader: Reader) -> list[str]:
    """Every frame a reader's files end up in (for ``smtp-forensics formats``)."""
    return [name for own in reader.frames for name in (own, *DERIVED.get(own, ()))]


# Rows are concatenated per frame in reading order; these frames are then sorted.
_SORTED = {
    "config": ("ts", "source", "line"),
    "service_events": ("ts", "source", "line"),
}


def read_evidence(
    items: Iterable[Evidence],
    *,
    date_order: DateOrder = "mdy",
    engine: Engine = "fast",
    local_domains: Iterable[str] = (),
    year: int | None = None,
    progress: Progress | None = None,
) -> Frames:
    """Evidence (a list, or discovery still under way) -> frames. ``year``: the year
    of the first line of yearless syslog files (default: from the files' times).
    ``progress`` is told of the stages: reading (the size of every file as it has
    been read), parsing (one per reading: a reader's files, or a batch of them) and
    deriving (its steps once every reader is done)."""
    told = progress or SILENT
    options = ReadOptions(date_order=date_order, engine=engine, year=year)
    told.begin("reading")
    told.begin("parsing")
    with ThreadPoolExecutor(max_workers=PARSE_WORKERS, thread_name_prefix="parse") as worker:
        seen, futures = _batches(items, options, worker, told)
        told.end("reading")
        formats = {item.format for item in seen}
        readings = sum(map(len, futures.values())) + sum(
            1
            for r in registry.READERS
            if r.batch_lines is None and formats & {f.name for f in r.formats}
        )
        told.begin("parsing", readings)
        batched = {at: [f.result() for f in fs] for at, fs in futures.items()}
    done: list[_Read] = []
    for at, reader in enumerate(registry.READERS):
        if reader.batch_lines is not None:
            done += batched.get(at, [])
            continue
        names = {f.name for f in reader.formats}
        chosen = [item for item in seen if item.format in names]
        if chosen:
            done.append(_read(reader, chosen, options, told))
    told.end("parsing")
    told.begin("deriving", DERIVING_STEPS)
    out = _assemble(done)
    stats: dict[str, FileCounts] = {}
    for one in done:
        stats.update(one.reading.counts)
    told.advance("deriving")
    out.recipients = submission.mark(out.recipients, out.sessions, out.events)
    told.advance("deriving")
    out.domains = localdomains.find(
        local_domains, out.directory, out.sessions, out.recipients, out.events, out.config
    )
    out.recipients = localdomains.mark(out.recipients, out.domains)
    told.advance("deriving")
    out.tracking, out.paths, clock = paths.build(
        out.tracking, out.recipients, out.ndrs, out.domains
    )
    told.advance("deriving")
    tracking_formats = {f.name for f in tracking.READER.formats}
    for item in seen:
        if item.format in tracking_formats:
            item.note = "; ".join(n for n in (item.note, clock) if n)
    inputs = _inputs(seen, stats)
    out.assumptions = assumptions.build(out.assumptions, inputs, out.domains, date_order)
    dated = pl.concat([out.events.select("source", "ts"), out.tracking.select("source", "ts")])
    spans = dated.group_by("source").agg(
        pl.col("ts").min().alias("first_ts"), pl.col("ts").max().alias("last_ts")
    )
    out.inputs = servers.named(
        frames.conform(
            inputs.drop("first_ts", "last_ts").join(
                spans, left_on="path", right_on="source", how="left", maintain_order="left"
            ),
            frames.INPUTS,
        ),
        out.sessions,
    )
    told.advance("deriving")
    told.end("deriving")
    return out


def _assemble(done: list[_Read]) -> Frames:
    """The readings' rows, frame by frame, in reading order."""
    parts: dict[str, list[pl.DataFrame]] = {}
    for one in done:
        for name, frame in one.reading.frames.items():
            parts.setdefault(name, []).append(frame)
        if one.sessions is not None and one.recipients is not None:
            parts.setdefault("sessions", []).append(one.sessions)
            parts.setdefault("recipients", []).append(one.recipients)
        if one.reading.unparsed is not None:
            parts.setdefault("unparsed", []).append(one.reading.unparsed)
    out = Frames()
    for name, frame_parts in parts.items():
        setattr(out, name, pl.concat([getattr(out, name), *frame_parts]))
    for name, keys in _SORTED.items():
        setattr(out, name, getattr(out, name).sort(*keys, nulls_last=True))
    out.unparsed = out.unparsed.sort("source", "line")
    return out


def ingest(
    paths: Iterable[str | Path],
    *,
    date_order: DateOrder = "mdy",
    engine: Engine = "fast",
    local_domains: Iterable[str] = (),
    directories: Iterable[str | Path] = (),
    changelogs: Iterable[str | Path] = (),
    year: int | None = None,
    progress: Progress | None = None,
    follow_links: bool = False,
) -> Frames:
    """Paths -> frames. ``directories`` and ``changelogs`` are files read as that
    format whatever their content looks like (and not a second time if they also
    lie under ``paths``). ``follow_links``: folder links out of the paths are
    followed too (each file reached so says so). ``progress`` is told of every
    stage (:mod:`forensics.core.progress`). Raises
    :class:`forensics.core.evidence.NoInputError` for a missing path (before anything
    is read)."""
    named = [(Path(p), "directory") for p in directories] + [
        (Path(p), "changelog") for p in changelogs
    ]
    for path, _ in named:
        if not path.is_file():
            raise NoInputError(f"{path}: no such file")
    forced = [registry.examine(path, path.name, force=fmt) for path, fmt in named]
    found = registry.iter_discover(paths, follow_links=follow_links)
    if named:
        # realpath costs a system call per path component: only when there is
        # something to compare with.
        taken = {os.path.realpath(path) for path, _ in named}
        found = (e for e in found if os.path.realpath(e.path) not in taken)
    return read_evidence(
        itertools.chain(forced, found),
        date_order=date_order,
        engine=engine,
        local_domains=local_domains,
        year=year,
        progress=progress,
    )
