"""Registry exports -> ``config`` rows: the values under ``Services\\MSExchangeIMC``,
decoded, each with its file and line. Other keys are read (and counted) but not
kept: the rules look at the Internet Mail Service's settings.

A snapshot's time comes from a date-time in the file name
(``imc-2000-05-15T0900.reg``), else from the file's modification time, which is
weak evidence and marked so in ``ts_quality``. Several snapshots of the same value
become changes: each row's ``old`` is the value in the snapshot before it."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from dataclasses import dataclass
from typing import Any, TypedDict

import polars as pl

from forensics.core import frames
from forensics.core.evidence import Evidence
from forensics.core.lineparse import extract
from forensics.core.timeparse import timestamps
from forensics.knowledge import load
from forensics.readers.base import Format, FormatReader, Reading, ReadOptions, reading_of
from grammars import evidence_csv as g_csv
from grammars import registry as g

# Rust regex syntax (polars runs it over every key line).
_IMC = re.compile(r"(?i)\\Services\\(MSExchangeIMC\\.*)$")
_STAMP_IN_NAME = re.compile(
    r"(?P<y>(?:19|20)[0-9]{2})-?(?P<m>[01][0-9])-?(?P<d>[0-3][0-9])"
    r"(?:[T_ -]?(?P<H>[0-2][0-9]):?(?P<M>[0-5][0-9]))?"
)


class ConfigRow(TypedDict):
    """A ``config`` row as read, before ``old`` is filled in from the snapshot before."""

    source: str
    line: int
    ts: dt.datetime | None
    origin: str
    key: str
    new: str | None
    note: str | None
    ts_quality: str


class UnparsedRow(TypedDict):
    source: str
    line: int
    reason: str | None
    text: str


class Snapshot(TypedDict):
    """An Internet Mail Service key present in one snapshot (file)."""

    source: str
    ts: dt.datetime | None
    quality: str
    section: str
    line: int


@dataclass
class RegistryResult:
    config: pl.DataFrame
    unparsed: pl.DataFrame
    records: list[int]
    unparsed_counts: list[int]
    lines: list[int]


def logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, text) with backslash-continued lines joined."""
    out: list[tuple[int, str]] = []
    pending: tuple[int, str] | None = None
    for number, line in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), 1):
        if pending is not None:
            line = pending[1] + line.lstrip(" \t")
            number = pending[0]
            pending = None
        if line.endswith("\\") and not line.lstrip().startswith(("[", ";")):
            pending = (number, line[:-1])
            continue
        out.append((number, line))
    if pending is not None:
        out.append(pending)
    if out and out[-1][1] == "":
        out.pop()
    return out


def snapshot_time(source: str, mtime: float | None) -> tuple[dt.datetime | None, str]:
    found = _STAMP_IN_NAME.search(source.rsplit("/", 1)[-1])
    if found:
        try:
            return (
                dt.datetime(
                    int(found["y"]),
                    int(found["m"]),
                    int(found["d"]),
                    int(found["H"] or 0),
                    int(found["M"] or 0),
                ),
                "filename",
            )
        except ValueError:
            pass
    if mtime is not None:
        return dt.datetime.fromtimestamp(mtime).replace(microsecond=0), "mtime"
    return None, "unknown"


def relayflags_meaning(value: int) -> str:
    table = load("relayflags")
    named: dict[int, str] = {0: table["none"], 1: table["deny_only"]}
    if value in named:
        return named[value]
    bits = [b["meaning"] for b in table["bit"] if value & b["value"]]
    return f"{value}: " + "; ".join(bits) + "; everyone else may not relay"


def _list_note(entries: list[str]) -> str:
    parts = []
    for entry in entries:
        net, _, mask = entry.partition(";")
        parts.append(f"{net.strip()}/{(mask or '255.255.255.255').strip()}")
    return f"{len(entries)} entries: " + ", ".join(parts)


def _decode(row: dict[str, Any], unicode: bool) -> tuple[str | None, str | None]:
    """(value as text, note) of one value line."""
    name = row["name"] or ""
    if row["delete_value"]:
        return None, "value deleted"
    if row["dword"] is not None:
        number = int(row["dword"], 16)
        note = relayflags_meaning(number) if name.lower() == "relayflags" else None
        return str(number), note
    if row["string"] is not None:
        return re.sub(r"\\(.)", r"\1", row["string"]), None
    decoded = g.decode_hex(row["hex"] or "", row["hex_type"], unicode)
    if isinstance(decoded, list):
        note = _list_note(decoded) if name.lower().startswith("relay") else None
        return ", ".join(decoded), note
    if isinstance(decoded, int):
        note = relayflags_meaning(decoded) if name.lower() == "relayflags" else None
        return str(decoded), note
    return (None if decoded is None else str(decoded)), None


