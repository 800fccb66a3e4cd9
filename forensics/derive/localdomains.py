"""Which domains are local: the analysed server delivers their mail itself.

Three sources, strongest first: domains given with ``--local-domain``, the domains
of the addresses in a directory export, and domains inferred from the logs. An
inference needs two facts, because accepted inbound mail alone proves nothing: a
server that relays (the very thing this tool looks for) accepts mail for foreign
domains too. A domain is inferred local when the server accepted inbound mail for it
and it is also the server's own domain (the domain of the name it greets with) or
a domain its own users send outbound mail from.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from forensics.core import frames

_DOMAIN_OF_ADDRESS = r"@([^@>\s]+)$"


def _host_domain(host: pl.Expr) -> pl.Expr:
    """``MAIL01.contoso.example`` -> ``contoso.example`` (null for a bare name or an
    address literal)."""
    host = host.str.to_lowercase().str.strip_chars(".[]")
    return (
        pl.when(host.str.contains(r"^[a-z0-9-]+\.[a-z0-9-]+\.[a-z]"))
        .then(host.str.replace(r"^[^.]+\.", ""))
        .otherwise(None)
    )


def find(
    given: Iterable[str],
    directory: pl.DataFrame,
    sessions: pl.DataFrame,
    recipients: pl.DataFrame,
) -> pl.DataFrame:
    """The ``domains`` frame: one row per local domain, the strongest origin kept."""
    option = pl.DataFrame(
        {"domain": sorted({d.lower().strip().strip(".") for d in given if d.strip()})},
        schema={"domain": pl.String},
    ).with_columns(origin=pl.lit("option"))
    listed = (
        directory.select(
            domain_of(pl.col("address")).alias("domain"),
            "source",
            "line",
        )
        .drop_nulls("domain")
        .group_by("domain")
        .agg(pl.col("source").first(), pl.col("line").first())
        .with_columns(origin=pl.lit("directory"))
    )
    own_hosts = pl.concat(
        [
            sessions.filter(pl.col("direction") == "inbound").select(host="local_host"),
            sessions.filter(pl.col("direction") == "outbound").select(host="helo"),
        ]
    )
    own = set(own_hosts.select(_host_domain(pl.col("host"))).to_series().drop_nulls().to_list())
    senders = set(
        sessions.filter(pl.col("direction") == "outbound")
        .select(domain_of(pl.col("mail_from")))
        .to_series()
        .drop_nulls()
        .to_list()
    )
    parents = {d.split(".", i)[-1] for d in own for i in range(d.count("."))} | own
    accepted = (
        recipients.filter(
            (pl.col("direction") == "inbound")
            & pl.col("accepted").fill_null(False)
            & pl.col("rcpt_domain").is_not_null()
        )
        .sort("ts", "source", "line", nulls_last=True)
        .group_by("rcpt_domain", maintain_order=True)
        .agg(pl.col("source").first(), pl.col("line").first())
        .rename({"rcpt_domain": "domain"})
    )
    inferred = accepted.filter(
        pl.col("domain").is_in(sorted(parents)) | pl.col("domain").is_in(sorted(senders))
    ).with_columns(
        origin=pl.lit("inferred"),
        note=pl.when(pl.col("domain").is_in(sorted(parents)))
        .then(pl.lit("inbound mail accepted for it, and it is the server's own domain"))
        .otherwise(pl.lit("inbound mail accepted for it, and outbound mail is sent from it")),
    )
    parts = [frames.conform(f, frames.DOMAINS) for f in (option, listed, inferred)]
    return strongest(pl.concat(parts))


def strongest(domains: pl.DataFrame) -> pl.DataFrame:
    """One row per domain: the strongest origin (option, then directory, then inferred)."""
    rank = {"option": 0, "directory": 1, "inferred": 2}
    return (
        domains.with_columns(
            pl.col("origin").replace_strict(rank, return_dtype=pl.UInt8).alias("_rank")
        )
        .sort("domain", "_rank", "source", nulls_last=True)
        .unique("domain", keep="first", maintain_order=True)
        .drop("_rank")
    )


def domain_of(address: pl.Expr) -> pl.Expr:
    """``Ann@Contoso.example`` -> ``contoso.example``; null for no domain."""
    return address.str.extract(_DOMAIN_OF_ADDRESS).str.to_lowercase()


def is_local(domain: pl.Expr, domains: pl.DataFrame) -> pl.Expr:
    """True for a local domain, false for another one, null when no local domain is
    known at all (then nothing can be called foreign)."""
    known = domains["domain"].to_list()
    return domain.is_in(known) if known else pl.lit(None, pl.Boolean)


def mark(recipients: pl.DataFrame, domains: pl.DataFrame) -> pl.DataFrame:
    """Set ``recipients.local`` (see :func:`is_local`)."""
    return recipients.with_columns(is_local(pl.col("rcpt_domain"), domains).alias("local"))
