"""Message tracking logs -> the ``tracking`` frame: one row per event and recipient.

Three generations (grammars in :mod:`grammars.tracking`): Exchange 4.0/5.x records
over several lines, Exchange 2000/2003 tab-delimited lines under a ``# Date<TAB>Time``
field line, Exchange 2007+ CSV under ``#Fields:``. Each event id becomes one word
from ``knowledge/tracking.toml``; a reply in the recipient status (Exchange 2007+
FAIL and SEND events) is read with the shared SMTP reply grammar and sorted by the
shared phrase table. Times are kept as written (GMT/UTC) in ``ts_utc``; ``ts``
starts equal and is moved onto the protocol logs' clock by :mod:`forensics.derive.paths`.
Every line is a record line, a header, blank, or unparsed with its file and line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from forensics.core import frames
from forensics.core.evidence import Evidence
from forensics.core.lineparse import Engine, extract
from forensics.core.replies import refusal_category
from forensics.core.text import lines_frame
from forensics.core.timeparse import DateOrder, timestamps
from forensics.knowledge import load
from forensics.readers.base import Format, FormatReader, Reading, ReadOptions, reading_of
from forensics.readers.common import (
    column_or_null,
    csv_unquote,
    iso_parts,
    per_file,
    read_by_layout,
    unparsed_rows,
)
from grammars import smtp
from grammars import tracking as g

FORMATS = {
    "tracking-5x": "exchange-5x",
    "tracking-2000": "exchange-2000",
    "tracking-2007": "exchange-2007",
}


@dataclass
class TrackingResult:
    tracking: pl.DataFrame
    unparsed: pl.DataFrame
    records: list[int]
    unparsed_counts: list[int]
    lines: list[int]
    assumptions: pl.DataFrame | None = None


def read(
    items: list[Evidence], *, date_order: DateOrder = "mdy", engine: Engine = "fast"
) -> TrackingResult:
    """``items``: files sniffed as one of :data:`FORMATS`, in any mix."""
    n = len(items)
    lines = lines_frame(items, release=True).with_columns(
        pl.lit(pl.Series([i.source for i in items], dtype=pl.String))
        .gather(pl.col("fid"))
        .alias("source"),
        pl.lit(pl.Series([FORMATS[i.format] for i in items], dtype=pl.String))
        .gather(pl.col("fid"))
        .alias("log"),
    )
    parts = lines.partition_by("log", as_dict=True, include_key=True)
    readers = {"exchange-5x": _read_5x, "exchange-2000": _read_2000, "exchange-2007": _read_2007}
    rows, good, bad = [], [], []
    for (log,), part in parts.items():
        found, ok, missed = readers[log](part, date_order, engine)
        rows.append(found)
        good.append(ok)
        if missed is not None:
            bad.append(missed)
    tracking = (
        pl.concat([frames.conform(r, frames.TRACKING) for r in rows])
        if rows
        else frames.empty(frames.TRACKING)
    )
    tracking = _classify(tracking, engine).sort("source", "line", "recipient", nulls_last=True)
    good_rows = pl.concat(good, how="diagonal_relaxed") if good else None
    bad_rows = pl.concat(bad) if bad else None
    unparsed = (
        frames.conform(bad_rows, frames.UNPARSED).with_columns(pl.col("text").str.slice(0, 200))
        if bad_rows is not None
        else frames.empty(frames.UNPARSED)
    )
    return TrackingResult(
        tracking,
        unparsed.sort("source", "line"),
        per_file(good_rows, n),
        per_file(bad_rows, n),
        per_file(lines, n),
        _bare_assumptions(items, good_rows),
    )


def _bare_assumptions(items: list[Evidence], good: pl.DataFrame | None) -> pl.DataFrame | None:
    """Per file with rows read without a #Fields line: the standard order assumed
    (the inputs table's note says it in short)."""
    if good is None or "_bare" not in good.columns:
        return None
    used = (
        good.filter(pl.col("_bare").fill_null(False))
        .group_by("fid")
        .agg(pl.col("_fields").unique().sort())
        .sort("fid")
    )
    titles = {f: t for t, f in bare_orders()}
    rows = []
    for fid, orders in used.iter_rows():
        item = items[fid]
        named = " and ".join(titles.get(f, f) for f in orders)
        item.note = "; ".join(
            x
            for x in (
                item.note,
                f"no #Fields header: read in the standard field order of the {named}",
            )
            if x
        )
        rows.append(
            {
                "what": f"the rows of {item.source} are in the standard field order of the "
                f"{named}: " + " / ".join(orders),
                "why": "the file has no #Fields line (rows copied without their header); each "
                "row takes the standard order with as many fields as it has",
                "override": "put the log's own #Fields: line above its rows",
                "source": item.source,
            }
        )
    return pl.DataFrame(rows, schema=frames.ASSUMPTIONS) if rows else None


# What a layout's reader gives: (tracking rows, the fids of the lines it read, the
# unparsed rows: None when it had no record at all).
_Read = tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame | None]


