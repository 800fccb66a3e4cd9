"""The report's tables for investigators: findings' evidence, sessions, refused
recipients and inputs, each searchable, sortable, paged and exportable as CSV in the
page (forensics/report/tablejs.py draws them).

A table travels as JSON in one non-executable script element, column by column:
a column with few distinct values (directions, outcomes, files) as a dictionary and
one index per row, the others as plain values, so that twenty thousand sessions stay
a few megabytes. A table never embeds more than ``MAX_ROWS`` rows: the page says how
many were left out and that ``smtp-forensics parse`` writes them all. The first page
of each table is also written as HTML (escaped by the template), so the report reads
without scripts too.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any

import polars as pl

from forensics.core.frames import Frames
from forensics.core.printable import FORMULA_START, printable, printable_expr
from forensics.report import traffic as traffic_summary

MAX_ROWS = 20_000  # rows a table embeds; the Parquet frames of `parse` have them all
PAGE_SIZE = 50
EVIDENCE_PAGE_SIZE = 10
PARSE = "smtp-forensics parse PATH... --out DIR"

# How a column's cells are shown, sorted and searched:
#   time   ISO time text, sorted as time, never wrapped
#   num    a number, sorted as one, right-aligned
#   token  an address, host, file:line or hash: never broken inside
#   long   free text (replies, log lines, notes): wraps between words
#   text   short words (direction, outcome, category)
KINDS = ("time", "num", "token", "long", "text")


@dataclass(frozen=True)
class Column:
    key: str  # what the search box's key:value filter names
    label: str
    kind: str = "text"


@dataclass
class Table:
    id: str  # the element id suffix; our own word, never from the evidence
    name: str  # the CSV file's name, without .csv
    noun: str  # what a row is, plural ("sessions")
    columns: tuple[Column, ...]
    rows: list[list[Any]]  # the embedded rows, in the order they are first shown
    total: int  # rows in all, embedded or not
    page_size: int = PAGE_SIZE
    left_out_note: str = ""  # says what is not embedded and where it is

    @property
    def left_out(self) -> int:
        return self.total - len(self.rows)

    def first_page(self) -> list[list[str]]:
        """The first page's cells as text, for the HTML written before any script."""
        return [[_text(v) for v in row] for row in self.rows[: self.page_size]]

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "noun": self.noun,
            "columns": [{"key": c.key, "label": c.label, "kind": c.kind} for c in self.columns],
            "data": [
                _encode([row[i] for row in self.rows], c.kind) for i, c in enumerate(self.columns)
            ],
            "length": len(self.rows),
            "total": self.total,
            "left_out": self.left_out,
            "page_size": self.page_size,
        }


def _cell(value: Any) -> Any:
    """A cell as the table carries it: text with its control characters shown
    (core.printable: an ESC from a log is seen as \\x1b, in the page and the CSV)."""
    return printable(value) if isinstance(value, str) else value


