"""Files -> frames: discovery, the readers, sessions, the inputs table."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from forensics import frames, sessions
from forensics.discover import Evidence, discover
from forensics.lineparse import Engine
from forensics.readers import ims as ims_reader
from forensics.timeparse import DateOrder


@dataclass
class Frames:
    """Everything read from one evidence set."""

    events: pl.DataFrame = field(default_factory=lambda: frames.empty(frames.EVENTS))
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


def split_lines(text: str) -> list[str]:
    """CRLF, LF and CR alone all end a line (str.splitlines would also split on
    form feeds and Unicode separators, which would shift line numbers)."""
    parts = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if parts and parts[-1] == "":
        parts.pop()
    return parts


def lines_frame(items: Sequence[Evidence]) -> pl.DataFrame:
    """All lines of ``items`` as one frame: fid (position in items), source, line, text."""
    texts: list[str] = []
    counts: list[int] = []
    for item in items:
        parts = split_lines(item.text or "")
        texts.extend(parts)
        counts.append(len(parts))
    ends = pl.Series("ends", counts, dtype=pl.UInt32).cum_sum()
    row = pl.int_range(0, len(texts), dtype=pl.UInt32, eager=True)
    fid = ends.search_sorted(row, side="right").cast(pl.UInt32)
    starts = (ends - pl.Series(counts, dtype=pl.UInt32)).gather(fid)
    sources = pl.Series("source", [i.source for i in items], dtype=pl.String)
    return pl.DataFrame(
        {
            "fid": fid,
            "source": sources.gather(fid) if len(texts) else pl.Series([], dtype=pl.String),
            "line": row - starts + 1,
            "text": pl.Series(texts, dtype=pl.String),
        }
    )


def _inputs(items: Sequence[Evidence], stats: dict[str, tuple[int, int, int]]) -> pl.DataFrame:
    rows = []
    for item in items:
        records, unparsed, lines = stats.get(item.source, (0, 0, 0))
        rows.append(
            {
                "path": item.source,
                "sha256": item.sha256,
                "bytes": item.size,
                "format": item.format,
                "records": records,
                "unparsed": unparsed,
                "lines": lines,
                "encoding": item.encoding,
                "compression": item.compression,
                "note": item.note,
            }
        )
    return frames.conform(pl.DataFrame(rows, schema_overrides={"bytes": pl.UInt64}), frames.INPUTS)


def read_evidence(
    items: Sequence[Evidence],
    *,
    date_order: DateOrder = "mdy",
    engine: Engine = "fast",
    local_domains: Iterable[str] = (),
) -> Frames:
    """Evidence already discovered -> frames."""
    out = Frames()
    stats: dict[str, tuple[int, int, int]] = {}
    ims_items = [i for i in items if i.format == "ims"]
    if ims_items:
        lines = lines_frame(ims_items)
        result = ims_reader.read(lines, len(ims_items), date_order=date_order, engine=engine)
        for fid, item in enumerate(ims_items):
            records, unparsed = result.records[fid], result.unparsed_counts[fid]
            stats[item.source] = (records, unparsed, records + unparsed + result.other_lines[fid])
        out.events = result.events
        out.unparsed = result.unparsed
    out.sessions, out.recipients = sessions.build(out.events, local_domains=local_domains)
    inputs = _inputs(items, stats)
    spans = out.events.group_by("source").agg(
        pl.col("ts").min().alias("first_ts"), pl.col("ts").max().alias("last_ts")
    )
    out.inputs = frames.conform(
        inputs.drop("first_ts", "last_ts").join(
            spans, left_on="path", right_on="source", how="left"
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
) -> Frames:
    """Paths -> frames. Raises :class:`forensics.discover.NoInputError` for a missing path."""
    return read_evidence(
        discover(paths), date_order=date_order, engine=engine, local_domains=local_domains
    )
