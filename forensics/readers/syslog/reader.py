"""The syslog reader as the registry sees it: syslog files (and Exim's own logs),
read as one stream per log family, each mail server's lines handed to its reader.

Every line's header is read once (:mod:`.headers`), its time once (:mod:`.stamps`);
the program decides whose line it is (knowledge/syslog.toml): Postfix's, Sendmail's
and Exim's go to their :class:`~forensics.readers.mta.Mta`; the lines of a mail
server with no reader are unparsed with the server named; every other program's
are read and counted (:mod:`.accounting`)."""

from __future__ import annotations

from typing import Any

import polars as pl

from forensics.core import evidence, frames
from forensics.core.evidence import Evidence
from forensics.core.lineparse import Engine
from forensics.core.text import lines_frame
from forensics.knowledge import load
from forensics.readers import exim, postfix, sendmail
from forensics.readers.base import Format, FormatReader, Reading, ReadOptions
from forensics.readers.common import LogResult, log_reading
from forensics.readers.mta import ROW_COLUMNS, UNKNOWN, Mta
from forensics.readers.syslog.accounting import ledger, settle
from forensics.readers.syslog.headers import headers
from forensics.readers.syslog.stamps import with_timestamps, year_assumptions
from forensics.readers.syslog.stream import stream_order
from grammars import syslog as g

# The longest line read as a record (bytes); longer ones are unparsed.
MAX_LINE_BYTES = 64 * 1024
# The mail servers read, by the key of knowledge/syslog.toml [mta].
MTAS: dict[str, Mta] = {m.name: m for m in (postfix.MTA, sendmail.MTA, exim.MTA)}


def _servers() -> dict[str, Any]:
    servers: dict[str, Any] = load("syslog")["mta"]
    return servers


def _mta_of(program: pl.Expr) -> pl.Expr:
    """The mail server a program key belongs to (null for any other program)."""
    expr: pl.Expr = pl.lit(None, pl.String)
    for name, server in reversed(list(_servers().items())):
        is_it = program.is_in(list(server["programs"]))
        for prefix in server["prefixes"]:
            is_it = is_it | program.str.starts_with(prefix)
        expr = pl.when(is_it).then(pl.lit(name)).otherwise(expr)
    return expr


def read(items: list[Evidence], *, year: int | None = None, engine: Engine = "fast") -> LogResult:
    order = stream_order(items)
    ordered = [items[i] for i in order]
    exim = [p for p in _servers()["exim"]["programs"]]
    headed, unheaded = _headers(ordered, engine, exim)
    df = with_timestamps(headed, ordered, year)
    del headed  # (df holds what it needs of it; the name must not keep the rest alive)
    df = df.with_columns(
        pl.col("prog").str.split("/").list.last().alias("daemon"),
        # "postfix/smtpd" is Postfix's; "/usr/sbin/cron" is cron.
        pl.when(pl.col("prog").str.starts_with("/"))
        .then(pl.col("prog").str.split("/").list.last())
        .otherwise(pl.col("prog").str.split("/").list.first())
        .str.to_lowercase()
        .alias("_p"),
    ).with_columns(_mta_of(pl.col("_p")).alias("_mta"))
    assumed = year_assumptions(df, ordered, year)
    unread = {name: load("servers")["name"].get(name, name.capitalize()) for name in _servers()}
    unread = {k: v for k, v in unread.items() if k not in MTAS} | load("syslog")["unread"]
    counted = ledger(df.drop("msg"), unheaded, order, ordered, unread)
    del unheaded
    # Only the columns the events are made of go on: the raw text, the stamp's parts
    # and the year's helpers stay behind (a filter copies what it is given; memory is
    # what a million lines cost).
    rows = {
        name: df.select(*ROW_COLUMNS, "_mta").filter(pl.col("_mta") == name).drop("_mta")
        for name in MTAS
    }
    del df
    found_events, found_service, not_understood = [], [], []
    for name, mta in MTAS.items():
        if rows[name].height == 0:
            continue
        result = mta.read(rows[name], engine)
        found_events.append(result.events)
        if result.service_events is not None:
            found_service.append(result.service_events)
        if result.unknown is not None and result.unknown.height:
            # Such a line's text here is its message (the header is not kept this far).
            not_understood.append(
                frames.conform(result.unknown, UNKNOWN).join(
                    rows[name].select("_g", "fid", "source", "line", pl.col("msg").alias("text")),
                    on="_g",
                )
            )
    accounts = settle(
        counted,
        pl.concat(not_understood)
        if not_understood
        else pl.DataFrame(
            schema={
                "fid": pl.UInt32,
                "source": pl.String,
                "line": pl.UInt32,
                "reason": pl.String,
                "text": pl.String,
            }
        ),
    )
    return LogResult(
        _gathered(found_events, frames.EVENTS),
        accounts.unparsed,
        accounts.records,
        accounts.unparsed_counts,
        accounts.lines,
        _gathered(found_service, frames.SERVICE_EVENTS),
        assumptions=assumed,
    )


