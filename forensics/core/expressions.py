"""Polars expressions that more than one layer needs."""

from __future__ import annotations

import polars as pl


def fill_within(value: pl.Expr, segment: pl.Expr) -> pl.Expr:
    """``value`` carried forward over nulls, but never across a ``segment`` change.
    Events are in file and line order, so sessions are contiguous runs: this needs
    no grouping at all."""
    owner = pl.when(value.is_not_null()).then(segment).forward_fill()
    return pl.when(owner == segment).then(value.forward_fill())
