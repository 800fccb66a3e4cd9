"""Postfix's lines that state an SMTP fact and that no grammar read: reported with
their daemon, never counted as read (a refusal must not vanish because its wording
or its daemon is new to this version)."""

from __future__ import annotations

import polars as pl

from forensics.core.lineparse import Engine, matches
from forensics.readers.mta import unknown_rows
from forensics.readers.postfix.queue import DELIVERY_AGENTS
from grammars import postfix as g
from grammars.twin import LineGrammar

# Each kind of fact (grammars/postfix.py FACT_STARTS): the daemons that write it and
# the grammar that reads it, as the readers of this package use them.
_READ_BY: dict[str, tuple[tuple[str, ...], LineGrammar]] = {
    "connect": (("smtpd",), g.CONNECT),
    "disconnect": (("smtpd",), g.DISCONNECT),
    "reject": (("smtpd",), g.REJECT),
    "client": (("smtpd",), g.CLIENT),
    "sender": (("qmgr",), g.QMGR_FROM),
    "delivery": (DELIVERY_AGENTS, g.DELIVERY),
}


def unread_facts(df: pl.DataFrame, engine: Engine) -> pl.DataFrame:
    """``_g`` and reason of each line of ``df`` that begins like a fact and that the
    grammar of its kind does not read (or whose daemon no reader reads it from)."""
    found = []
    for kind, (needle, start) in g.FACT_STARTS.items():
        daemons, grammar = _READ_BY[kind]
        # The needle first: a literal test costs a tenth of the regex.
        rows = df.filter(
            pl.col("msg").str.contains(needle, literal=True) & pl.col("msg").str.contains(start)
        ).select("_g", "daemon", "msg")
        if rows.height == 0:
            continue
        read = matches(rows["msg"], grammar, engine) & rows["daemon"].is_in(list(daemons))
        if kind == "reject":  # a refused RCPT without the trailer that names its recipient
            cut = read & (
                rows["msg"].str.contains(r": (?:milter-)?reject: RCPT from ")
                & ~rows["msg"].str.contains(g.REJECT_TRAILER_SPLIT)
            )
            if cut.any():
                found.append(unknown_rows(rows.filter(cut), _CUT_SHORT))
                rows, read = rows.filter(~cut), read.filter(~cut)
        missed = rows.filter(~read)
        if missed.height:
            found.append(
                unknown_rows(missed, "").with_columns(
                    pl.concat_str(
                        [
                            pl.lit(f"a Postfix {kind} line (postfix/"),
                            missed["daemon"],
                            pl.lit(") that this version's grammar does not read"),
                        ]
                    ).alias("reason")
                )
            )
    return pl.concat(found) if found else unknown_rows(df.clear(), "")


_CUT_SHORT = (
    "a Postfix RCPT refusal truncated before its from=/to= trailer: the refused recipient "
    "is unknown, so it is not counted as one"
)