def _blank() -> pl.Expr:
    return pl.col("text").str.strip_chars(" \t") == ""


def _times(when: pl.Series, date_order: DateOrder, engine: Engine) -> pl.Series:
    """Tracking times: a four-digit first part is a year (``1999-6-7``), anything
    else follows the server's date order."""
    parts = extract(when, g.TRACK_TIME, engine)
    ymd = timestamps(parts, "ymd")
    local = timestamps(parts, date_order)
    return pl.select(
        pl.when(parts["d1"].str.len_chars() == 4).then(ymd).otherwise(local)
    ).to_series()


def _read_5x(lines: pl.DataFrame, date_order: DateOrder, engine: Engine) -> _Read:
    data = _ex5_recipients(lines.filter(~_blank()), engine)
    ok = data.filter(pl.col("is_head") | pl.col("_rcpt_line").fill_null(False)).select("fid")
    return _ex5_rows(data, date_order, engine), ok, _ex5_missed(data)


def _ex5_recipients(data: pl.DataFrame, engine: Engine) -> pl.DataFrame:
    """The non-blank lines, each record line marked (``is_head``) and each recipient
    (on its own line or on the record line) tied to its record in ``_record``: a 5.x
    record spans several lines, so a line alone does not say what it is."""
    # Half the lines are recipient lines: the twin decides alone (the property tests
    # hold it to pyparsing), or each of them would go through pyparsing one by one.
    head = extract(data["text"], g.EX5_HEAD, engine, fallback=False)
    data = pl.concat([data, head.drop("error").rename({"matched": "is_head"})], how="horizontal")
    # A recipient line belongs to the last record line above it in the same file.
    data = data.with_columns(
        pl.when(pl.col("is_head")).then(pl.col("line")).forward_fill().over("fid").alias("_record")
    )
    data = data.with_columns(pl.col("rest").str.strip_chars("\t ").alias("_rest"))
    # The record says how many recipients it has (one may sit on its own line):
    # a line past that count is not one of them (a line cut short, say).
    expected = (
        pl.when(pl.col("is_head"))
        .then(
            pl.col("rcpt_count").cast(pl.Int64, strict=False)
            - (pl.col("_rest") != "").fill_null(False).cast(pl.Int64)
        )
        .forward_fill()
        .over("fid")
    )
    below = ~pl.col("is_head") & pl.col("_record").is_not_null()
    position = below.cast(pl.Int64).cum_sum().over("fid", "_record")
    data = data.with_columns(
        (below & (expected.is_null() | (position <= expected))).alias("_follows")
    )
    follows = pl.col("_follows")
    rcpt_text = data.select(pl.when(follows).then(pl.col("text"))).to_series()
    inline = data.select(
        pl.when(pl.col("is_head") & (pl.col("_rest") != "")).then(pl.col("_rest"))
    ).to_series()
    own = extract(rcpt_text, g.EX5_RECIPIENT, engine)
    carried = extract(inline, g.EX5_RECIPIENT, engine)
    data = data.with_columns(
        pl.coalesce(own["recipient"], carried["recipient"]).alias("_rcpt"),
        pl.coalesce(own["report_status"], carried["report_status"]).alias("_rstatus"),
        own["matched"].alias("_rcpt_line"),
    )
    return data


def _ex5_missed(data: pl.DataFrame) -> pl.DataFrame:
    """Unparsed rows: lines neither a record nor one of its recipients, then recipient
    lines that do not read as one."""
    follows = pl.col("_follows")
    return pl.concat(
        [
            unparsed_rows(
                data.filter(~pl.col("is_head") & ~follows),
                "not an Exchange 4.0/5.x tracking record (message id, event number, date-time...)",
            ),
            unparsed_rows(
                data.filter(follows & ~pl.col("_rcpt_line").fill_null(False)),
                "not a recipient line of the tracking record above",
            ),
        ]
    )


