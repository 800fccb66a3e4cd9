"""Logs of mail servers this version recognises and does not read yet (Domino,
Kerio Connect, MDaemon, hMailServer, qmail's multilog, Zimbra's mailbox.log).

Recognising them is worth a reader of its own: an admin whose folder holds such a
log learns that the analysis did not see it, by name and with its line count, and
every line is listed as unparsed with the server named (blank lines and comments
aside), so that no refusal in it passes as read. Courier and qmail lines that come
through syslog are the syslog reader's (knowledge/syslog.toml [unread])."""

from __future__ import annotations

from functools import partial

import polars as pl

from forensics.core import frames
from forensics.core.evidence import Evidence
from forensics.core.text import lines_frame
from forensics.knowledge import load
from forensics.readers.base import Format, FormatReader, Reading, ReadOptions, counted
from forensics.readers.common import per_file
from grammars import unread as g


def _servers() -> dict[str, str]:
    """Format name -> the server, for the formats knowledge/formats.toml marks unread."""
    return {f["name"]: f["server"] for f in load("formats")["format"] if f.get("unread")}


def read_files(items: list[Evidence], options: ReadOptions) -> Reading:
    del options  # nothing of these logs is parsed
    n = len(items)
    lines = lines_frame(items, release=True)
    servers = _servers()
    reasons = pl.Series(
        [f"a line of a {servers[item.format]} log: recognised, not read yet" for item in items],
        dtype=pl.String,
    )
    blank = (pl.col("text").str.strip_chars(" \t") == "") | pl.col("text").str.starts_with("#")
    sources = pl.Series([item.source for item in items], dtype=pl.String)
    unparsed = lines.filter(~blank).with_columns(
        pl.lit(sources).gather(pl.col("fid")).alias("source"),
        pl.lit(reasons).gather(pl.col("fid")).alias("reason"),
        pl.col("text").str.slice(0, 200),
    )
    for item in items:
        item.note = "; ".join(
            x for x in (item.note, f"{servers[item.format]}: recognised, not read yet") if x
        )
    return counted(
        items,
        [0] * n,
        per_file(unparsed, n),
        per_file(lines, n),
        frames={},
        unparsed_rows=frames.conform(unparsed, frames.UNPARSED),
    )


READER = FormatReader(
    formats=tuple(Format(name, 35, partial(g.looks_like, name)) for name in g.LINE_STARTS),
    frames=(),
    read_files=read_files,
)
