"""The admin's CSV evidence: the change log -> ``config`` rows, directory exports
-> ``directory`` rows. The standard library's ``csv`` splits records (RFC 4180
quoting, multi-line cells); :mod:`grammars.evidence_csv` reads the cells."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import polars as pl

from forensics.core import frames
from forensics.core.evidence import Evidence
from forensics.core.lineparse import extract
from forensics.core.timeparse import DateOrder, timestamps
from forensics.readers.base import Format, FormatReader, Reading, reading_of
from grammars import evidence_csv as g


@dataclass
class TableResult:
    rows: pl.DataFrame
    unparsed: pl.DataFrame
    records: list[int]
    unparsed_counts: list[int]
    lines: list[int]


def _line_count(text: str) -> int:
    """Lines as the rest of the tool counts them (ingest.split_lines): a last line
    without its newline counts, and so does a blank line at the end."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.count("\n") + (1 if text and not text.endswith("\n") else 0)


def _records(text: str) -> list[tuple[int, list[str] | None]]:
    """(first line, cells) of each CSV record, the header row included; blank lines
    come back with no cells. A quote left open stops the reading: the record it
    opens and everything after it come back as one record with cells None, which
    readers count as unparsed."""
    text = text.lstrip("\ufeff")
    header = text.split("\n", 1)[0]
    # Exports use commas, or semicolons (European locales), or tabs.
    delimiter = max(",;\t", key=header.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    out: list[tuple[int, list[str] | None]] = []
    start = 1
    try:
        for cells in reader:
            out.append((start, cells))
            start = reader.line_num + 1
    except csv.Error:
        out.append((start, None))  # an unterminated quote (or worse) from here on
    return out


def _header(table: list[tuple[int, list[str] | None]]) -> list[str]:
    """The first record's cells, lower-cased: a header row, if the file has one."""
    return [c.strip().lower() for c in (table[0][1] or [])] if table else []


def _damaged(source: str, line: int, text: str) -> dict[str, object]:
    """The unreadable tail of a CSV file, from the record that broke it."""
    tail = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")[line - 1 : line]
    return _unparsed(
        source,
        line,
        "a quote is left open: the rest of the file is not read",
        tail[0] if tail else "",
    )


def _unparsed(source: str, line: int, reason: str, text: str) -> dict[str, object]:
    return {"source": source, "line": line, "reason": reason, "text": text[:200]}


@dataclass
class _Tally:
    """What a reader learns file by file: rows kept, lines not read, the counts."""

    rows: list[dict[str, object]] = field(default_factory=list)
    bad: list[dict[str, object]] = field(default_factory=list)
    records: list[int] = field(default_factory=list)
    unparsed_counts: list[int] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)

    _rows_at: int = 0
    _bad_at: int = 0

    def file_done(self, text: str) -> None:
        """Close a file: what it added to rows and bad is its count."""
        self.records.append(len(self.rows) - self._rows_at)
        self.unparsed_counts.append(len(self.bad) - self._bad_at)
        self.lines.append(_line_count(text))
        self._rows_at, self._bad_at = len(self.rows), len(self.bad)

    def usable(
        self, records: list[tuple[int, list[str] | None]], source: str, text: str
    ) -> Iterator[tuple[int, list[str]]]:
        """The records that have cells (blank lines are skipped); the one a quote left
        open is counted as unparsed."""
        for line, cells in records:
            if cells is None:
                self.bad.append(_damaged(source, line, text))
            elif cells:
                yield line, cells

    def result(self, frame: pl.DataFrame, schema: pl.Schema) -> TableResult:
        unparsed = pl.DataFrame(self.bad, schema=dict(frames.UNPARSED))
        return TableResult(
            frames.conform(frame, schema),
            frames.conform(unparsed, frames.UNPARSED),
            self.records,
            self.unparsed_counts,
            self.lines,
        )


def _change_row(source: str, line: int, header: list[str], cells: list[str]) -> dict[str, object]:
    """A ``config`` row of one change line; a component, when given, prefixes the
    setting so the key reads like a registry path."""
    cell = dict(zip(header, cells, strict=False))
    component = cell.get("component", "").strip()
    setting = cell["setting"].strip()
    return {
        "source": source,
        "line": line,
        "time": cell["time"].strip(),
        "origin": "changelog",
        "key": f"{component}\\{setting}" if component else setting,
        "old": cell.get("old", "").strip() or None,
        "new": cell.get("new", "").strip() or None,
        "note": cell.get("note", "").strip() or None,
        "ts_quality": "exact",
    }


