"""The NDR reader as the registry sees it: texts -> the ``ndrs`` frame and its
counts, read in one process or two."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from forensics.core.evidence import Evidence
from forensics.core.text import split_lines
from forensics.readers.base import Format, FormatReader, Reading, ReadOptions, counted
from forensics.readers.ndr.files import read_texts
from forensics.readers.ndr.frame import ndrs_frame, unparsed_frame
from forensics.readers.ndr.parallel import PARALLEL_MIN_CHARS, read_in_two
from grammars import ndr as g


@dataclass
class NdrResult:
    ndrs: pl.DataFrame
    unparsed: pl.DataFrame
    records: list[int]
    unparsed_counts: list[int]
    processes: int = 1  # how many processes read the messages


def read(texts: list[str], sources: list[str], *, parallel: bool | None = None) -> NdrResult:
    """Every message of every file -> rows (with their file and line). ``parallel``:
    read in two processes (default: when there is enough text to gain from it)."""
    if parallel is None:
        parallel = len(texts) > 1 and sum(map(len, texts)) >= PARALLEL_MIN_CHARS
    if parallel and len(texts) > 1:
        (rows, unparsed, records, unparsed_counts), processes = read_in_two(texts, sources)
    else:
        (rows, unparsed, records, unparsed_counts), processes = read_texts(texts, sources), 1
    return NdrResult(
        ndrs=ndrs_frame(rows),
        unparsed=unparsed_frame(unparsed),
        records=records,
        unparsed_counts=unparsed_counts,
        processes=processes,
    )


def read_files(items: list[Evidence], options: ReadOptions) -> Reading:
    found = read([m.text or "" for m in items], [m.source for m in items])
    lines = [len(split_lines(m.text or "")) for m in items]
    return counted(
        items,
        found.records,
        found.unparsed_counts,
        lines,
        frames={"ndrs": found.ndrs},
        unparsed_rows=found.unparsed,
    )


# A file that opens with mail headers is a message, whatever it quotes (a Sendmail
# transcript inside an NDR has ">>>" and "<<<" lines, as IMS logs do): before ims.
READER = FormatReader(
    formats=(Format("email", 20, g.looks_like),),
    frames=("ndrs",),
    read_files=read_files,
)
