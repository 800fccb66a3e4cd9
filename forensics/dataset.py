"""Frames as a hive-partitioned Parquet dataset, so that a fleet's logs can be parsed
in parallel elsewhere (one ``parse`` per server or per day, on as many machines as
there are) and analysed together.

Layout: ``DIR/<frame>/host=<host>/day=<YYYY-MM-DD>/part-<host>.parquet`` for the
frames with a time (``day=undated`` for rows without one, and for a host's frame
that has no rows, which keeps its schema), ``DIR/<frame>/host=<host>/part-<host>.parquet``
for the others.
``host`` names one ``parse`` run's evidence (by default the name of the folder it
read); every ``source`` and input ``path`` is prefixed with it, so that files of the
same name from two servers stay apart. polars, DuckDB and Spark read the folder of
a frame as one table (``hive_partitioning``); :func:`load` does that for every frame
and settles what needs all of them at once (the local domains).
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath

import polars as pl

from forensics.core import frames
from forensics.core.frames import Frames
from forensics.derive import localdomains

# The column that dates each frame's rows (frames without one are partitioned by
# host only).
DAY_OF = {
    "events": "ts",
    "sessions": "start",
    "recipients": "ts",
    "ndrs": "ts",
    "config": "ts",
    "service_events": "ts",
    "tracking": "ts",
    "paths": "first_ts",
}
# The columns that name an input file (every other frame cites its file in "source").
SOURCE_COLUMNS = {"inputs": ("path",), "paths": ("source", "ndr_source")}
# The order a frame's rows have when ``ingest`` makes them, where the default
# (source, session, line) would not give it back.
ORDER = {
    "tracking": ("source", "line", "recipient"),
    "paths": ("first_ts", "source", "line", "recipient"),
}
# Session ids are unique within one run only (they are made of file names): prefixed
# with the host too, or two servers' sessions would merge.
KEY_COLUMNS = ("session",)
PARTITIONS = ("host", "day")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def host_name(text: str) -> str:
    """A partition value safe in a path: letters, digits, dot, dash, underscore."""
    return _UNSAFE.sub("_", text).strip("._") or "evidence"


# The marker parse --dataset writes at a dataset's root: a folder is a dataset because
# this says so, never because of the names of its sub-folders (evidence may have an
# "events" folder).
MARKER = "smtp-forensics-dataset.json"
SCHEMA = "smtp-forensics/dataset/v1"


def is_dataset(path: Path) -> bool:
    marker = path / MARKER
    if not marker.is_file():
        return False
    try:
        return bool(json.loads(marker.read_text(encoding="utf-8")).get("schema") == SCHEMA)
    except (OSError, ValueError, AttributeError):
        return False


def write(found: Frames, out: Path, host: str) -> list[Path]:
    """Write ``found`` into the dataset at ``out`` as host ``host``, replacing what an
    earlier run of the same host wrote. The new partitions are written beside the
    dataset first and swapped in by renames, with Ctrl-C held off while they run: an
    interrupted run leaves the host's old partitions or its new ones, whole. Runs
    for different hosts may write at the same time (threads, processes, a cluster's
    workers): each touches only its own ``host=`` folders and its own staging folder;
    two runs of the same host at once are not supported."""
    host = host_name(host)
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".staging-{host}-", dir=out))
    try:
        staged = _write_host(found, staging, host)
        _swap_in(staging, out, host, list(found.as_dict()))
        # Hosts written at the same time (a cluster's workers) each rename a whole
        # marker into place: a reader never finds it empty.
        marker = staging / MARKER
        marker.write_text(json.dumps({"schema": SCHEMA}) + "\n", encoding="utf-8")
        marker.replace(out / MARKER)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [out / p.relative_to(staging) for p in staged]


def _swap_in(staging: Path, out: Path, host: str, names: list[str]) -> None:
    """Each frame's new host partition in place of the old, by renames."""
    # Signals can be held off only from the main thread (a library caller may write
    # from another; there the renames run as they are).
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
    try:
        for name in names:
            new, current = staging / name / f"host={host}", out / name / f"host={host}"
            current.parent.mkdir(parents=True, exist_ok=True)
            if current.exists():
                current.rename(staging / f"old-{name}")
            if new.exists():
                new.rename(current)
    finally:
        if main:
            signal.signal(signal.SIGINT, previous)