def _gathered(parts: list[pl.DataFrame], schema: pl.Schema) -> pl.DataFrame:
    found = [frames.conform(p, schema) for p in parts if p.height]
    return pl.concat(found) if found else frames.empty(schema)


def _headers(
    ordered: list[Evidence], engine: Engine, exim: list[str]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The lines of ``ordered`` (numbered ``_g`` through the stream) with their file's
    source: those with a header, with its fields, and those without (fid, source,
    line, text, _g, _long)."""
    # (Before the lines are cut: the files give up their text then.)
    own = pl.Series([_exim_own(e) for e in ordered], dtype=pl.Boolean)
    lines = lines_frame(ordered, release=True).with_row_index("_g")
    sources = pl.Series([e.source for e in ordered], dtype=pl.String)
    # A line of megabytes is no log record (syslog daemons cut messages at 8 KiB
    # unless told otherwise): it is not parsed, so that no field of it is copied
    # into every frame and report; it is unparsed with its excerpt.
    lines = lines.with_columns(
        (pl.col("text").str.len_bytes() > MAX_LINE_BYTES).alias("_long"),
        pl.lit(sources).gather(pl.col("fid")).alias("source"),
    )
    text = lines["text"]
    if lines["_long"].any():  # (a copy of every line: only when there is one)
        text = lines.select(pl.when(~pl.col("_long")).then(pl.col("text"))).to_series()
    head, at = headers(text, engine, exim, own.gather(lines["fid"]))
    del text
    if at is None:  # every line has a header: nothing to pick
        return pl.concat([lines, head], how="horizontal"), lines.clear()
    headed = pl.concat([lines[at], head], how="horizontal")
    unheaded = lines.filter(~pl.int_range(pl.len(), dtype=pl.UInt32).is_in(at.implode()))
    return headed, unheaded


def _exim_own(item: Evidence) -> bool:
    """A file taken for Exim's own log (not syslog): its stamps are headers."""
    return item.format == "exim" and g.looks_like_exim(_head(item))


def _head(item: Evidence) -> str:
    return (item.text or "")[: evidence.SNIFF_CHARS]


def read_files(items: list[Evidence], options: ReadOptions) -> Reading:
    return log_reading(items, read(items, year=options.year, engine=options.engine))


def _syslog_of(server: str) -> Any:
    def looks_like(sample: str) -> bool:
        first = _first_mta(sample)
        if first is None:  # no mail server's line among the first
            return server == "syslog" and g.looks_like_syslog(sample)
        return first == server

    return looks_like


def _first_mta(sample: str) -> str | None:
    """The mail server whose lines come first in a syslog sample, if any does (a
    sample of other text where a mail server's lines stand out between lines of
    another kind, as OSSEC's alerts quote them, is theirs all the same)."""
    servers = _servers()
    for program in g.sample_programs(sample):
        for name, server in servers.items():
            if program in server["programs"] or any(
                program.startswith(p) for p in server["prefixes"]
            ):
                return str(name)
    return None


def _exim(sample: str) -> bool:
    return g.looks_like_exim(sample) or _syslog_of("exim")(sample)


READER = FormatReader(
    formats=(
        Format("postfix", 40, _syslog_of("postfix")),
        Format("sendmail", 41, _syslog_of("sendmail")),
        Format("exim", 42, _exim),
        # Syslog with no mail server's line in its first lines (a mail.err of
        # opendkim's alone, a system log): read all the same, every line counted.
        Format("syslog", 43, _syslog_of("syslog")),
    ),
    frames=("events", "service_events"),
    read_files=read_files,
)
