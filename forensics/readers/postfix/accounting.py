"""What the reader counts per file (records read, lines unparsed, lines in all), in
the order the files were given, and the unparsed lines themselves."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from forensics.core import frames
from forensics.core.evidence import Evidence
from forensics.knowledge import load
from forensics.readers.common import per_file


@dataclass
class Accounts:
    unparsed: pl.DataFrame
    records: list[int]
    unparsed_counts: list[int]
    lines: list[int]


def account(df: pl.DataFrame, order: list[int], ordered: list[Evidence]) -> Accounts:
    """The counts of ``df``'s lines (read in ``order``), per file as given. Postfix's
    lines are the records; other programs' are counted in each file's note (read,
    not mail), except those of mail servers not read yet, which are unparsed."""
    # Blank lines and comments (saved logs annotate them with '#') are read, not records.
    blank = (pl.col("text").str.strip_chars(" \t") == "") | pl.col("text").str.starts_with("#")
    # Filtered narrow: a filter copies every column it is given, a million rows each.
    unparsed = df.select("fid", "source", "line", "text", "_header").filter(
        ~pl.col("_header") & ~blank
    )
    n = len(order)
    programs = df.filter(pl.col("_header") & ~pl.col("_postfix")).select(
        "fid", "source", "line", "text", pl.col("prog").str.split("/").list.first().alias("_p")
    )
    unread_names: dict[str, str] = load("syslog")["unread"]
    unread = programs.filter(pl.col("_p").is_in(list(unread_names)))
    _note_programs(ordered, programs.filter(~pl.col("_p").is_in(list(unread_names))))
    read_counts = per_file(df.select("fid", "_postfix").filter(pl.col("_postfix")), n)
    bad_counts = per_file(pl.concat([unparsed.select("fid"), unread.select("fid")]), n)
    line_counts = per_file(df, n)
    unread_reason = pl.concat_str(
        [
            pl.lit("a line of "),
            pl.col("_p").replace_strict(unread_names, return_dtype=pl.String),
            pl.lit(" ("),
            pl.col("_p"),
            pl.lit("), a mail server this version does not read yet"),
        ]
    )
    no_header = "not a syslog line (no 'Mon dd hh:mm:ss host program[pid]:' header)"
    unparsed_frame = frames.conform(
        pl.concat(
            [
                unparsed.select("source", "line", pl.lit(no_header).alias("reason"), "text"),
                unread.select("source", "line", unread_reason.alias("reason"), "text"),
            ]
        )
        .sort("source", "line")
        .with_columns(pl.col("text").str.slice(0, 200)),
        frames.UNPARSED,
    )
    return Accounts(
        unparsed_frame,
        _as_given(read_counts, order),
        _as_given(bad_counts, order),
        _as_given(line_counts, order),
    )


def _note_programs(items: list[Evidence], others: pl.DataFrame) -> None:
    """Each file's note counts the lines of the programs that are not mail transfer
    (dovecot, amavis, opendkim, ...): read, and not part of any session."""
    counts = (
        others.group_by("fid", "_p").len().sort("fid", "len", "_p", descending=[False, True, False])
    )
    for (fid,), rows in counts.partition_by("fid", as_dict=True, maintain_order=True).items():
        listed = ", ".join(f"{p} {c:,}" for p, c in rows.select("_p", "len").iter_rows())
        said = f"other programs' lines, read, not mail: {listed}"
        item = items[int(fid)]
        item.note = "; ".join(x for x in (item.note, said) if x)


def _as_given(counts: list[int], order: list[int]) -> list[int]:
    """Counts per file in reading order -> in the order the files were given."""
    given = [0] * len(order)
    for fid, i in enumerate(order):
        given[i] = counts[fid]
    return given