def _text(value: Any) -> str:
    """A cell as shown (the script shows numbers the same way)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return "" if value is None else str(value)


def decode(column: dict[str, Any]) -> list[Any]:
    """A column's cells from its encoding (what the page's script does)."""
    if "seconds" in column:
        epoch = column["epoch"]
        return [None if t is None else _time_text(epoch + t) for t in column["seconds"]]
    if "values" in column:
        return list(column["values"])
    return [column["dict"][i] for i in column["codes"]]


def _seconds(value: str) -> int:
    return int(dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC).timestamp())


def _encode(values: list[Any], kind: str = "text") -> dict[str, Any]:
    """A column as plain values, or as a dictionary and one index per row when its
    values repeat (half the rows or fewer distinct), or for times as seconds after
    the first (``epoch``, seconds since 1970 of a time read as UTC): smaller, and
    the same cells once decoded (tablejs.py, html.table_data)."""
    if kind == "time":
        try:
            stamps = [None if v is None else _seconds(v) for v in values]
        except (TypeError, ValueError):  # not a time as the tables write them
            stamps = []
        epoch = min((t for t in stamps if t is not None), default=0)
        if stamps and all(
            _time_text(t) == v for v, t in zip(values, stamps, strict=True) if t is not None
        ):
            return {"epoch": epoch, "seconds": [None if t is None else t - epoch for t in stamps]}
    distinct: dict[Any, int] = {}
    codes = [distinct.setdefault(v, len(distinct)) for v in values]
    if len(distinct) * 2 <= len(values):
        return {"dict": list(distinct), "codes": codes}
    return {"values": values}


def _time_text(seconds: int) -> str:
    """A time as the tables show it, from seconds since 1970 (the script's decoding)."""
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def _time(column: str) -> pl.Expr:
    return pl.col(column).dt.strftime("%Y-%m-%d %H:%M:%S")


def _where(source: str = "source", line: str = "line") -> pl.Expr:
    return pl.concat_str(
        [pl.col(source), pl.col(line).cast(pl.String)], separator=":", ignore_nulls=True
    )


def _note(total: int, shown: int, noun: str, order: str, frame: str) -> str:
    if total <= shown:
        return ""
    return (
        f"This page holds the first {shown:,} of {total:,} {noun} {order}; the other "
        f"{total - shown:,} are left out to keep the report small. "
        f"`{PARSE}` writes them all ({frame}.parquet)."
    )


def _table(
    id: str,
    name: str,
    noun: str,
    columns: tuple[Column, ...],
    frame: pl.DataFrame,
    total: int,
    order: str,
    parquet: str,
    page_size: int = PAGE_SIZE,
) -> Table:
    # Control characters written out in polars, not cell by cell.
    shown = frame.with_columns(
        printable_expr(pl.col(c)) for c, t in frame.schema.items() if t == pl.String
    )
    rows = [list(r) for r in shown.iter_rows()]
    return Table(
        id=id,
        name=name,
        noun=noun,
        columns=columns,
        rows=rows,
        total=total,
        page_size=page_size,
        left_out_note=_note(total, len(rows), noun, order, parquet),
    )


SESSION_COLUMNS = (
    Column("start", "Start", "time"),
    Column("end", "End", "time"),
    Column("direction", "Direction"),
    Column("client", "Remote address", "token"),
    Column("host", "Remote host", "token"),
    Column("helo", "HELO", "token"),
    Column("auth", "AUTH user", "token"),
    Column("from", "MAIL FROM", "token"),
    Column("rcpts", "RCPTs", "num"),
    Column("accepted", "Accepted", "num"),
    Column("refused", "Refused", "num"),
    Column("data", "Data"),
    Column("outcome", "Outcome"),
    Column("software", "Software", "long"),
    Column("file", "File", "token"),
)


def sessions(frames: Frames, max_rows: int | None = None) -> Table:
    frame = (
        frames.sessions.sort("start", "source", "session", nulls_last=True)
        .head(MAX_ROWS if max_rows is None else max_rows)
        .select(
            _time("start"),
            _time("end"),
            "direction",
            "remote_ip",
            "remote_host",
            "helo",
            "auth_user",
            "mail_from",
            pl.col("rcpt_total").cast(pl.Int64),
            pl.col("rcpt_accepted").cast(pl.Int64),
            pl.col("rcpt_refused").cast(pl.Int64),
            pl.col("data_accepted").replace_strict(
                {True: "accepted", False: "refused"}, default=None, return_dtype=pl.String
            ),
            "outcome",
            "software",
            "source",
        )
    )
    return _table(
        "sessions", "sessions", "sessions", SESSION_COLUMNS, frame, frames.sessions.height,
        "in time order", "sessions",
    )  # fmt: skip


REFUSED_COLUMNS = (
    Column("time", "Time", "time"),
    Column("direction", "Direction"),
    Column("client", "Client", "token"),
    Column("from", "From", "token"),
    Column("to", "To", "token"),
    Column("code", "Code", "num"),
    Column("reply", "Reply", "long"),
    Column("category", "Category"),
    Column("where", "Where", "token"),
)


def refused(frames: Frames, max_rows: int | None = None) -> Table:
    every = frames.recipients.filter(pl.col("accepted") == False)  # noqa: E712
    frame = (
        every.sort("ts", "source", "line", nulls_last=True)
        .head(MAX_ROWS if max_rows is None else max_rows)
        .select(
            _time("ts"),
            "direction",
            "remote_ip",
            "mail_from",
            "rcpt",
            pl.col("code").cast(pl.Int64),
            "text",
            "refusal",
            _where(),
        )
    )
    return _table(
        "refused", "refused-recipients", "refused RCPTs", REFUSED_COLUMNS, frame, every.height,
        "in time order", "recipients",
    )  # fmt: skip


INPUT_COLUMNS = (
    Column("path", "Path", "token"),
    Column("format", "Format"),
    Column("host", "Host", "token"),
    Column("records", "Records", "num"),
    Column("unparsed", "Unparsed", "num"),
    Column("lines", "Lines", "num"),
    Column("bytes", "Bytes", "num"),
    Column("sha256", "SHA-256", "token"),
    Column("programs", "Programs", "long"),
    Column("note", "Note", "long"),
)


def inputs(frames: Frames, max_rows: int | None = None) -> Table:
    frame = (
        frames.inputs.sort("path")
        .head(MAX_ROWS if max_rows is None else max_rows)
        .select(
            "path",
            "format",
            "host",
            *(pl.col(c).cast(pl.Int64) for c in ("records", "unparsed", "lines", "bytes")),
            "sha256",
            "programs",
            "note",
        )
    )
    table = _table(
        "inputs",
        "inputs",
        "files",
        INPUT_COLUMNS,
        frame,
        frames.inputs.height,
        "by path",
        "inputs",
    )
    if table.left_out:
        table.left_out_note += (
            " The JSON findings document (--json) and the manifest (--manifest FILE) list "
            "every file too."
        )
    return table


EVIDENCE_COLUMNS = (
    Column("time", "Time", "time"),
    Column("evidence", "Evidence", "long"),
    Column("where", "Where", "token"),
)

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def evidence(index: int, finding: dict[str, Any]) -> Table:
    """A finding's evidence rows (those the finding carries: the JSON's rows)."""
    rows = [
        [
            (e.get("time") or "").replace("T", " ") or None,
            _cell(e.get("text")),
            _cell(f"{e['source']}:{e['line']}" if e.get("line") is not None else e.get("source")),
        ]
        for e in finding["evidence"]
    ]
    total = int(finding["evidence_total"])
    subject = _UNSAFE_NAME.sub("_", str(finding["subject"]))[:60].strip("._-")
    table = Table(
        id=f"evidence-{index}",
        name=f"evidence-{finding['rule']}-{subject}" if subject else f"evidence-{finding['rule']}",
        noun="evidence rows",
        columns=EVIDENCE_COLUMNS,
        rows=rows,
        total=max(total, len(rows)),
        page_size=EVIDENCE_PAGE_SIZE,
    )
    if table.left_out:
        table.left_out_note = (
            f"This finding carries the first {len(rows):,} of {total:,} evidence rows in "
            "time order (so does the JSON findings document). Refused RCPTs among the "
            "rest are in the Refused recipients table below; "
            f"`{PARSE}` writes every row of the frames they come from."
        )
    return table


def data_json(tables: list[Table]) -> str:
    """Every table as JSON that cannot end or alter its script element (every "<"
    is the escape \\u003c; no character beyond ASCII), with the one rule that keeps
    an exported cell from starting a formula."""
    doc = {"formula_start": list(FORMULA_START), "tables": [t.as_json() for t in tables]}
    return json.dumps(doc, ensure_ascii=True, separators=(",", ":")).replace("<", "\\u003c")


# The traffic summary (report/traffic.py): each table as small as its cap keeps it.
TRAFFIC_COLUMNS: dict[str, tuple[Column, ...]] = {
    "domains": (
        Column("domain", "Recipient domain", "token"),
        Column("received", "Received", "num"),
        Column("sent", "Sent", "num"),
        Column("refused", "Refused", "num"),
        Column("deferred", "Deferred (4xx)", "num"),
        Column("categories", "Refused by category", "long"),
    ),
    "clients": (
        Column("client", "Client address", "token"),
        Column("host", "Client host", "token"),
        Column("sessions", "Sessions", "num"),
        Column("accepted", "RCPTs accepted", "num"),
        Column("refused", "Refused", "num"),
        Column("deferred", "Deferred (4xx)", "num"),
        Column("categories", "Refused by category", "long"),
    ),
    "hours": (
        Column("hour", "Hour", "time"),
        Column("inbound", "Inbound sessions", "num"),
        Column("outbound", "Outbound sessions", "num"),
        Column("accepted", "RCPTs accepted", "num"),
        Column("refused", "Refused", "num"),
        Column("deferred", "Deferred (4xx)", "num"),
    ),
    "refused_senders": (
        Column("from", "MAIL FROM", "token"),
        Column("category", "Category"),
        Column("refused", "Refused", "num"),
        Column("deferred", "Deferred (4xx)", "num"),
    ),
    "refused_recipients": (
        Column("to", "RCPT TO", "token"),
        Column("category", "Category"),
        Column("refused", "Refused", "num"),
        Column("deferred", "Deferred (4xx)", "num"),
    ),
}
TRAFFIC_NOUNS = {
    "domains": "recipient domains",
    "clients": "clients",
    "hours": "hours",
    "refused_senders": "refused senders",
    "refused_recipients": "refused recipients",
}


def _categories() -> pl.Expr:
    return (
        pl.col("refused_by")
        .list.eval(
            pl.concat_str(
                [pl.element().struct.field("category").fill_null("unknown"),
                 pl.element().struct.field("count").cast(pl.String)],
                separator=" ",
            )
        )
        .list.join(", ")
    )  # fmt: skip


def traffic(summary: traffic_summary.Summary) -> list[Table]:
    """The traffic summary's tables, in TABLES order; each says how many rows its
    cap left out (the JSON's ``traffic.left_out``)."""
    out = []
    for name in traffic_summary.TABLES:
        frame = summary.tables[name]
        if "refused_by" in frame.columns:
            frame = frame.with_columns(_categories())
        if "hour" in frame.columns:
            frame = frame.with_columns(_time("hour"))
        table = _table(
            f"traffic-{name.replace('_', '-')}", f"traffic-{name.replace('_', '-')}",
            TRAFFIC_NOUNS[name], TRAFFIC_COLUMNS[name], frame, summary.total[name], "", "",
        )  # fmt: skip
        if table.left_out:
            order = "in time order" if name == "hours" else "with the largest counts"
            table.left_out_note = (
                f"The first {len(table.rows):,} of {table.total:,} {table.noun} {order}; "
                f"the other {table.left_out:,} are left out, here and in the JSON (its "
                f"traffic.left_out counts them). `{PARSE}` writes the sessions and "
                "recipients they are counted from."
            )
        out.append(table)
    return out
