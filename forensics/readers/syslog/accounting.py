"""What the reader counts per file (records read, lines unparsed, lines in all, the
programs seen), in the order the files were given, and the unparsed lines themselves.

Every line is one of: a mail server's line that its reader took (a record); a line
of a mail server that its reader did not understand, of a server not read yet, or
without any header (unparsed, each with its reason); a line of another program
(dovecot, amavis, cron: read, not mail, counted per program); a blank line or a
comment; in Exim's own rejectlog, a line of the message headers it logs under a
refusal (read, part of the refusal above it)."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from forensics.core import frames
from forensics.core.evidence import Evidence
from forensics.readers.common import per_file
from grammars.syslog import EXIM_HEADER_DUMP

NO_HEADER = "not a syslog line (no 'Mon dd hh:mm:ss host program[pid]:' header)"
NO_EXIM_STAMP = (
    "not an Exim log line (no 'yyyy-mm-dd hh:mm:ss' stamp) and not the message headers "
    "its rejectlog writes under a refusal"
)
TOO_LONG = "longer than 64 KiB: no log record is, so it was not read (its start is kept)"
CONTINUED = "continued"


@dataclass
class Accounts:
    unparsed: pl.DataFrame
    records: list[int]
    unparsed_counts: list[int]
    lines: list[int]


@dataclass
class Ledger:
    """The counts before the mail servers' readers ran (reading order)."""

    unparsed: pl.DataFrame  # fid, source, line, reason, text
    mail: list[int]  # lines of the mail servers read, per file
    lines: list[int]
    order: list[int]


def ledger(
    headed: pl.DataFrame,
    unheaded: pl.DataFrame,
    order: list[int],
    ordered: list[Evidence],
    unread: dict[str, str],
) -> Ledger:
    """What the lines (read in ``order``) are, per file.

    ``headed``: the lines with a header: fid, source, line, text, _shape, ``_p`` (the
    program's key) and ``_mta`` (the mail server it is, where it is one);
    ``unheaded``: the others (fid, source, line, text, _long); ``unread``: the mail
    servers with no reader (key -> name), by program key or server key. Each file's
    programs go into its ``programs``."""
    n = len(order)
    # Blank lines and comments (saved logs annotate them with '#') are read, not records.
    blank = (pl.col("text").str.strip_chars(" \t") == "") | pl.col("text").str.starts_with("#")
    own_exim = _own_exim_files(headed)
    in_own = pl.col("fid").is_in(own_exim) if own_exim else pl.lit(False)
    continued = in_own & ~pl.col("_long") & ~blank & pl.col("text").str.contains(EXIM_HEADER_DUMP)
    others = unheaded.select(
        "fid",
        "source",
        "line",
        "text",
        "_long",
        blank.alias("_blank"),
        continued.alias("_cont"),
        in_own.alias("_own"),
    )
    no_header = others.filter(~pl.col("_blank") & ~pl.col("_cont"))
    server = pl.coalesce(
        pl.col("_mta").replace_strict(unread, default=None, return_dtype=pl.String),
        pl.col("_p").replace_strict(unread, default=None, return_dtype=pl.String),
    )
    _note_programs(ordered, headed, others.filter(pl.col("_cont")).select("fid"))
    _note_hosts(ordered, headed)
    marked = headed.select("fid", "source", "line", "text", "_p", "_mta", server.alias("_unread"))
    not_read = marked.filter(pl.col("_unread").is_not_null())
    _note_unread(ordered, not_read)
    mail = marked.select("fid", "_mta", "_unread").filter(
        pl.col("_mta").is_not_null() & pl.col("_unread").is_null()
    )
    unread_reason = pl.concat_str(
        [
            pl.lit("a line of "),
            pl.col("_unread"),
            pl.lit(" ("),
            pl.col("_p"),
            pl.lit("), a mail server this version does not read yet"),
        ]
    )
    unparsed = pl.concat(
        [
            no_header.select(
                "fid",
                "source",
                "line",
                pl.when(pl.col("_long"))
                .then(pl.lit(TOO_LONG))
                .when(pl.col("_own"))
                .then(pl.lit(NO_EXIM_STAMP))
                .otherwise(pl.lit(NO_HEADER))
                .alias("reason"),
                "text",
            ),
            not_read.select("fid", "source", "line", unread_reason.alias("reason"), "text"),
        ]
    )
    lines = [a + b for a, b in zip(per_file(headed, n), per_file(unheaded, n), strict=True)]
    return Ledger(unparsed, per_file(mail, n), lines, order)


