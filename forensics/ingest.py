"""Files -> frames: discovery, the readers, sessions, the inputs table."""

from __future__ import annotations

import io
import itertools
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from forensics import frames, localdomains, paths, sessions
from forensics.discover import Evidence, NoInputError, examine, iter_discover
from forensics.lineparse import Engine
from forensics.readers import exchange as exchange_reader
from forensics.readers import ims as ims_reader
from forensics.readers import ndr as ndr_reader
from forensics.readers import postfix as postfix_reader
from forensics.readers import registry as registry_reader
from forensics.readers import tables
from forensics.readers import tracking as tracking_reader
from forensics.readers import transcript as transcript_reader
from forensics.readers import w3c as w3c_reader
from forensics.readers.common import account
from forensics.timeparse import DateOrder


@dataclass
class Frames:
    """Everything read from one evidence set."""

    events: pl.DataFrame = field(default_factory=lambda: frames.empty(frames.EVENTS))
    ndrs: pl.DataFrame = field(default_factory=lambda: frames.empty(frames.NDRS))
    config: pl.DataFrame = field(default_factory=lambda: frames.empty(frames.CONFIG))
    directory: pl.DataFrame = field(default_factory=lambda: frames.empty(frames.DIRECTORY))
    domains: pl.DataFrame = field(default_factory=lambda: frames.empty(frames.DOMAINS))
    service_events: pl.DataFrame = field(
        default_factory=lambda: frames.empty(frames.SERVICE_EVENTS)
    )
    tracking: pl.DataFrame = field(default_factory=lambda: frames.empty(frames.TRACKING))
    paths: pl.DataFrame = field(default_factory=lambda: frames.empty(frames.PATHS))
    sessions: pl.DataFrame = field(default_factory=lambda: frames.empty(frames.SESSIONS))
    recipients: pl.DataFrame = field(default_factory=lambda: frames.empty(frames.RECIPIENTS))
    inputs: pl.DataFrame = field(default_factory=lambda: frames.empty(frames.INPUTS))
    unparsed: pl.DataFrame = field(default_factory=lambda: frames.empty(frames.UNPARSED))

    def as_dict(self) -> dict[str, pl.DataFrame]:
        return {name: getattr(self, name) for name in frames.ALL}

    def write_parquet(self, out: Path) -> list[Path]:
        """One file per frame, each written even when empty (with its schema)."""
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for name, frame in self.as_dict().items():
            path = out / f"{name}.parquet"
            frame.write_parquet(path)
            written.append(path)
        return written


def _normalise(text: str) -> str:
    """CRLF and CR alone become LF (str.splitlines would also split on form feeds and
    Unicode separators, which would shift line numbers); a last line ends too."""
    if "\r" in text:  # one scan, where two replacements would copy the text twice
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text if not text or text.endswith("\n") else text + "\n"


def split_lines(text: str) -> list[str]:
    return _normalise(text).split("\n")[:-1]


# A byte that no line holds lets polars' CSV reader cut the text into lines on all
# cores, five times faster than splitting and exploding it; control bytes are rare
# in logs, and a text that holds every one of them is split the slower way.
_SEPARATORS = [chr(c) for c in (*range(0, 9), *range(14, 32))]
# Files of this many characters on average, or more, are cut that way.
_CSV_CUT_MIN_AVERAGE = 64 * 1024


def lines_frame(
    items: Sequence[Evidence], *, csv_cut_from: int = _CSV_CUT_MIN_AVERAGE, release: bool = False
) -> pl.DataFrame:
    """All lines of ``items`` as one frame: fid (position in items), line, text.
    The split happens in polars: one pass however many files there are. Files of
    ``csv_cut_from`` characters on average or more are cut by the CSV reader.
    ``release``: the items give up their text (the frame holds it now), so that a
    large log is not held twice while it is parsed."""
    raw = [item.text or "" for item in items]
    if release:
        for item in items:
            item.text = None
    # Many small files (an IMS folder) split as fast in polars; big ones do not.
    large = sum(map(len, raw)) >= csv_cut_from * max(len(raw), 1)
    if not large:
        return _lines_by_explode(raw)
    texts = [_normalise(text) for text in raw]
    joined = "".join(texts)
    separator = next((c for c in _SEPARATORS if c not in joined), None)
    if not joined or separator is None:
        return _lines_by_explode(texts)
    # The reader would take a BOM at the very start of the data for an encoding mark
    # and drop it from the first line: a guard line goes first then.
    guard = joined.startswith("\ufeff")
    data = joined.encode("utf-8", errors="surrogatepass")
    text = pl.read_csv(
        io.BytesIO(b"-\n" + data if guard else data),
        has_header=False,
        separator=separator,
        quote_char=None,
        new_columns=["text"],
        infer_schema=False,
    ).to_series()
    text = (text[1:] if guard else text).fill_null("")  # a blank line reads as null
    row = pl.int_range(0, text.len(), dtype=pl.UInt32, eager=True)
    if len(texts) == 1:
        return pl.DataFrame(
            {"fid": pl.zeros(text.len(), pl.UInt32, eager=True), "line": row + 1, "text": text}
        )
    counts = pl.Series([t.count("\n") for t in texts], dtype=pl.UInt32)
    ends = counts.cum_sum()
    fid = ends.search_sorted(row, side="right").cast(pl.UInt32)
    starts = (ends - counts).gather(fid)
    return pl.DataFrame({"fid": fid, "line": row - starts + 1, "text": text})