def partitions(found: Frames, host: str) -> Iterator[tuple[str, PurePosixPath, pl.DataFrame]]:
    """Host ``host``'s partitions of ``found``: (frame, path below the frame's folder,
    rows), its sources and session ids prefixed with the host. What :func:`write`
    writes; a cluster's worker hands them back as they are (:func:`combine`)."""
    for name, frame in found.as_dict().items():
        columns = SOURCE_COLUMNS.get(name, ("source",))
        prefixed = [c for c in (*columns, *KEY_COLUMNS) if c in frame.columns]
        frame = frame.with_columns((pl.lit(host + "/") + pl.col(c)).alias(c) for c in prefixed)
        base = PurePosixPath(f"host={host}")
        if name in DAY_OF:
            day = pl.col(DAY_OF[name]).dt.strftime("%Y-%m-%d").fill_null("undated")
            for (value,), part in (
                frame.with_columns(day.alias("_day"))
                .partition_by("_day", as_dict=True, maintain_order=True)
                .items()
            ):
                yield name, base / f"day={value}" / f"part-{host}.parquet", part.drop("_day")
            if frame.height == 0:  # the schema still travels, as deep as the rows go
                # (a hive reader takes every host's folder of a frame as one table)
                yield name, base / "day=undated" / f"part-{host}.parquet", frame
        else:
            yield name, base / f"part-{host}.parquet", frame


def _write_host(found: Frames, out: Path, host: str) -> list[Path]:
    """Every frame of ``found`` as host ``host``'s partitions under ``out``."""
    written = []
    for name, where, part in partitions(found, host):
        path = out / name / where
        path.parent.mkdir(parents=True, exist_ok=True)
        part.write_parquet(path)
        written.append(path)
    return written


def hosts(root: Path) -> list[str]:
    return sorted(p.name.removeprefix("host=") for p in (root / "inputs").glob("host=*"))


def load(root: Path, only: list[str] | None = None) -> Frames:
    """Every frame of the dataset at ``root``: of the hosts in ``only``, or of all
    hosts together (the rules then see one server: give one host per analysis
    unless the servers share their mail, as the members of one cluster do)."""
    wanted = {f"host={host_name(h)}" for h in only} if only else None
    tables: dict[str, list[pl.DataFrame]] = {}
    for name in frames.ALL:
        files = sorted((root / name).rglob("*.parquet")) if (root / name).is_dir() else []
        if wanted is not None:
            files = [f for f in files if wanted & set(f.relative_to(root / name).parts)]
        tables[name] = [pl.read_parquet(f) for f in files]
    return _settle(tables)


def combine(parts: Iterable[tuple[str, PurePosixPath, pl.DataFrame]]) -> Frames:
    """The frames :func:`load` would read, had ``parts`` (of :func:`partitions`, of
    any hosts) been written into one dataset: the same rows in the same order."""
    tables: dict[str, list[tuple[PurePosixPath, pl.DataFrame]]] = {}
    for name, where, part in parts:
        tables.setdefault(name, []).append((where, part))
    return _settle(
        {
            name: [part for _, part in sorted(found, key=lambda p: p[0])]
            for name, found in tables.items()
        }
    )


def _settle(tables: dict[str, list[pl.DataFrame]]) -> Frames:
    """Each frame's parts, in the order of their paths, as one frame; the local domains
    of all hosts together."""
    out = Frames()
    for name, schema in frames.ALL.items():
        if not tables.get(name):
            continue
        table = pl.concat([frames.conform(part, schema) for part in tables[name]])
        # Sessions and recipients were built before they were written: the rows only
        # need a stable order. The events keep the order they were written in.
        if name != "events":
            default = ("source", "path", "session", "line")
            order = [c for c in ORDER.get(name, default) if c in table.columns]
            table = (
                table.sort(order, maintain_order=True, nulls_last=name in ORDER) if order else table
            )
        setattr(out, name, table)
    # The local domains of all hosts together: the strongest origin of each domain.
    out.domains = localdomains.strongest(out.domains)
    out.recipients = localdomains.mark(out.recipients, out.domains)
    return out