def _ex5_rows(data: pl.DataFrame, date_order: DateOrder, engine: Engine) -> pl.DataFrame:
    """Tracking rows: one per record and recipient (a record without any keeps one row)."""
    heads = data.filter(pl.col("is_head")).with_columns(
        _times(data.filter(pl.col("is_head"))["when"], date_order, engine).alias("ts_utc")
    )
    recipients = data.filter(pl.col("_rcpt").is_not_null()).select(
        pl.col("_record"), "fid", pl.col("_rcpt").alias("recipient"), pl.col("_rstatus")
    )
    table = {int(k): v for k, v in load("tracking")["events"]["exchange-5x"].items()}
    joined = heads.drop("_rcpt", "_rstatus").join(
        recipients.rename({"_record": "line"}),
        on=["fid", "line"],
        how="left",
        maintain_order="left",
    )
    return joined.select(
        "source",
        "line",
        pl.col("ts_utc").alias("ts"),
        "ts_utc",
        "log",
        _event(pl.col("event_id").cast(pl.Int64, strict=False), table).alias("event"),
        pl.col("event_id").cast(pl.Int64, strict=False).cast(pl.String).alias("event_id"),
        pl.col("message_id").str.strip_chars(" "),
        _null_if_empty(pl.col("subject_id")).alias("linked_id"),
        _null_if_empty(pl.col("originator")).alias("sender"),
        pl.col("recipient").str.strip_chars(" ").str.to_lowercase(),
        pl.col("_rstatus").alias("recipient_status"),
        pl.coalesce(_null_if_empty(pl.col("gateway")), _null_if_empty(pl.col("partner"))).alias(
            "partner"
        ),
        pl.col("length").cast(pl.UInt64, strict=False).alias("bytes"),
    )


def _null_if_empty(column: pl.Expr) -> pl.Expr:
    value = column.str.strip_chars(" ")
    return pl.when((value != "") & (value != "-")).then(value)


def _event(ids: pl.Expr, table: Mapping[int, str] | Mapping[str, str]) -> pl.Expr:
    return ids.replace_strict(
        list(table.keys()), list(table.values()), default="other", return_dtype=pl.String
    )


def _layouts(lines: pl.DataFrame, is_fields: pl.Expr, fields_of: pl.Expr) -> pl.DataFrame:
    """The data rows (not a ``#`` header, not blank), each with the field list in
    force in ``_fields``."""
    lines = lines.with_columns(
        pl.when(is_fields).then(fields_of).forward_fill().over("fid").alias("_fields")
    )
    return lines.filter(~pl.col("text").str.starts_with("#") & ~_blank())


def _read_2000(lines: pl.DataFrame, date_order: DateOrder, engine: Engine) -> _Read:
    is_fields = pl.col("text").str.contains(r"^#[ \t]*(?i:date)\t(?i:time)\t")
    data = _layouts(lines, is_fields, pl.col("text").str.strip_prefix("#").str.strip_chars(" "))
    good, bad = read_by_layout(
        data,
        lambda layout: g.tab_grammar(tuple(f.strip() for f in layout.split("\t"))),
        engine,
        before="a record before any # Date Time field line",
        mismatch="not as many fields as the # Date Time field line",
    )
    if good is None:
        return frames.empty(frames.TRACKING), data.select("fid").clear(), bad
    table = {int(k): v for k, v in load("tracking")["events"]["exchange-2000"].items()}
    when = good.select(
        pl.concat_str([column_or_null(good, "f_date"), pl.lit(" "), column_or_null(good, "f_time")])
    ).to_series()
    ids = column_or_null(good, "f_event_id").cast(pl.Int64, strict=False)
    out = good.with_columns(_times(when, date_order, engine).alias("ts_utc")).select(
        "source",
        "line",
        pl.col("ts_utc").alias("ts"),
        "ts_utc",
        "log",
        _event(ids, table).alias("event"),
        ids.cast(pl.String).alias("event_id"),
        _null_if_empty(column_or_null(good, "f_msgid")).alias("message_id"),
        _null_if_empty(column_or_null(good, "f_linked_msgid")).alias("linked_id"),
        _null_if_empty(column_or_null(good, "f_sender_address")).alias("sender"),
        _null_if_empty(column_or_null(good, "f_recipient_address"))
        .str.to_lowercase()
        .alias("recipient"),
        _null_if_empty(column_or_null(good, "f_recipient_report_status")).alias("recipient_status"),
        _null_if_empty(column_or_null(good, "f_client_ip")).alias("client_ip"),
        _null_if_empty(column_or_null(good, "f_client_hostname")).alias("client_host"),
        _null_if_empty(column_or_null(good, "f_server_ip")).alias("server_ip"),
        _null_if_empty(column_or_null(good, "f_server_hostname")).alias("server_host"),
        _null_if_empty(column_or_null(good, "f_partner_name")).alias("partner"),
        _null_if_empty(column_or_null(good, "f_message_subject")).alias("subject"),
        column_or_null(good, "f_total_bytes").cast(pl.UInt64, strict=False).alias("bytes"),
    )
    return out, good.select("fid"), bad