def _read_changelog(tally: _Tally, item: Evidence) -> None:
    """One change log's rows (or unparsed lines) into ``tally``."""
    rows, bad = tally.rows, tally.bad
    text = item.text or ""
    table = _records(text)
    header = _header(table)
    for line, cells in tally.usable(table[1:], item.source, text):
        if not any(c.strip() for c in cells):
            continue
        cell = dict(zip(header, cells, strict=False))
        if not cell.get("time", "").strip() or not cell.get("setting", "").strip():
            bad.append(
                _unparsed(item.source, line, "a change needs a time and a setting", ",".join(cells))
            )
            continue
        rows.append(_change_row(item.source, line, header, cells))
    tally.file_done(text)


def _change_times(
    frame: pl.DataFrame, items: list[Evidence], tally: _Tally, date_order: DateOrder
) -> pl.DataFrame:
    """``frame`` with its times read (ISO 8601 first, else the log's own order); a row
    whose time reads neither way moves from its file's records to its unparsed lines."""
    parts = extract(frame["time"], g.TIME)
    iso = parts.select(
        pl.col("y").alias("d1"),
        pl.col("mo").alias("d2"),
        pl.col("dd").alias("d3"),
        pl.col("h").alias("hh"),
        pl.col("mn").alias("mi"),
        pl.col("s").alias("ss"),
        pl.lit(None, pl.String).alias("ampm"),
    )
    ts = pl.coalesce(timestamps(iso, "ymd"), timestamps(parts, date_order))
    frame = frame.with_columns(ts.alias("ts"))
    unreadable = frame.filter(pl.col("ts").is_null())
    tally.bad += [
        _unparsed(
            r["source"],
            r["line"],
            "the time is neither ISO 8601 nor the log's format",
            r["time"],
        )
        for r in unreadable.iter_rows(named=True)
    ]
    for r in unreadable.iter_rows(named=True):
        i = [it.source for it in items].index(r["source"])
        tally.records[i] -= 1
        tally.unparsed_counts[i] += 1
    return frame.filter(pl.col("ts").is_not_null())


def read_changelogs(items: list[Evidence], date_order: DateOrder = "mdy") -> TableResult:
    """``time,component,setting,old,new,note``: time and setting are required."""
    tally = _Tally()
    for item in items:
        _read_changelog(tally, item)
    frame = pl.DataFrame(
        tally.rows,
        schema={
            **{
                k: pl.String
                for k in ("source", "time", "origin", "key", "old", "new", "note", "ts_quality")
            },
            "line": pl.UInt32,
        },
    )
    if frame.height:
        frame = _change_times(frame, items, tally, date_order)
    return tally.result(frame, frames.CONFIG)


_NAME_COLUMNS = ("display name", "displayname", "name", "cn", "display-name")
_CLASS_COLUMNS = ("obj-class", "objectclass", "object class", "recipienttype")
# Directory objects that stand for someone outside the organisation.
_FOREIGN_CLASSES = ("remote", "contact", "mailcontact", "custom recipient", "mailuser")


def read_directories(items: list[Evidence]) -> TableResult:
    """Addresses (lower-cased) with their display names; X400/X500/MS entries and
    other non-SMTP proxies are skipped."""
    tally = _Tally()
    rows, bad = tally.rows, tally.bad
    for item in items:
        text = item.text or ""
        table = _records(text)
        header = _header(table)
        address_cols = [i for i, c in enumerate(header) if c in g.ADDRESS_COLUMNS]
        name_col = next((i for i, c in enumerate(header) if c in _NAME_COLUMNS), None)
        class_col = next((i for i, c in enumerate(header) if c in _CLASS_COLUMNS), None)
        cells_of: list[tuple[int, str, str | None]] = []
        if address_cols:
            for line, cells in tally.usable(table[1:], item.source, text):
                foreign = (
                    class_col is not None
                    and class_col < len(cells)
                    and cells[class_col].strip().lower() in _FOREIGN_CLASSES
                )
                if foreign:
                    continue  # a custom recipient: an address outside the organisation
                name = (
                    cells[name_col].strip()
                    if name_col is not None and name_col < len(cells)
                    else None
                )
                for i in address_cols:
                    if i < len(cells):
                        for entry in re.split(r"[%;\n]", cells[i]):
                            if entry.strip():
                                cells_of.append((line, entry, name or None))
        else:  # a plain list, one address per line
            for line, raw in enumerate(
                text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), 1
            ):
                if raw.strip():
                    cells_of.append((line, raw, None))
        if cells_of:
            parsed = extract(pl.Series([c for _, c, _ in cells_of], dtype=pl.String), g.PROXY)
            for (line, raw, name), p in zip(cells_of, parsed.iter_rows(named=True), strict=True):
                if not p["matched"]:
                    if not address_cols:  # in a list every line should be an address
                        bad.append(_unparsed(item.source, line, "not an address", raw))
                    continue
                if p["type"] and p["type"].lower() != "smtp":
                    continue  # X400:, X500:, MS:, ...
                rows.append(
                    {
                        "address": p["address"].lower(),
                        "display_name": name,
                        "source": item.source,
                        "line": line,
                    }
                )
        tally.file_done(text)
    frame = pl.DataFrame(rows, schema=dict(frames.DIRECTORY)).unique(
        subset=["address"], keep="first", maintain_order=True
    )
    return tally.result(frame, frames.DIRECTORY)


