"""A fleet of servers into one dataset: each PATH one host, parsed here one after the
other, or on a Dask distributed cluster (``--scheduler``) as one task per host.

A host is a task, not a file: a host's files are read together (a Postfix session
goes on in the next rotated file, a host's local domains are proved by all its
evidence, the year of a yearless log is settled over its files), so a host parsed on
a worker gives the rows it gives here. Each task writes its own host's partitions
(:func:`forensics.dataset.write` stages them and swaps them in by renames, per
host), so workers never write over each other, and the dataset made on a cluster has
the frames and rows of the one made on one machine. For analyze, a task hands its
host's partitions back instead (:func:`gather`), combined here as the dataset of
those hosts would be read; the rules then run here. The evidence and the dataset must
be at the same path on every worker (a shared file system).

``distributed`` is an optional extra, imported only when a scheduler is given.
"""

from __future__ import annotations

import importlib
import os
import stat
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, TypeVar

import polars as pl

from forensics import dataset
from forensics.core.errors import UsageError
from forensics.core.frames import Frames
from forensics.core.progress import SILENT, Progress
from forensics.derive import servers
from forensics.ingest import ingest
from forensics.report.summary import Summary, summarize

if TYPE_CHECKING:
    from distributed import Client

_T = TypeVar("_T")
EXTRA = "pip install 'smtp-forensics[distributed]'"
# How long to wait for the scheduler to answer before saying it cannot be reached.
CONNECT_SECONDS = 10
# The unparsed lines a host's result carries back for the terminal (the dataset has all).
WARNINGS = 20


class MissingExtraError(UsageError):
    """--scheduler without the distributed extra installed (exit 2)."""


class SchedulerError(UsageError):
    """The scheduler named by --scheduler cannot be reached (exit 2)."""


class WorkerLostError(UsageError):
    """A host's task killed the workers that ran it (out of memory, most often; exit 2:
    the evidence must be given in smaller PATHs, or the workers given more memory)."""


@dataclass(frozen=True)
class Host:
    """One server of the fleet: its partition name and its evidence (an absolute path)."""

    name: str
    path: str


@dataclass
class Parsed:
    """What one host's task did: its summary, its first unparsed lines, the servers its
    logs name (more than one: two servers' logs in one folder) and the files it wrote
    (none when nothing in its evidence was readable)."""

    host: str
    summary: Summary
    unparsed: int
    warnings: list[tuple[str, int | None, str]] = field(default_factory=list)
    servers: list[tuple[str, int]] = field(default_factory=list)
    written: list[str] = field(default_factory=list)


def fleet_of(paths: Sequence[str | os.PathLike[str]], name: str | None = None) -> list[Host]:
    """Each PATH one host, named after its folder (or ``name``, for one PATH). Raises
    :class:`UsageError` when two PATHs would be the same host."""
    if name and len(paths) > 1:
        raise UsageError(
            f"--host {name}: names one host, and {len(paths)} PATHs are {len(paths)} hosts "
            "(each named after its folder); give --host with one PATH only"
        )
    names = (
        [dataset.host_name(name)]
        if name
        # The name given, "." and ".." settled, links not resolved: a link mx1 to a
        # folder "logs" is host mx1.
        else [dataset.host_name(Path(os.path.abspath(p)).name) for p in paths]
    )
    twice = sorted(n for n, count in Counter(names).items() if count > 1)
    if twice:
        raise UsageError(
            f"two PATHs would both be host {twice[0]} (each PATH is one host, named after "
            "its folder): give the folders distinct names, or parse each with its own --host"
        )
    return [Host(n, os.path.abspath(p)) for n, p in zip(names, paths, strict=True)]


def bytes_below(paths: Iterable[str | os.PathLike[str]]) -> int:
    """The size of the regular files under ``paths`` (a cheap walk: stat, no reads)."""
    total = 0
    for path in map(Path, paths):
        if path.is_file():
            total += path.stat().st_size
            continue
        for folder, _dirs, files in os.walk(path):
            for name in files:
                try:
                    st = os.lstat(os.path.join(folder, name))
                except OSError:
                    continue
                total += st.st_size if stat.S_ISREG(st.st_mode) else 0
    return total


def parse_host(
    host: Host, options: dict[str, Any], out: str, progress: Progress | None = None
) -> Parsed:
    """Read one host's evidence and write it into the dataset at ``out`` as that host.
    Nothing is written when nothing in it is readable. This is the cluster's task."""
    found = ingest([host.path], progress=progress, **options)
    summary = summarize(found)
    done = Parsed(
        host=host.name,
        summary=summary,
        unparsed=found.unparsed.height,
        warnings=[
            (row["source"], row["line"], row["reason"])
            for row in found.unparsed.head(WARNINGS).iter_rows(named=True)
        ],
        servers=servers.servers(found.inputs),
    )
    if summary.readable:
        (progress or SILENT).begin("writing")
        done.written = [str(p) for p in dataset.write(found, Path(out), host.name)]
        (progress or SILENT).advance("writing")
    return done


class _OneHost:
    """A run's progress as one host of several tells it: the reading's total is the
    host's bytes, and the fleet's bytes advance as each host is done."""

    def __init__(self, inner: Progress, size: int) -> None:
        self._inner, self._size = inner, size

    def begin(self, stage: str, total: float | None = None) -> None:
        self._inner.begin(stage, self._size if stage == "reading" and total is None else total)

    def advance(self, stage: str, amount: float = 1) -> None:
        self._inner.advance(stage, amount)

    def end(self, stage: str) -> None:
        self._inner.end(stage)