def bare_orders() -> list[tuple[str, str]]:
    """The standard MSGTRK field orders (title, fields), ``knowledge/fieldorders.toml``."""
    return [
        (o["title"], o["fields"]) for o in load("fieldorders")["order"] if o["log"] == "tracking"
    ]


def _read_2007(lines: pl.DataFrame, date_order: DateOrder, engine: Engine) -> _Read:
    is_fields = pl.col("text").str.starts_with("#Fields:")
    data = _layouts(
        lines, is_fields, pl.col("text").str.strip_prefix("#Fields:").str.strip_chars(" ")
    )
    # Rows without a #Fields line above them (copied without their header): the
    # standard order with as many fields as the row has outside quotes, else the first.
    orders = bare_orders()
    count = pl.col("text").str.replace_all(r'"(?:[^"]|"")*"', "").str.count_matches(",") + 1
    by_count = count.replace_strict(
        [len(f.split(",")) for _, f in orders],
        [f for _, f in orders],
        default=orders[0][1],
        return_dtype=pl.String,
    )
    data = data.with_columns(
        pl.col("_fields").is_null().alias("_bare"), pl.col("_fields").fill_null(by_count)
    )
    good, bad = read_by_layout(
        data,
        lambda layout: g.csv_grammar(tuple(f.strip() for f in layout.split(","))),
        engine,
        before="a record before any #Fields line",
        mismatch="not as many fields as #Fields names",
    )
    if good is None:
        return frames.empty(frames.TRACKING), data.select("fid").clear(), bad
    rows = _ex2007_per_recipient(_ex2007_fields(good, engine))
    return _ex2007_rows(rows), good.select("fid", "_bare", "_fields"), bad


def _ex2007_fields(good: pl.DataFrame, engine: Engine) -> pl.DataFrame:
    """The matched CSV rows unquoted, with their time, SMTP session, event and the
    recipient and status lists (``_rcpts``, ``_statuses``) still one cell each."""
    names = [c for c in good.columns if c.startswith("f_")]
    rows = good.with_columns(_null_if_empty(csv_unquote(pl.col(c))).alias(c) for c in names)
    stamp = extract(
        rows.select(column_or_null(rows, "f_date_time")).to_series(), g.ISO_TIME, engine
    )
    parts = iso_parts(stamp)
    smtp_source = column_or_null(rows, "f_source").str.to_uppercase() == "SMTP"
    context = extract(
        rows.select(
            pl.when(smtp_source).then(column_or_null(rows, "f_source_context"))
        ).to_series(),
        g.SOURCE_CONTEXT,
        engine,
        fallback=False,  # a context of another shape names no session: no loop for it
    )
    table = load("tracking")["events"]["exchange-2007"]
    ids = column_or_null(rows, "f_event_id").str.to_uppercase()
    # Recipients and their statuses are ';' lists; a status list of another length
    # (a reply with a ';' of its own) goes whole to every recipient.
    addresses = column_or_null(rows, "f_recipient_address").str.split(";")
    statuses = column_or_null(rows, "f_recipient_status").str.split(";")
    rows = rows.with_columns(
        timestamps(parts, "ymd").alias("ts_utc"),
        context["session"].alias("_session"),
        _event(ids, table).alias("_event"),
        ids.alias("_event_id"),
        addresses.alias("_rcpts"),
        statuses.alias("_statuses"),
        (statuses.list.len() == addresses.list.len()).fill_null(False).alias("_aligned"),
    )
    return rows


def _ex2007_per_recipient(rows: pl.DataFrame) -> pl.DataFrame:
    """One row per recipient, back in file order (the two kinds are exploded apart)."""
    aligned = rows.filter(pl.col("_aligned")).explode("_rcpts", "_statuses")
    whole = (
        rows.filter(~pl.col("_aligned"))
        .with_columns(column_or_null(rows, "f_recipient_status").alias("_statuses"))
        .explode("_rcpts")
    )
    return pl.concat([aligned, whole]).sort("fid", "line", maintain_order=True)


