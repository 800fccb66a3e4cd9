"""The analysed server: its name (from the sessions, else the event log) and its
software version (from the NDRs it wrote itself)."""

from __future__ import annotations

import re

import polars as pl

from forensics.core.frames import Frames
from forensics.knowledge import load


def _short(server: str) -> str:
    """A host name's first label, lower case: how other logs name the same server."""
    return server.split(".")[0].lower()


def name(frames: Frames) -> str | None:
    """The name the server gives itself most: the local host of inbound sessions and
    the HELO of outbound ones (not an address literal), else the event log's computer."""
    names = pl.concat(
        [
            frames.sessions.filter(pl.col("direction") == "inbound").select(name="local_host"),
            frames.sessions.filter(pl.col("direction") == "outbound").select(name="helo"),
        ]
    ).drop_nulls()
    names = names.filter(~pl.col("name").str.starts_with("["))
    if names.height:
        return str(names["name"].mode().sort()[0])
    computers = frames.service_events["computer"].drop_nulls()
    return str(computers.mode().sort()[0]) if computers.len() else None


def is_this(server: str | None, host: pl.Expr) -> pl.Expr:
    """Whether ``host`` names ``server`` (its first label, any case)."""
    if not server:
        return pl.lit(False)
    return host.str.to_lowercase().str.split(".").list.first() == _short(server)


def version(frames: Frames, server: str | None) -> str | None:
    """The server's software, from the NDRs it wrote itself (the MSEXCH diagnostic
    names the server; X-Mailer names the version)."""
    if not server:
        return None
    short = _short(server)
    own = frames.ndrs.filter(
        (pl.col("msexch_server").str.to_lowercase() == short)
        | (pl.col("reporting_mta").str.to_lowercase().str.split(".").list.first() == short)
    )["software"].drop_nulls()
    return str(own.mode().sort()[0]) if own.len() else None


def version_matches(version: str | None, kb: str) -> bool:
    """Whether ``version`` is one that article ``kb`` names (kb.toml version_match)."""
    article = {a["id"]: a for a in load("kb")["article"]}[kb]
    pattern = article.get("version_match") or ""
    return bool(pattern and version and re.search(pattern, version))