def _lines_by_explode(texts: list[str]) -> pl.DataFrame:
    """:func:`split_lines` of every text, done in polars: the line ends are made LF
    there too, so the parse threads hold the interpreter lock for none of it."""
    text = pl.col("text")
    normal = text.str.replace_all("\r\n", "\n", literal=True).str.replace_all(
        "\r", "\n", literal=True
    )
    split = (
        pl.DataFrame(
            {"fid": pl.arange(0, len(texts), dtype=pl.UInt32, eager=True), "text": texts},
            schema={"fid": pl.UInt32, "text": pl.String},
        )
        .filter(text != "")
        .with_columns(normal)
        .with_columns(
            pl.when(text.str.ends_with("\n")).then(text).otherwise(text + "\n"),
        )
    )
    counts = (
        pl.zeros(len(texts), pl.UInt32, eager=True)
        .scatter(split["fid"], split["text"].str.count_matches("\n", literal=True))
        .cast(pl.UInt32)
    )
    split = split.with_columns(text.str.strip_suffix("\n").str.split("\n")).explode("text")
    row = pl.int_range(0, split.height, dtype=pl.UInt32, eager=True)
    starts = (counts.cum_sum() - counts).gather(split["fid"])
    return split.with_columns((row - starts + 1).alias("line")).select("fid", "line", "text")


def _inputs(items: Sequence[Evidence], stats: dict[str, tuple[int, int, int]]) -> pl.DataFrame:
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
    }
    # An explicit schema: inference looks at the first rows only, and a folder whose
    # first hundred files are plain and the next one gzip must not break it. Built by
    # column: forty thousand files make forty thousand rows.
    schema = {c: frames.INPUTS[c] for c in columns}
    return frames.conform(pl.DataFrame(columns, schema=schema), frames.INPUTS)


# Files are parsed in batches of about this many lines: each batch is parsed on a
# worker thread (polars runs without the GIL) while the next is being read from
# disk, and its text is released once parsed.
BATCH_LINES = 100_000
# Two batches in flight keep both cores busy: many polars operations use one thread.
PARSE_WORKERS = 2


@dataclass
class _Batch:
    events: pl.DataFrame
    unparsed: pl.DataFrame
    sessions: pl.DataFrame
    recipients: pl.DataFrame
    stats: dict[str, tuple[int, int, int]]  # source: (records, unparsed, lines)


def _read_ims_batch(items: list[Evidence], date_order: DateOrder, engine: Engine) -> _Batch:
    """IMS records and sessions never span files: a batch of whole files is complete."""
    lines = lines_frame(items)
    sources = pl.Series([i.source for i in items], dtype=pl.String)
    result = ims_reader.read(lines, sources, date_order=date_order, engine=engine)
    stats = {}
    for fid, item in enumerate(items):
        records, unparsed = result.records[fid], result.unparsed_counts[fid]
        stats[item.source] = (records, unparsed, records + unparsed + result.other_lines[fid])
        item.text = None  # parsed: the frames hold what matters now
    found_sessions, recipients = sessions.build(result.events)
    return _Batch(result.events, result.unparsed, found_sessions, recipients, stats)


