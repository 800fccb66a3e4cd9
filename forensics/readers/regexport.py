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
from forensics.readers.base import Format, FormatReader, Reading, ReadOptions, counted
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


def _read_listing(
    item: Evidence, text: str
) -> tuple[list[ConfigRow], list[UnparsedRow], list[Snapshot], int]:
    """``reg query`` output or regedt32 "Save Subtree As" text: (rows, unparsed,
    sections seen, lines). A regedt32 key's Last Write Time dates the snapshot when
    the file name does not."""
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
    ts, quality = snapshot_time(item.source, item.mtime)
    bad: list[UnparsedRow] = [
        {"source": item.source, "line": r["line"], "reason": r["error"], "text": r["raw"][:200]}
        for r in df.filter(~pl.col("matched")).iter_rows(named=True)
    ]
    if regedt32:
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
        if ts is None or quality != "filename":
            written = df["written"].drop_nulls()
            if written.len():
                parts = extract(written.head(1).str.replace(r"\s+-\s+", " "), g_csv.EVENT_TIME)
                stamp = timestamps(parts).item()
                if stamp is not None:
                    ts, quality = stamp, "lastwrite"
    else:
        df = df.with_columns(pl.col("q_key").forward_fill().alias("key_path"))
        values = df.filter(pl.col("q_name").is_not_null()).select(
            "line",
            "key_path",
            pl.col("q_name").alias("name"),
            pl.col("q_type").alias("kind"),
            pl.col("q_data").alias("data"),
        )
        sections = df.filter(pl.col("q_key").is_not_null()).select("line", "key_path")
    rows: list[ConfigRow] = []
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
    return rows, bad, present, len(lines)


def read(items: list[Evidence]) -> RegistryResult:
    rows: list[ConfigRow] = []
    unparsed: list[UnparsedRow] = []
    present_keys: list[Snapshot] = []
    records: list[int] = []
    unparsed_counts: list[int] = []
    line_counts: list[int] = []
    for item in items:
        text = item.text or ""
        if not g.HEADER.match(text.lstrip()[:64]):
            listed, bad_rows, listed_keys, count = _read_listing(item, text)
            rows += listed
            unparsed += bad_rows
            present_keys += listed_keys
            records.append(len(listed))
            unparsed_counts.append(len(bad_rows))
            line_counts.append(count)
            continue
        lines = logical_lines(text)
        line_counts.append(text.count("\n") + (0 if text.endswith(("\n", "\r")) or not text else 1))
        unicode = "Version 5.00" in text[:200]
        body = [(n, s) for n, s in lines if not g.HEADER.match(s)]
        parsed = extract(pl.Series([s for _, s in body], dtype=pl.String), g.LINE)
        ts, quality = snapshot_time(item.source, item.mtime)
        df = pl.concat(
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
        bad = df.filter(~pl.col("matched"))
        unparsed += [
            {"source": item.source, "line": r["line"], "reason": r["error"], "text": r["raw"][:200]}
            for r in bad.iter_rows(named=True)
        ]
        # Only the Internet Mail Service's values are kept; Python decodes just those.
        imc = df.filter(
            pl.col("matched")
            & pl.col("key").is_null()
            & (pl.col("name").is_not_null() | pl.col("default").is_not_null())
        ).with_columns(pl.col("current_key").str.extract(_IMC.pattern, 1).alias("imc"))
        kept = 0
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
                kept += 1
                continue
            # The key is in this snapshot: a value it lacks, an earlier one had.
            present_keys.append(
                {
                    "source": item.source,
                    "ts": ts,
                    "quality": quality,
                    "section": section["imc"],
                    "line": section["line"],
                }
            )
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
            kept += 1
        bad_count = bad.height
        records.append(kept)
        unparsed_counts.append(bad_count)
    rows += _absent_values(rows, present_keys)
    config = pl.DataFrame(rows, schema={k: frames.CONFIG[k] for k in frames.CONFIG if k != "old"})
    # Snapshots of the same value, in time order: each row's old is the one before.
    config = config.sort("key", "ts", "source", "line", nulls_last=True).with_columns(
        pl.col("new").shift(1).over("key").alias("old")
    )
    return RegistryResult(
        config=frames.conform(config.sort("ts", "source", "line", nulls_last=True), frames.CONFIG),
        unparsed=frames.conform(
            pl.DataFrame(unparsed, schema=dict(frames.UNPARSED)), frames.UNPARSED
        ),
        records=records,
        unparsed_counts=unparsed_counts,
        lines=line_counts,
    )


def read_files(items: list[Evidence], options: ReadOptions) -> Reading:
    found = read(items)
    return counted(
        items,
        found.records,
        found.unparsed_counts,
        found.lines,
        frames={"config": found.config},
        unparsed_rows=found.unparsed,
    )


READER = FormatReader(
    formats=(Format("registry", 10, g.looks_like),),
    frames=("config",),
    read_files=read_files,
)