def _absent_values(rows: list[ConfigRow], present: list[Snapshot]) -> list[ConfigRow]:
    """Rows for values an earlier snapshot of a key had and a later one lacks."""
    out: list[ConfigRow] = []
    snapshots = sorted(
        present, key=lambda p: (p["section"], p["ts"] or dt.datetime.min, p["source"])
    )
    for before, after in itertools.pairwise(snapshots):
        if before["section"] != after["section"]:
            continue
        prefix = after["section"] + "\\"
        had = {
            r["key"]: r
            for r in rows
            if r["source"] == before["source"] and r["key"].startswith(prefix)
        }
        has = {
            r["key"] for r in rows if r["source"] == after["source"] and r["key"].startswith(prefix)
        }
        for key in sorted(set(had) - has):
            if had[key]["new"] is None:
                continue  # already deleted there
            out.append(
                {
                    "source": after["source"],
                    "line": after["line"],  # the key's line: the value is missing under it
                    "ts": after["ts"],
                    "origin": "registry",
                    "key": key,
                    "new": None,
                    "note": "absent from this snapshot",
                    "ts_quality": after["quality"],
                }
            )
    return out


def _typed_value(name: str, kind: str | None, data: str | None) -> tuple[str | None, str | None]:
    """(value, note) of a value listed as ``REG_TYPE data`` (reg query, regedt32)."""
    kind = (kind or "").upper()
    data = (data or "").strip()
    if kind == "REG_DWORD":
        try:
            number = int(data, 16) if data.lower().startswith("0x") else int(data.split()[0])
        except (ValueError, IndexError):
            return data or None, "not a number"
        return str(number), relayflags_meaning(number) if name.lower() == "relayflags" else None
    if kind == "REG_MULTI_SZ":
        entries = [e.strip() for e in re.split(r"\\0|\n", data) if e.strip()]
        note = _list_note(entries) if name.lower().startswith("relay") else None
        return ", ".join(entries), note
    return data or None, None


def _unparsed_rows(source: str, bad: pl.DataFrame) -> list[UnparsedRow]:
    """Lines the grammar did not match, kept (cut to 200 characters) for the reader to see."""
    return [
        {"source": source, "line": r["line"], "reason": r["error"], "text": r["raw"][:200]}
        for r in bad.iter_rows(named=True)
    ]


def _listing_frame(text: str) -> tuple[list[str], pl.DataFrame, bool]:
    """(lines, one parsed row per physical line, whether it is regedt32 text): the two
    listing dialects need different grammars, so the dialect is decided first."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").rstrip("\n").split("\n")
    numbers = pl.int_range(1, len(lines) + 1, dtype=pl.UInt32, eager=True).alias("line")
    regedt32 = g.looks_like_regedt32(text)
    grammar = g.REGEDT32_LINE if regedt32 else g.REG_QUERY_LINE
    df = pl.concat(
        [
            pl.DataFrame([numbers, pl.Series("raw", lines, dtype=pl.String)]),
            extract(pl.Series(lines), grammar),
        ],
        how="horizontal",
    )
    return lines, df, regedt32


def _regedt32_values(df: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(frame with key and value context, one row per value, one row per key) of regedt32
    text, where a value spans several lines and so is grouped, not just filtered."""
    df = df.with_columns(
        pl.col("e_key").forward_fill().alias("key_path"),
        pl.col("e_written").forward_fill().alias("written"),
        # A value runs from its "Value n" line to the next value or key.
        pl.when(pl.col("e_key").is_not_null())
        .then(pl.lit(-1))
        .otherwise(pl.col("e_value").cast(pl.Int64))
        .forward_fill()
        .alias("value_no"),
    )
    values = (
        df.filter(pl.col("value_no") >= 0)
        .group_by("key_path", "value_no", maintain_order=True)
        .agg(
            pl.col("line").first(),
            pl.col("written").first(),
            pl.col("e_name").drop_nulls().first().alias("name"),
            pl.col("e_type").drop_nulls().first().alias("kind"),
            pl.concat_str([pl.col("e_data"), pl.col("e_more")], ignore_nulls=True)
            .filter(pl.col("e_data").is_not_null().cum_sum() > 0)
            .str.join("\n")
            .alias("data"),
        )
    )
    sections = df.filter(pl.col("e_key").is_not_null()).select("line", "key_path", "written")
    return df, values, sections


def _lastwrite_time(
    df: pl.DataFrame, ts: dt.datetime | None, quality: str
) -> tuple[dt.datetime | None, str]:
    """The snapshot's time: a regedt32 key's Last Write Time beats a modification time
    (or none), but a date in the file name is the examiner's word and is kept."""
    if ts is None or quality != "filename":
        written = df["written"].drop_nulls()
        if written.len():
            parts = extract(written.head(1).str.replace(r"\s+-\s+", " "), g_csv.EVENT_TIME)
            stamp = timestamps(parts).item()
            if stamp is not None:
                ts, quality = stamp, "lastwrite"
    return ts, quality