def read_evidence(
    items: Iterable[Evidence],
    *,
    date_order: DateOrder = "mdy",
    engine: Engine = "fast",
    local_domains: Iterable[str] = (),
    year: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> Frames:
    """Evidence (a list, or discovery still under way) -> frames. ``year``: the year
    of the first line of yearless syslog files (default: from the files' times).
    ``progress`` is told the size of every file as it has been read."""
    seen: list[Evidence] = []
    batches: list[Future[_Batch]] = []
    with ThreadPoolExecutor(max_workers=PARSE_WORKERS, thread_name_prefix="parse") as worker:
        batch: list[Evidence] = []
        size = 0
        for item in items:
            seen.append(item)
            if progress is not None:
                progress(item.size)
            if item.format != "ims":
                continue
            batch.append(item)
            size += (item.text or "").count("\n")
            if size >= BATCH_LINES:
                batches.append(worker.submit(_read_ims_batch, batch, date_order, engine))
                batch, size = [], 0
        if batch:
            batches.append(worker.submit(_read_ims_batch, batch, date_order, engine))
        done = [b.result() for b in batches]
    out = Frames()
    stats: dict[str, tuple[int, int, int]] = {}
    if done:
        out.events = pl.concat([b.events for b in done])
        out.unparsed = pl.concat([b.unparsed for b in done])
        out.sessions = pl.concat([b.sessions for b in done])
        out.recipients = pl.concat([b.recipients for b in done])
        for b in done:
            stats.update(b.stats)
    # The later SMTP logs: each reader makes events; sessions.build does the rest.
    for fmt, read_events in (
        ("postfix", lambda chosen: postfix_reader.read(chosen, year=year, engine=engine)),
        ("exchange", lambda chosen: exchange_reader.read(chosen, engine=engine)),
        ("transcript", lambda chosen: transcript_reader.read(chosen, engine=engine)),
        ("w3c", lambda chosen: w3c_reader.read(chosen, engine=engine)),
    ):
        logs = [item for item in seen if item.format == fmt]
        if not logs:
            continue
        found_log = read_events(logs)
        log_sessions, log_recipients = sessions.build(found_log.events)
        out.events = pl.concat([out.events, found_log.events])
        out.sessions = pl.concat([out.sessions, log_sessions])
        out.recipients = pl.concat([out.recipients, log_recipients])
        out.unparsed = pl.concat([out.unparsed, found_log.unparsed])
        if found_log.service_events is not None:
            out.service_events = pl.concat([out.service_events, found_log.service_events])
        account(stats, logs, found_log.records, found_log.unparsed_counts, found_log.lines)
    mails = [item for item in seen if item.format == "email"]
    if mails:
        found = ndr_reader.read([m.text or "" for m in mails], [m.source for m in mails])
        out.ndrs = found.ndrs
        out.unparsed = pl.concat([out.unparsed, found.unparsed]).sort("source", "line")
        for i, item in enumerate(mails):
            lines = len(split_lines(item.text or ""))
            stats[item.source] = (found.records[i], found.unparsed_counts[i], lines)
            item.text = None
    tracking_logs = [item for item in seen if item.format in tracking_reader.FORMATS]
    if tracking_logs:
        found_tracking = tracking_reader.read(tracking_logs, date_order=date_order, engine=engine)
        out.tracking = found_tracking.tracking
        out.unparsed = pl.concat([out.unparsed, found_tracking.unparsed])
        account(
            stats,
            tracking_logs,
            found_tracking.records,
            found_tracking.unparsed_counts,
            found_tracking.lines,
        )
    config_parts = []
    for fmt, reader in (
        ("registry", registry_reader.read),
        ("changelog", lambda items: tables.read_changelogs(items, date_order)),
        ("directory", tables.read_directories),
        ("eventlog", lambda items: tables.read_eventlogs(items, date_order)),
    ):
        chosen = [item for item in seen if item.format == fmt]
        if not chosen:
            continue
        result = reader(chosen)
        if fmt == "directory":
            out.directory = result.rows
        elif fmt == "eventlog":
            out.service_events = pl.concat([out.service_events, result.rows])
        else:
            config_parts.append(result.config if fmt == "registry" else result.rows)
        out.unparsed = pl.concat([out.unparsed, result.unparsed])
        account(stats, chosen, result.records, result.unparsed_counts, result.lines)
    if config_parts:
        out.config = pl.concat(config_parts).sort("ts", "source", "line", nulls_last=True)
    out.service_events = out.service_events.sort("ts", "source", "line", nulls_last=True)
    out.unparsed = out.unparsed.sort("source", "line")
    out.domains = localdomains.find(local_domains, out.directory, out.sessions, out.recipients)
    out.recipients = localdomains.mark(out.recipients, out.domains)
    out.tracking, out.paths, clock = paths.build(
        out.tracking, out.recipients, out.ndrs, out.domains
    )
    for item in tracking_logs:
        item.note = "; ".join(n for n in (item.note, clock) if n)
    inputs = _inputs(seen, stats)
    dated = pl.concat([out.events.select("source", "ts"), out.tracking.select("source", "ts")])
    spans = dated.group_by("source").agg(
        pl.col("ts").min().alias("first_ts"), pl.col("ts").max().alias("last_ts")
    )
    out.inputs = frames.conform(
        inputs.drop("first_ts", "last_ts").join(
            spans, left_on="path", right_on="source", how="left", maintain_order="left"
        ),
        frames.INPUTS,
    )
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
    progress: Callable[[int], None] | None = None,
) -> Frames:
    """Paths -> frames. ``directories`` and ``changelogs`` are files read as that
    format whatever their content looks like (and not a second time if they also
    lie under ``paths``). Raises :class:`forensics.discover.NoInputError` for a
    missing path (before anything is read)."""
    named = [(Path(p), "directory") for p in directories] + [
        (Path(p), "changelog") for p in changelogs
    ]
    for path, _ in named:
        if not path.is_file():
            raise NoInputError(f"{path}: no such file")
    forced = [examine(path, path.name, force=fmt) for path, fmt in named]
    found = iter_discover(paths)
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