def parse_fleet(
    fleet: Sequence[Host],
    out: str | os.PathLike[str],
    options: dict[str, Any],
    *,
    scheduler: str | None = None,
    progress: Progress | None = None,
) -> list[Parsed]:
    """Every host of ``fleet`` into the dataset at ``out``, in the order given: here,
    one host after the other, or on the Dask cluster whose scheduler is at
    ``scheduler`` (``tcp://host:8786``), one task per host. ``options`` are
    :func:`forensics.ingest.ingest`'s (their paths absolute when a cluster reads them).
    ``progress`` is told of the stage ``hosts`` (the fleet's bytes) and, here, of each
    host's own stages."""
    told = progress or SILENT
    target = os.path.abspath(out)
    sizes = _sizes(fleet, told)
    told.begin("hosts", sum(sizes.values()))
    if scheduler is None:
        told.begin("writing", len(fleet))
        done = []
        for host in fleet:
            done.append(parse_host(host, options, target, _OneHost(told, sizes[host.name])))
            told.advance("hosts", sizes[host.name])
    else:
        done = _run(
            partial(parse_host, out=target), fleet, _absolute(options), scheduler, told, sizes
        )
    told.end("hosts")
    return done


def host_partitions(
    host: Host, options: dict[str, Any]
) -> list[tuple[str, PurePosixPath, pl.DataFrame]]:
    """One host's evidence read into its dataset partitions, not written (the cluster's
    task for analyze)."""
    return list(dataset.partitions(ingest([host.path], **options), host.name))


def gather(
    fleet: Sequence[Host],
    options: dict[str, Any],
    *,
    scheduler: str | None = None,
    progress: Progress | None = None,
) -> Frames:
    """Every host of ``fleet`` read (here, or on the cluster at ``scheduler``, a task
    per host) and combined as :func:`forensics.dataset.load` reads the dataset of those
    hosts: the same frames, rows and order, without writing it. The hosts' frames come
    back whole; the rules run on them where this is called."""
    told = progress or SILENT
    sizes = _sizes(fleet, told)
    told.begin("hosts", sum(sizes.values()))
    parts: list[tuple[str, PurePosixPath, pl.DataFrame]] = []
    if scheduler is None:
        for host in fleet:
            parts += host_partitions(host, options)
            told.advance("hosts", sizes[host.name])
    else:
        for one in _run(host_partitions, fleet, _absolute(options), scheduler, told, sizes):
            parts += one
    told.end("hosts")
    return dataset.combine(parts)


def _sizes(fleet: Sequence[Host], progress: Progress) -> dict[str, int]:
    """Each host's bytes, for the display (a walk of its folders: none when silent)."""
    if progress is SILENT:
        return dict.fromkeys((host.name for host in fleet), 0)
    return {host.name: bytes_below([host.path]) for host in fleet}


def _absolute(options: dict[str, Any]) -> dict[str, Any]:
    """The options with their files' paths absolute: a worker's working folder is its own."""
    named = ("directories", "changelogs")
    return {
        k: tuple(os.path.abspath(p) for p in v) if k in named else v for k, v in options.items()
    }


def _require() -> None:
    """:class:`MissingExtraError` unless the distributed package can be imported."""
    try:
        importlib.import_module("distributed")
    except ImportError as exc:
        raise MissingExtraError(
            f"--scheduler runs on a Dask distributed cluster, and distributed is not "
            f"installed: {EXTRA}"
        ) from exc


def client(scheduler: str) -> Client:
    """A client of the scheduler at ``scheduler``. Raises :class:`MissingExtraError`
    without the distributed extra and :class:`SchedulerError` when nothing answers."""
    _require()
    import distributed

    try:
        return distributed.Client(  # type: ignore[no-untyped-call]
            scheduler, timeout=CONNECT_SECONDS, set_as_default=False
        )
    except (OSError, TimeoutError, ValueError) as exc:
        raise SchedulerError(
            f"--scheduler {scheduler}: no Dask scheduler answers there ({exc}); check the "
            "address (tcp://host:8786) and that the scheduler runs"
        ) from exc


def _run(
    task: Callable[[Host, dict[str, Any]], _T],
    fleet: Sequence[Host],
    options: dict[str, Any],
    scheduler: str,
    progress: Progress,
    sizes: dict[str, int],
) -> list[_T]:
    """``task(host, options)`` for every host on the cluster, the results in the hosts'
    order; the fleet's bytes advance as each host is done."""
    _require()
    import distributed

    run = uuid.uuid4().hex[:8]
    with client(scheduler) as cluster:
        futures = {
            cluster.submit(
                task, host, options, key=f"smtp-forensics-{run}-{host.name}", pure=False
            ): host
            for host in fleet
        }
        done = distributed.as_completed(list(futures), loop=cluster.loop)  # type: ignore[no-untyped-call]
        for future in done:
            host = futures[future]
            try:
                future.result()  # a task's error, raised here as soon as it is known
            except distributed.KilledWorker as exc:
                raise WorkerLostError(
                    f"host {host.name} ({host.path}): the workers that took it died each "
                    f"time ({exc}); most often out of memory: a host needs about 8 times its "
                    f"{sizes[host.name]:,} bytes. Give the server as several PATHs (a week "
                    "each), or run it on workers with more memory"
                ) from exc
            progress.advance("hosts", sizes[host.name])
        return [future.result() for future in futures]
