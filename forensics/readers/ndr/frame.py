"""The rows read -> the ``ndrs`` frame (with each failure's refusal category and the
reporting software) and the unparsed frame."""

from __future__ import annotations

import polars as pl

from forensics.core import frames
from forensics.core.replies import refusal_category
from forensics.core.versions import software_from_banner

# The rows as read_message builds them, before the refusal and software columns.
_READ: dict[str, pl.DataType | type[pl.DataType]] = {**frames.NDRS, "remote_code": pl.Int64}
_ROW_SCHEMA = {name: dtype for name, dtype in _READ.items() if name != "refusal"}


def ndrs_frame(rows: list[dict[str, object]]) -> pl.DataFrame:
    frame = pl.DataFrame(rows, schema=_ROW_SCHEMA)
    if frame.height == 0:
        return frames.empty(frames.NDRS)
    # A failed NDR is a failure: without a reply code, 5xx unless the DSN status or
    # action says it was temporary.
    code = pl.coalesce(
        pl.col("remote_code").cast(pl.Int64),
        pl.when(pl.col("remote_status").str.starts_with("4") | (pl.col("action") == "delayed"))
        .then(450)
        .otherwise(550),
    )
    evidence = pl.concat_str(
        [pl.col("remote_text"), pl.col("diagnostic"), pl.col("reason_text")],
        separator=" | ",
        ignore_nulls=True,
    )
    frame = frame.with_columns(
        refusal_category(code, evidence).alias("refusal"),
        software_from_banner(frame["software"]).alias("software"),
    )
    return frames.conform(frame, frames.NDRS)


def unparsed_frame(unparsed: list[dict[str, object]]) -> pl.DataFrame:
    if not unparsed:
        return frames.empty(frames.UNPARSED)
    return frames.conform(pl.DataFrame(unparsed), frames.UNPARSED)
