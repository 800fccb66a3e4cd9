"""The rows about recipients (RCPTs and NDR recipients), with what the rules judge them
by: the client's facts (authenticated, its address, an allow-list entry holding it) and
the recipient's (its domain's origin, listed in the directory, local)."""

from __future__ import annotations

import polars as pl

from forensics.core.frames import Frames
from forensics.rules.context.networks import ipv4_int, is_private

# A client whose connection line named nothing usable: still a subject of its own.
UNNAMED_CLIENT = "(unnamed client)"
_SESSION_FACTS = (
    "session",
    "remote_host",
    "auth_user",
    "data_accepted",
    "outcome",
    "local_host",
    "helo",
)


def _with_domain_facts(
    frame: pl.DataFrame, address: str, frames: Frames, *before: pl.Expr
) -> pl.DataFrame:
    """``frame`` with ``domain_origin`` (where its ``rcpt_domain`` is known local from)
    and ``in_directory`` (its ``address`` listed); ``before`` are added first."""
    origins = frames.domains.select(pl.col("domain").alias("rcpt_domain"), "origin")
    listed = frames.directory["address"].unique().to_list()
    return (
        frame.join(origins, on="rcpt_domain", how="left", maintain_order="left")
        .rename({"origin": "domain_origin"})
        .with_columns(
            *before, pl.col(address).str.to_lowercase().is_in(listed).alias("in_directory")
        )
    )


def _allowed(ips: pl.DataFrame, allow_entries: pl.DataFrame) -> pl.DataFrame:
    """Each address (``ip``) with the label of the narrowest allow-list entry holding it."""
    return (
        ips.join(allow_entries, how="cross")
        .filter(pl.col("ip").and_(pl.col("mask")) == pl.col("net").and_(pl.col("mask")))
        .sort("ip", "mask", descending=[False, True])
        .unique("ip", keep="first")
        .select("ip", pl.col("label").alias("allow_entry"))
    )


def recipients(
    frames: Frames, recipients: pl.DataFrame, allow_entries: pl.DataFrame
) -> pl.DataFrame:
    """``recipients`` with their session's client facts and where the recipient's
    locality comes from: ``auth_user``, ``data_accepted``, ``remote_host``, ``ip``
    (integer), ``private``, ``allow_entry`` (label of the first allow-list entry
    holding the client), ``in_directory``, ``domain_origin``, ``own`` (the server's
    users' or its own mail: derive/submission.py)."""
    sessions = frames.sessions.select(*_SESSION_FACTS)
    out = recipients.join(sessions, on="session", how="left", maintain_order="left")
    out = out.with_columns(ipv4_int(pl.coalesce("remote_ip", "remote_host")).alias("ip"))
    out = out.with_columns(
        is_private(pl.col("ip")).fill_null(False).alias("private"),
        pl.coalesce("remote_ip", "remote_host", pl.lit(UNNAMED_CLIENT)).alias("client"),
    )
    allowed = _allowed(out.select("ip").drop_nulls().unique(), allow_entries)
    out = out.join(allowed, on="ip", how="left", maintain_order="left")
    # Frames written before recipients had ``own`` (a dataset) read as not own.
    return _with_domain_facts(out, "rcpt", frames, pl.col("own").fill_null(False))


def ndrs(frames: Frames, ndrs: pl.DataFrame) -> pl.DataFrame:
    """``ndrs`` with ``rcpt_domain``, ``local`` (as in recipients), ``in_directory``
    and ``domain_origin``."""
    ndrs = ndrs.with_columns(
        pl.col("recipient").str.to_lowercase().str.extract(r"@([^@>\s]+)$").alias("rcpt_domain")
    )
    known = frames.domains["domain"].to_list()
    local = pl.col("rcpt_domain").is_in(known) if known else pl.lit(None, pl.Boolean)
    return _with_domain_facts(ndrs, "recipient", frames, local.alias("local"))


def relay_attempts(recipients: pl.DataFrame) -> pl.DataFrame:
    """Inbound RCPTs to domains that are not local: requests to relay. A domain is not
    local when the local domains known exclude it, or, when none is known, when the
    server itself refused it as relaying (a relay refusal says the server does not
    hold the domain). ``own`` marks the mail of the server's users and of the server
    itself (derive/submission.py): never relaying by an outside client, though its
    refusal may be the incident."""
    foreign = (pl.col("local") == False) | (  # noqa: E712
        pl.col("local").is_null() & (pl.col("refusal") == "relay_denied")
    )
    return recipients.filter((pl.col("direction") == "inbound") & foreign)