def settle(found: Ledger, not_understood: pl.DataFrame) -> Accounts:
    """The counts, once the readers said which of their lines they did not take
    (``not_understood``: fid, source, line, reason, text)."""
    n = len(found.order)
    unparsed = pl.concat([found.unparsed, not_understood.select(found.unparsed.columns)])
    unparsed_frame = frames.conform(
        unparsed.sort("source", "line").with_columns(pl.col("text").str.slice(0, 200)),
        frames.UNPARSED,
    )
    records = [a - b for a, b in zip(found.mail, per_file(not_understood, n), strict=True)]
    return Accounts(
        unparsed_frame,
        _as_given(records, found.order),
        _as_given(per_file(unparsed, n), found.order),
        _as_given(found.lines, found.order),
    )


def _own_exim_files(headed: pl.DataFrame) -> list[int]:
    """The files of Exim's own logs (its stamps, no syslog header): their lines
    without a stamp are the headers of a refused message that the rejectlog writes
    under the refusal."""
    shapes = headed.group_by("fid").agg(
        (pl.col("_shape") == "exim").any().alias("exim"),
        pl.col("_shape").is_in(["syslog", "rfc5424", "bare"]).any().alias("syslog"),
    )
    return [int(f) for f in shapes.filter(pl.col("exim") & ~pl.col("syslog"))["fid"]]


def _note_programs(items: list[Evidence], headed: pl.DataFrame, continued: pl.DataFrame) -> None:
    """Each file's programs and their line counts, most lines first: what the file
    holds beside the mail servers' lines is read (not mail transfer) and shown."""
    counts = (
        headed.group_by("fid", "_p").len().sort("fid", "len", "_p", descending=[False, True, False])
    )
    extra = dict(continued.group_by("fid").len().iter_rows()) if continued.height else {}
    for (fid,), rows in counts.partition_by("fid", as_dict=True, maintain_order=True).items():
        listed = ", ".join(f"{p} {c:,}" for p, c in rows.select("_p", "len").iter_rows())
        if fid in extra:
            listed += f", the message headers Exim logged under its refusals {extra[fid]:,}"
        items[int(fid)].programs = listed


def _note_hosts(items: list[Evidence], headed: pl.DataFrame) -> None:
    """Each file's host: the one most of its lines name (a syslog file is one host's,
    but a relay host may forward others' lines into it)."""
    counts = (
        headed.select("fid", "host")
        .drop_nulls("host")
        .group_by("fid", "host")
        .len()
        .sort("fid", "len", "host", descending=[False, True, False])
        .unique("fid", keep="first", maintain_order=True)
    )
    for fid, host, _count in counts.iter_rows():
        items[int(fid)].host = str(host)


def _note_unread(items: list[Evidence], not_read: pl.DataFrame) -> None:
    """A file with lines of a mail server not read yet says so in its note."""
    counts = not_read.group_by("fid", "_unread").len().sort("fid", "_unread")
    for fid, server, count in counts.iter_rows():
        lines = "1 line" if count == 1 else f"{count:,} lines"
        said = f"{lines} of {server}: recognised, not read yet (listed as unparsed)"
        item = items[int(fid)]
        item.note = "; ".join(x for x in (item.note, said) if x)


def _as_given(counts: list[int], order: list[int]) -> list[int]:
    """Counts per file in reading order -> in the order the files were given."""
    given = [0] * len(order)
    for fid, i in enumerate(order):
        given[i] = counts[fid]
    return given