_NT4_COLUMNS = (
    "date",
    "time",
    "source",
    "type",
    "category",
    "event",
    "user",
    "computer",
    "description",
)
_MODERN = {
    "level": "type",
    "date and time": "when",
    "source": "source",
    "event id": "event",
    "task category": "category",
}


def read_eventlogs(items: list[Evidence], date_order: DateOrder = "mdy") -> TableResult:
    """Event Viewer exports -> ``service_events`` rows (every event, its full message)."""
    tally = _Tally()
    rows, bad = tally.rows, tally.bad
    for item in items:
        text = item.text or ""
        table = _records(text)
        first = _header(table)
        modern = bool(first) and first[0] == "level"
        has_header = modern or (bool(first) and first[0] == "date")
        header = first if has_header else list(_NT4_COLUMNS)
        for line, cells in tally.usable(table[1:] if has_header else table, item.source, text):
            if not any(c.strip() for c in cells):
                continue
            if modern:
                named = {_MODERN.get(h, h): c for h, c in zip(header, cells, strict=False)}
                # The description is the last cell, after the named columns.
                named["description"] = cells[-1] if len(cells) > len(_MODERN) else ""
                when = named.get("when", "")
            else:
                named = dict(zip(header, cells, strict=False))
                if len(cells) > len(header):  # commas inside an unquoted description
                    named["description"] = ",".join(cells[len(header) - 1 :])
                when = f"{named.get('date', '').strip()} {named.get('time', '').strip()}"
            event = named.get("event", "").strip()
            if not event.isdigit():
                bad.append(_unparsed(item.source, line, "not an event record", ",".join(cells)))
                continue
            rows.append(
                {
                    "source": item.source,
                    "line": line,
                    "when": when,
                    "log": None,
                    "event_source": named.get("source", "").strip() or None,
                    "event_id": int(event),
                    "type": named.get("type", "").strip() or None,
                    "category": named.get("category", "").strip() or None,
                    "computer": named.get("computer", "").strip() or None,
                    "message": (named.get("description") or "").strip() or None,
                }
            )
        tally.file_done(text)
    frame = pl.DataFrame(
        rows,
        schema={
            "source": pl.String,
            "line": pl.UInt32,
            "when": pl.String,
            "log": pl.String,
            "event_source": pl.String,
            "event_id": pl.UInt32,
            "type": pl.String,
            "category": pl.String,
            "computer": pl.String,
            "message": pl.String,
        },
    )
    if frame.height:
        parts = extract(frame["when"], g.EVENT_TIME)
        frame = frame.with_columns(timestamps(parts, date_order).alias("ts"))
    return tally.result(frame, frames.SERVICE_EVENTS)


def _reading(found: TableResult, items: list[Evidence], frame: str) -> Reading:
    return reading_of(items, found, {frame: found.rows})


CHANGELOG = FormatReader(
    formats=(Format("changelog", 110, g.looks_like_changelog),),
    frames=("config",),
    read_files=lambda items, options: _reading(
        read_changelogs(items, options.date_order), items, "config"
    ),
)
DIRECTORY = FormatReader(
    formats=(Format("directory", 130, g.looks_like_directory),),
    frames=("directory",),
    read_files=lambda items, options: _reading(read_directories(items), items, "directory"),
)
EVENTLOG = FormatReader(
    formats=(Format("eventlog", 120, g.looks_like_eventlog),),
    frames=("service_events",),
    read_files=lambda items, options: _reading(
        read_eventlogs(items, options.date_order), items, "service_events"
    ),
)
