"""Evidence text as lines: line ends made LF, and every file's lines as one frame."""

from __future__ import annotations

import io
from collections.abc import Sequence

import polars as pl

from forensics.core.evidence import Evidence


def _normalise(text: str) -> str:
    """CRLF and CR alone become LF (str.splitlines would also split on form feeds and
    Unicode separators, which would shift line numbers); a last line ends too."""
    if "\r" in text:  # one scan, where two replacements would copy the text twice
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text if not text or text.endswith("\n") else text + "\n"


def split_lines(text: str) -> list[str]:
    return _normalise(text).split("\n")[:-1]


# A byte that no line holds lets polars' CSV reader cut the text into lines on all
# cores, five times faster than splitting and exploding it; control bytes are rare
# in logs, and a text that holds every one of them is split the slower way.
_SEPARATORS = [chr(c) for c in (*range(0, 9), *range(14, 32))]
# Files of this many characters on average, or more, are cut that way.
_CSV_CUT_MIN_AVERAGE = 64 * 1024


def lines_frame(
    items: Sequence[Evidence], *, csv_cut_from: int = _CSV_CUT_MIN_AVERAGE, release: bool = False
) -> pl.DataFrame:
    """All lines of ``items`` as one frame: fid (position in items), line, text.
    The split happens in polars: one pass however many files there are. Files of
    ``csv_cut_from`` characters on average or more are cut by the CSV reader.
    ``release``: the items give up their text (the frame holds it now), so that a
    large log is not held twice while it is parsed."""
    raw = [item.text or "" for item in items]
    if release:
        for item in items:
            item.text = None
    # Many small files (an IMS folder) split as fast in polars; big ones do not.
    large = sum(map(len, raw)) >= csv_cut_from * max(len(raw), 1)
    if not large:
        return _lines_by_explode(raw)
    texts = [_normalise(text) for text in raw]
    joined = "".join(texts)
    separator = next((c for c in _SEPARATORS if c not in joined), None)
    if not joined or separator is None:
        return _lines_by_explode(texts)
    # The reader would take a BOM at the very start of the data for an encoding mark
    # and drop it from the first line: a guard line goes first then.
    guard = joined.startswith("\ufeff")
    data = joined.encode("utf-8", errors="surrogatepass")
    text = pl.read_csv(
        io.BytesIO(b"-\n" + data if guard else data),
        has_header=False,
        separator=separator,
        quote_char=None,
        new_columns=["text"],
        infer_schema=False,
    ).to_series()
    text = (text[1:] if guard else text).fill_null("")  # a blank line reads as null
    row = pl.int_range(0, text.len(), dtype=pl.UInt32, eager=True)
    if len(texts) == 1:
        return pl.DataFrame(
            {"fid": pl.zeros(text.len(), pl.UInt32, eager=True), "line": row + 1, "text": text}
        )
    counts = pl.Series([t.count("\n") for t in texts], dtype=pl.UInt32)
    ends = counts.cum_sum()
    fid = ends.search_sorted(row, side="right").cast(pl.UInt32)
    starts = (ends - counts).gather(fid)
    return pl.DataFrame({"fid": fid, "line": row - starts + 1, "text": text})


def _lines_by_explode(texts: list[str]) -> pl.DataFrame:
    """:func:`split_lines` of every text, done in polars: the line ends are made LF
    there too, so the parse threads hold the interpreter lock for none of it."""
    text = pl.col("text")
    normal = text.str.replace_all("\r\n", "\n", literal=True).str.replace_all(
        "\r", "\n", literal=True
    )
    split = (
        pl.DataFrame(
            {"fid": pl.arange(0, len(texts), dtype=pl.UInt32, eager=True), "text": texts},
            schema={"fid": pl.UInt32, "text": pl.String},
        )
        .filter(text != "")
        .with_columns(normal)
        .with_columns(
            pl.when(text.str.ends_with("\n")).then(text).otherwise(text + "\n"),
        )
    )
    counts = (
        pl.zeros(len(texts), pl.UInt32, eager=True)
        .scatter(split["fid"], split["text"].str.count_matches("\n", literal=True))
        .cast(pl.UInt32)
    )
    split = split.with_columns(text.str.strip_suffix("\n").str.split("\n")).explode("text")
    row = pl.int_range(0, split.height, dtype=pl.UInt32, eager=True)
    starts = (counts.cum_sum() - counts).gather(split["fid"])
    return split.with_columns((row - starts + 1).alias("line")).select("fid", "line", "text")
