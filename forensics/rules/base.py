"""What the rules share: building a finding from facts, and the evidence texts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import polars as pl

from forensics.core import findings
from forensics.core.findings import Finding
from forensics.rules.context.change import Change


def rcpt_text() -> pl.Expr:
    """A recipients row as an evidence line: what was asked and what was answered."""
    return pl.concat_str(
        [
            pl.lit("RCPT TO:<"),
            pl.col("rcpt").fill_null(""),
            pl.lit("> from "),
            pl.col("client").fill_null("?"),
            pl.lit(" -> "),
            pl.col("code").cast(pl.String).fill_null("(no reply)"),
            pl.lit(" "),
            pl.col("text").fill_null(""),
        ]
    )


def cited(frame: pl.DataFrame, text: pl.Expr) -> pl.DataFrame:
    """``frame`` cut to the evidence columns."""
    return frame.select("source", pl.col("line").cast(pl.UInt32), "ts", text.alias("text"))


def by_group(frame: pl.DataFrame, column: str) -> list[tuple[str, pl.DataFrame]]:
    """``frame`` split by ``column`` in one pass (not one filter per group: a server
    probed by thousands of addresses must not cost thousands of scans), sorted."""
    if frame.height == 0:
        return []
    parts = frame.drop_nulls(column).partition_by(column, as_dict=True)
    return sorted((str(key[0]), part) for key, part in parts.items())


def client_group() -> pl.Expr:
    """The client as an admin acts on it: a public address by itself, a private
    one by its /24 network (a dozen office PCs are one misconfiguration)."""
    network = pl.concat_str(
        [(pl.col("ip") // 2**s % 256).cast(pl.String) for s in (24, 16, 8)] + [pl.lit("0/24")],
        separator=".",
    )
    return pl.when(pl.col("private")).then(network).otherwise(pl.col("client"))


def first_reply(rows: pl.DataFrame) -> str:
    """The reply to the first of ``rows`` (RCPT rows: code and text), as one text."""
    first = rows.row(0, named=True)
    return f"{first['code']} {first['text'] or ''}".strip()


def most_common(frame: pl.DataFrame, column: str) -> str:
    values = frame[column].drop_nulls()
    return str(values.mode().sort()[0]) if values.len() else ""


def make(
    rule: str,
    subject: str,
    *,
    count: int,
    first: dt.datetime | None,
    last: dt.datetime | None,
    facts: dict[str, Any],
    seen: dict[str, bool],
    metrics: dict[str, float],
    evidence: Sequence[pl.DataFrame],
    change: Change | None = None,
) -> Finding:
    """A finding of ``rule``: title, templates and policies from knowledge/rules.toml;
    ``evidence`` frames hold source, line, ts and text (see :func:`cited`)."""
    meta = findings.rule_meta(rule)
    confidence, saw, lacked = findings.judge(rule, seen)
    facts = {
        "subject": subject,
        "count": f"{count:,}",
        "first": findings.when(first),
        "last": findings.when(last),
        **facts,
    }
    rows = pl.concat([e for e in evidence if e.height]) if any(e.height for e in evidence) else None
    total, shown = findings.evidence_rows(rows, pl.col("text")) if rows is not None else (0, [])
    return Finding(
        rule=rule,
        kb=list(meta["kb"]),
        title=meta["title"],
        subject=subject,
        severity=findings.severity(rule, {"count": count, **metrics}),
        confidence=confidence,
        first_seen=first,
        last_seen=last,
        count=count,
        summary=findings.fill(meta["summary"], facts),
        cause=findings.fill(meta["cause"], facts),
        facts=facts,
        resolution=findings.resolution(meta["kb"]),
        evidence_total=total,
        evidence=shown,
        saw=saw,
        lacked=lacked,
        change=change.as_json() if change else None,
    )


def rcpt_finding(
    rule: str,
    subject: str,
    rows: pl.DataFrame,
    *,
    facts: dict[str, Any],
    seen: dict[str, bool],
    metrics: dict[str, float],
    also: Sequence[pl.DataFrame] = (),
    change: Change | None = None,
) -> Finding:
    """A finding about RCPT ``rows``: counted, dated and cited from them (``also``:
    more evidence frames, as :func:`cited` makes them)."""
    first, last = findings.span(rows)
    return make(
        rule,
        subject,
        count=rows.height,
        first=first,
        last=last,
        facts=facts,
        seen=seen,
        metrics=metrics,
        evidence=[cited(rows, rcpt_text()), *also],
        change=change,
    )