def _ex2007_rows(rows: pl.DataFrame) -> pl.DataFrame:
    """Tracking rows of the per-recipient CSV rows."""
    dsn = pl.col("_event_id") == "DSN"
    message_id = column_or_null(rows, "f_message_id")
    reference = column_or_null(rows, "f_reference")
    related = column_or_null(rows, "f_related_recipient_address")
    return rows.select(
        "source",
        "line",
        pl.col("ts_utc").alias("ts"),
        "ts_utc",
        "log",
        pl.col("_event").alias("event"),
        pl.col("_event_id").alias("event_id"),
        # A DSN event is logged under the report's own id, with the message it reports
        # on in "reference" and the failed address in "related-recipient-address":
        # it belongs to that message's path.
        pl.when(dsn)
        .then(pl.coalesce(reference, message_id))
        .otherwise(message_id)
        .alias("message_id"),
        column_or_null(rows, "f_internal_message_id").alias("internal_id"),
        pl.when(dsn & reference.is_not_null()).then(message_id).alias("linked_id"),
        column_or_null(rows, "f_sender_address").alias("sender"),
        pl.when(dsn)
        .then(pl.coalesce(related, _null_if_empty(pl.col("_rcpts"))))
        .otherwise(_null_if_empty(pl.col("_rcpts")))
        .str.to_lowercase()
        .alias("recipient"),
        _null_if_empty(pl.col("_statuses")).alias("recipient_status"),
        column_or_null(rows, "f_client_ip").alias("client_ip"),
        column_or_null(rows, "f_client_hostname").alias("client_host"),
        column_or_null(rows, "f_server_ip").alias("server_ip"),
        column_or_null(rows, "f_server_hostname").alias("server_host"),
        pl.coalesce(column_or_null(rows, "f_connector_id"), column_or_null(rows, "f_source")).alias(
            "partner"
        ),
        pl.col("_session").alias("session"),
        column_or_null(rows, "f_message_subject").alias("subject"),
        column_or_null(rows, "f_total_bytes").cast(pl.UInt64, strict=False).alias("bytes"),
    )


def _classify(tracking: pl.DataFrame, engine: Engine) -> pl.DataFrame:
    """The reply in a recipient status ("550 5.7.1 Unable to relay", or wrapped as
    ``[{LED=...};{FQDN=...};{IP=...}]``), its refusal category, and the host it names."""
    if tracking.height == 0:
        return tracking
    status = tracking["recipient_status"]
    wrapped = extract(
        tracking.select(
            pl.when(pl.col("recipient_status").str.starts_with("[{")).then(status)
        ).to_series(),
        g.FAIL_STATUS,
        engine,
    )
    quoted = pl.coalesce(wrapped["reply"], status)
    said = tracking.select(
        pl.when(quoted.str.contains(r"^[2-5][0-9]{2}([ \-]|$)")).then(quoted)
    ).to_series()
    reply = extract(said, smtp.REPLY, engine)
    code = reply["code"].cast(pl.UInt16, strict=False)
    return tracking.with_columns(
        code.alias("code"),
        reply["status"].alias("status"),
        reply["text"].alias("text"),
        pl.select(refusal_category(pl.lit(code), pl.lit(reply["text"])))
        .to_series()
        .alias("refusal"),
        # The braced form names the host that gave the error; on a FAIL event the
        # server fields are the logging server's own.
        pl.coalesce(_null_if_empty(pl.lit(wrapped["ip"])), pl.col("server_ip")).alias("server_ip"),
        pl.coalesce(_null_if_empty(pl.lit(wrapped["fqdn"])), pl.col("server_host")).alias(
            "server_host"
        ),
    )


def read_files(items: list[Evidence], options: ReadOptions) -> Reading:
    found = read(items, date_order=options.date_order, engine=options.engine)
    read_frames = {"tracking": found.tracking}
    if found.assumptions is not None:
        read_frames["assumptions"] = found.assumptions
    return reading_of(items, found, read_frames)


# The three generations are read together: one clock offset fits them all (paths).
READER = FormatReader(
    formats=(
        # Before w3c: an Exchange 2007+ tracking log has the same # directives.
        Format("tracking-2007", 60, g.looks_like_2007),
        Format("tracking-2000", 70, g.looks_like_2000),
        Format("tracking-5x", 100, g.looks_like_5x),
    ),
    frames=("tracking",),
    read_files=read_files,
)