def _reg_query_values(df: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(one row per value, one row per key) of ``reg query`` output: one line per value."""
    df = df.with_columns(pl.col("q_key").forward_fill().alias("key_path"))
    values = df.filter(pl.col("q_name").is_not_null()).select(
        "line",
        "key_path",
        pl.col("q_name").alias("name"),
        pl.col("q_type").alias("kind"),
        pl.col("q_data").alias("data"),
    )
    sections = df.filter(pl.col("q_key").is_not_null()).select("line", "key_path")
    return values, sections


def _listed_keys(
    item: Evidence, sections: pl.DataFrame, ts: dt.datetime | None, quality: str
) -> list[Snapshot]:
    """The Internet Mail Service keys a listing shows: later a value missing under one of
    them, that an earlier snapshot had, becomes an "absent" row."""
    present: list[Snapshot] = []
    for r in sections.with_columns(
        pl.col("key_path").str.extract(_IMC.pattern, 1).alias("imc")
    ).iter_rows(named=True):
        if r["imc"] is not None:
            present.append(
                {
                    "source": item.source,
                    "ts": ts,
                    "quality": quality,
                    "section": r["imc"],
                    "line": r["line"],
                }
            )
    return present


def _listed_values(
    item: Evidence, values: pl.DataFrame, ts: dt.datetime | None, quality: str
) -> list[ConfigRow]:
    """``config`` rows of a listing's Internet Mail Service values; the unnamed value
    has several spellings, made one so snapshots of it line up."""
    rows: list[ConfigRow] = []
    imc = values.with_columns(pl.col("key_path").str.extract(_IMC.pattern, 1).alias("imc"))
    for r in imc.filter(pl.col("imc").is_not_null()).iter_rows(named=True):
        name = (
            "(default)"
            if (r["name"] or "").lower() in ("(default)", "<no name>", "")
            else r["name"]
        )
        value, note = _typed_value(name, r["kind"], r["data"])
        rows.append(
            {
                "source": item.source,
                "line": r["line"],
                "ts": ts,
                "origin": "registry",
                "key": r["imc"] + "\\" + name,
                "new": value,
                "note": note,
                "ts_quality": quality,
            }
        )
    return rows


def _read_listing(
    item: Evidence, text: str
) -> tuple[list[ConfigRow], list[UnparsedRow], list[Snapshot], int]:
    """``reg query`` output or regedt32 "Save Subtree As" text: (rows, unparsed,
    sections seen, lines). A regedt32 key's Last Write Time dates the snapshot when
    the file name does not."""
    lines, df, regedt32 = _listing_frame(text)
    ts, quality = snapshot_time(item.source, item.mtime)
    bad = _unparsed_rows(item.source, df.filter(~pl.col("matched")))
    if regedt32:
        df, values, sections = _regedt32_values(df)
        ts, quality = _lastwrite_time(df, ts, quality)
    else:
        values, sections = _reg_query_values(df)
    present = _listed_keys(item, sections, ts, quality)
    rows = _listed_values(item, values, ts, quality)
    return rows, bad, present, len(lines)


@dataclass
class _FileResult:
    """One file's share of a ``RegistryResult``."""

    rows: list[ConfigRow]
    unparsed: list[UnparsedRow]
    present: list[Snapshot]
    kept: int
    unparsed_count: int
    lines: int


def _export_frame(text: str) -> pl.DataFrame:
    """One parsed row per logical line of a ``.reg`` export (header lines dropped), with
    the key each line belongs to, since a value line does not name its key."""
    lines = logical_lines(text)
    body = [(n, s) for n, s in lines if not g.HEADER.match(s)]
    parsed = extract(pl.Series([s for _, s in body], dtype=pl.String), g.LINE)
    return pl.concat(
        [
            pl.DataFrame(
                {"line": [n for n, _ in body], "raw": [s for _, s in body]},
                schema={"line": pl.UInt32, "raw": pl.String},
            ),
            parsed,
        ],
        how="horizontal",
    ).with_columns(
        # The key each line belongs to ("" after a [-key] deletion).
        pl.when(pl.col("key").is_not_null())
        .then(pl.when(pl.col("delete_key").is_not_null()).then(pl.lit("")).otherwise("key"))
        .forward_fill()
        .alias("current_key")
    )


def _export_keys(
    item: Evidence, df: pl.DataFrame, ts: dt.datetime | None, quality: str
) -> tuple[list[ConfigRow], list[Snapshot]]:
    """(a row per deleted Internet Mail Service key, the ones present) of an export."""
    rows: list[ConfigRow] = []
    present: list[Snapshot] = []
    sections = df.filter(pl.col("key").is_not_null()).with_columns(
        pl.col("key").str.extract(_IMC.pattern, 1).alias("imc")
    )
    for section in sections.filter(pl.col("imc").is_not_null()).iter_rows(named=True):
        if section["delete_key"]:
            # "[-HKEY_...\\MSExchangeIMC\\Parameters]": the whole key goes.
            rows.append(
                {
                    "source": item.source,
                    "line": section["line"],
                    "ts": ts,
                    "origin": "registry",
                    "key": section["imc"],
                    "new": None,
                    "note": "key deleted",
                    "ts_quality": quality,
                }
            )
            continue
        # The key is in this snapshot: a value it lacks, an earlier one had.
        present.append(
            {
                "source": item.source,
                "ts": ts,
                "quality": quality,
                "section": section["imc"],
                "line": section["line"],
            }
        )
    return rows, present


def _export_values(
    item: Evidence, df: pl.DataFrame, unicode: bool, ts: dt.datetime | None, quality: str
) -> list[ConfigRow]:
    """``config`` rows of an export's Internet Mail Service values."""
    # Only the Internet Mail Service's values are kept; Python decodes just those.
    imc = df.filter(
        pl.col("matched")
        & pl.col("key").is_null()
        & (pl.col("name").is_not_null() | pl.col("default").is_not_null())
    ).with_columns(pl.col("current_key").str.extract(_IMC.pattern, 1).alias("imc"))
    rows: list[ConfigRow] = []
    for row in imc.filter(pl.col("imc").is_not_null()).iter_rows(named=True):
        value, note = _decode(row, unicode)
        rows.append(
            {
                "source": item.source,
                "line": row["line"],
                "ts": ts,
                "origin": "registry",
                "key": row["imc"] + "\\" + (row["name"] or "(default)"),
                "new": value,
                "note": note,
                "ts_quality": quality,
            }
        )
    return rows


def _read_export(item: Evidence, text: str) -> _FileResult:
    """A regedit ``.reg`` export: deleted keys come before values, as they always have."""
    line_count = text.count("\n") + (0 if text.endswith(("\n", "\r")) or not text else 1)
    unicode = "Version 5.00" in text[:200]
    df = _export_frame(text)
    ts, quality = snapshot_time(item.source, item.mtime)
    bad = df.filter(~pl.col("matched"))
    unparsed = _unparsed_rows(item.source, bad)
    deleted, present = _export_keys(item, df, ts, quality)
    values = _export_values(item, df, unicode, ts, quality)
    return _FileResult(
        rows=deleted + values,
        unparsed=unparsed,
        present=present,
        kept=len(deleted) + len(values),
        unparsed_count=bad.height,
        lines=line_count,
    )


def _read_file(item: Evidence) -> _FileResult:
    """A file without the regedit header is a ``reg query`` or regedt32 listing."""
    text = item.text or ""
    if not g.HEADER.match(text.lstrip()[:64]):
        listed, bad_rows, listed_keys, count = _read_listing(item, text)
        return _FileResult(listed, bad_rows, listed_keys, len(listed), len(bad_rows), count)
    return _read_export(item, text)


def _config_frame(rows: list[ConfigRow]) -> pl.DataFrame:
    """The ``config`` frame in time order, each row's ``old`` filled in."""
    config = pl.DataFrame(rows, schema={k: frames.CONFIG[k] for k in frames.CONFIG if k != "old"})
    # Snapshots of the same value, in time order: each row's old is the one before.
    config = config.sort("key", "ts", "source", "line", nulls_last=True).with_columns(
        pl.col("new").shift(1).over("key").alias("old")
    )
    return frames.conform(config.sort("ts", "source", "line", nulls_last=True), frames.CONFIG)


def read(items: list[Evidence]) -> RegistryResult:
    rows: list[ConfigRow] = []
    unparsed: list[UnparsedRow] = []
    present_keys: list[Snapshot] = []
    records: list[int] = []
    unparsed_counts: list[int] = []
    line_counts: list[int] = []
    for item in items:
        found = _read_file(item)
        rows += found.rows
        unparsed += found.unparsed
        present_keys += found.present
        records.append(found.kept)
        unparsed_counts.append(found.unparsed_count)
        line_counts.append(found.lines)
    # Absences are found across files, so only once every file is read.
    rows += _absent_values(rows, present_keys)
    return RegistryResult(
        config=_config_frame(rows),
        unparsed=frames.conform(
            pl.DataFrame(unparsed, schema=dict(frames.UNPARSED)), frames.UNPARSED
        ),
        records=records,
        unparsed_counts=unparsed_counts,
        lines=line_counts,
    )


def read_files(items: list[Evidence], options: ReadOptions) -> Reading:
    found = read(items)
    return reading_of(items, found, {"config": found.config})


READER = FormatReader(
    formats=(Format("registry", 10, g.looks_like),),
    frames=("config",),
    read_files=read_files,
)
