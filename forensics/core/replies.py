"""Reply text and code -> refusal category, from the phrase table in
``knowledge/replies.toml``. One table for SMTP replies in session logs and for the
remote replies quoted in NDRs, so both are sorted the same way."""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from forensics.knowledge import load

if TYPE_CHECKING:
    from polars.expr.whenthen import ChainedThen, Then

# The categories, once: replies.toml lists them (in the order charts stack them).
CATEGORIES: tuple[str, ...] = tuple(load("replies")["categories"])


def refusal_category(code: pl.Expr, text: pl.Expr) -> pl.Expr:
    """Category of a refusal; null for a success (code < 400) or no code at all."""
    table = load("replies")["rule"]
    text = text.fill_null("")
    chain: Then | ChainedThen = pl.when(code.is_null() | (code < 400)).then(pl.lit(None, pl.String))
    for rule in table:
        if rule["category"] not in CATEGORIES:
            raise ValueError(f"replies.toml: unknown category {rule['category']!r}")
        condition = text.str.contains("(?i)" + rule["text"])
        if rule["codes"]:
            condition = condition & code.is_in(rule["codes"])
        chain = chain.when(condition).then(pl.lit(rule["category"]))
    return chain.when(code < 500).then(pl.lit("temporary")).otherwise(pl.lit("other"))
