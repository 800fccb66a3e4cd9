"""Evidence text made safe and short for plotly's labels.

Log content is hostile: every text that comes from evidence is HTML-escaped before
it reaches a figure (plotly renders a subset of HTML in hover and annotation texts,
links included).
"""

from __future__ import annotations

import polars as pl


def escaped(text: pl.Expr) -> pl.Expr:
    """``text`` made inert for plotly's HTML-like labels (vectorized)."""
    return text.fill_null("").str.replace_many(["&", "<", ">"], ["&amp;", "&lt;", "&gt;"])


def esc(text: str | None) -> str:
    """One text made inert for plotly's HTML-like labels."""
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cut(text: pl.Expr, n: int = 160) -> pl.Expr:
    """``text`` cut to ``n`` characters, with an ellipsis where it was cut."""
    return pl.when(text.str.len_chars() > n).then(text.str.slice(0, n) + "…").otherwise(text)
