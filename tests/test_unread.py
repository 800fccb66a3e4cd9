"""Mail servers this version does not read: recognised by name, every line of theirs
listed as unparsed with the server named (real lines: fail2ban's test logs)."""

from __future__ import annotations

import polars as pl

from forensics.ingest import ingest
from tests.conftest import CORPUS, corpus

OTHERS = CORPUS / "othermta" / "fail2ban"


def _meaningful(text: str) -> int:
    return sum(1 for line in text.splitlines() if line.strip() and not line.startswith("#"))


def test_every_line_of_a_server_not_read_is_unparsed_with_the_server_named():
    folder = corpus(OTHERS)
    frames = ingest([folder])
    expected = {
        "courier-smtp": ("syslog", "Courier"),
        "domino-smtp": ("domino", "Domino"),
        "kerio": ("kerio", "Kerio Connect"),
        "qmail": ("syslog", "qmail"),
    }
    rows = {row["path"]: row for row in frames.inputs.to_dicts()}
    assert set(rows) == set(expected)
    for name, (fmt, server) in expected.items():
        row = rows[name]
        lines = _meaningful((folder / name).read_text(encoding="utf-8", errors="replace"))
        assert (row["format"], row["records"], row["unparsed"]) == (fmt, 0, lines), name
        assert server in row["note"], name
        reasons = frames.unparsed.filter(pl.col("source") == name)["reason"]
        assert reasons.len() == lines
        assert reasons.str.contains(server, literal=True).all(), name
    assert frames.sessions.height == 0
