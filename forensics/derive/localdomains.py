"""Which domains are local: the analysed server delivers their mail itself.

Sources, strongest first, each row with the evidence that proved it (file and line):
- ``option``: ``--local-domain``. When given, it replaces every inference below: the
  user knows their server better than any guess.
- ``config``: the server's configuration (Postfix ``mydestination``,
  ``virtual_mailbox_domains``, ``virtual_alias_domains``, with ``$myhostname`` and
  ``$mydomain`` expanded).
- ``directory``: the domains of the addresses in a directory export.
- ``delivery``: mail for the domain delivered to a mailbox on this server (Postfix's
  local, virtual or pipe agents, lmtp to a local socket).
- ``server-name``: the domain of the name the server gives itself: its greeting
  banner (``220 mail01.contoso.example ...``) and the name it says in HELO/EHLO to
  the next hop. A server's own domain is its own, even when it refuses it (that is
  what Q256856 describes).
- ``inferred``: mail for the domain accepted inbound from a client that did not
  authenticate and is not this machine, and the domain is the server's own or one
  its outbound mail is sent from. Mail that users submitted (SASL, AUTH), that came
  from the server itself (localhost, a content filter re-injecting on 10025, pickup)
  proves nothing: users send to any domain. An inference is withdrawn by a relay
  refusal for the same domain: a server that refuses mail for a domain as relaying
  does not hold it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import polars as pl

from forensics.core import frames
from forensics.knowledge import load

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
    events: pl.DataFrame | None = None,
    config: pl.DataFrame | None = None,
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
    parts = [option, _configured(config), listed]
    if option.height == 0:
        names = _server_names(events)
        parts += [_delivered(recipients), names, _inferred(sessions, recipients, names)]
    return strongest(pl.concat([frames.conform(f, frames.DOMAINS) for f in parts]))


def configured_lists(config: pl.DataFrame) -> list[dict[str, Any]]:
    """The config rows that list local domains (knowledge/domains.toml [config] keys),
    each with ``items``: the domains it names."""
    table = load("domains")["config"]
    settings = config.filter(pl.col("key").is_in(table["keys"] + table["names"]))
    names = dict(settings.select("key", "new").iter_rows())
    return [
        {**row, "items": _list_items(row["new"] or "", table["variables"], names)}
        for row in settings.filter(pl.col("key").is_in(table["keys"])).iter_rows(named=True)
    ]


def _configured(config: pl.DataFrame | None) -> pl.DataFrame:
    """Local domains a configuration snapshot names (knowledge/domains.toml)."""
    empty = frames.empty(frames.DOMAINS)
    if config is None or config.height == 0:
        return empty
    rows = []
    for row in configured_lists(config):
        for value in row["items"]:
            rows.append(
                {
                    "domain": value,
                    "origin": "config",
                    "source": row["source"],
                    "line": row["line"],
                    "note": f"{row['key'].rsplit(chr(92), 1)[-1]} = {row['new']}",
                }
            )
    return pl.DataFrame(rows, schema=frames.DOMAINS) if rows else empty


# A domain as a list may name one: labels of letters, digits and hyphens.
_DOMAIN = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$")


def _list_items(value: str, variables: dict[str, str], names: dict[str, str | None]) -> list[str]:
    """The domains a configured list names: items split on commas and blanks (Postfix,
    Sendmail) and on colons (Exim's lists), variables replaced; lookup tables
    (``hash:/etc/postfix/...``), unknown variables and what is no domain (Exim's
    ``@[]``, ``*.example``, ``!example``, ``@mx_any``) left out."""
    found = []
    for token in re.split(r"[,\s]+", value):
        if not token or "/" in token or token.startswith(("hash:", "lmdb:", "ldap:")):
            continue  # a lookup table: what it holds is not in the snapshot
        for item in token.split(":"):
            for variable, key in variables.items():
                if item == variable or variable.startswith("$"):
                    item = item.replace(variable, names.get(key) or variable)
            domain = item.lower().strip(".")
            if _DOMAIN.match(domain):
                found.append(domain)
    return found


def _delivered(recipients: pl.DataFrame) -> pl.DataFrame:
    """Domains of recipients whose mail this server delivered to a mailbox itself."""
    pattern = load("domains")["local_delivery"]
    found = (
        recipients.filter(
            (pl.col("direction") == "inbound")
            & pl.col("accepted").fill_null(False)
            & pl.col("rcpt_domain").is_not_null()
            & pl.col("text").str.contains(pattern).fill_null(False)
        )
        .sort("ts", "source", "line", nulls_last=True)
        .group_by("rcpt_domain", maintain_order=True)
        .agg(pl.col("source").first(), pl.col("line").first(), pl.col("text").first())
    )
    return found.select(
        pl.col("rcpt_domain").alias("domain"),
        pl.lit("delivery").alias("origin"),
        "source",
        "line",
        pl.col("text").str.replace("^queued; ", "").alias("note"),
    )


def _server_names(events: pl.DataFrame | None) -> pl.DataFrame:
    """The domains of the names the server calls itself: its banner to inbound
    clients, its HELO/EHLO to the next hop; the first line that shows each."""
    if events is None or events.height == 0:
        return frames.empty(frames.DOMAINS)
    # The greeting (220 name ...) and the answer to EHLO (250 name Hello ...).
    banner = (
        (pl.col("direction") == "inbound")
        & (pl.col("kind") == "reply")
        & (
            (pl.col("code") == 220)
            | ((pl.col("code") == 250) & pl.col("text").str.contains(r"(?i)^\S+\s+hello\b"))
        )
    )
    hello = (
        (pl.col("direction") == "outbound")
        & (pl.col("kind") == "command")
        & pl.col("verb").is_in(["HELO", "EHLO"])
    )
    name = (
        pl.when(banner)
        .then(pl.col("text").str.extract(r"^\s*([^\s]+)"))
        .otherwise(pl.col("arg").str.extract(r"^\s*([^\s]+)"))
    )
    found = (
        events.filter(banner | hello)
        .select("source", "line", "ts", _host_domain(name).alias("domain"))
        .drop_nulls("domain")
        .sort("ts", "source", "line", nulls_last=True)
        .group_by("domain", maintain_order=True)
        .agg(pl.col("source").first(), pl.col("line").first())
    )
    return found.with_columns(
        origin=pl.lit("server-name"),
        note=pl.lit("the domain of the name the server greets with or says in HELO/EHLO"),
    )


def _inferred(
    sessions: pl.DataFrame, recipients: pl.DataFrame, names: pl.DataFrame
) -> pl.DataFrame:
    own = set(names["domain"].to_list())
    senders = set(
        sessions.filter(pl.col("direction") == "outbound")
        .select(domain_of(pl.col("mail_from")))
        .to_series()
        .drop_nulls()
        .to_list()
    )
    parents = {d.split(".", i)[-1] for d in own for i in range(d.count("."))} | own
    inbound = recipients.filter(
        (pl.col("direction") == "inbound") & pl.col("rcpt_domain").is_not_null()
    )
    # The server's users' and its own mail (recipients.own) proves nothing.
    outsiders = inbound.filter(~pl.col("own").fill_null(False))
    refused_as_relay = set(
        inbound.filter(pl.col("refusal") == "relay_denied")["rcpt_domain"].unique().to_list()
    )
    accepted = (
        outsiders.filter(pl.col("accepted").fill_null(False))
        .sort("ts", "source", "line", nulls_last=True)
        .group_by("rcpt_domain", maintain_order=True)
        .agg(pl.col("source").first(), pl.col("line").first())
        .rename({"rcpt_domain": "domain"})
    )
    return accepted.filter(
        (pl.col("domain").is_in(sorted(parents)) | pl.col("domain").is_in(sorted(senders)))
        & ~pl.col("domain").is_in(sorted(refused_as_relay))
    ).with_columns(
        origin=pl.lit("inferred"),
        note=pl.when(pl.col("domain").is_in(sorted(parents)))
        .then(pl.lit("inbound mail accepted for it, and it is the server's own domain"))
        .otherwise(pl.lit("inbound mail accepted for it, and outbound mail is sent from it")),
    )


def strongest(domains: pl.DataFrame) -> pl.DataFrame:
    """One row per domain: the strongest origin (option, config, directory, delivery,
    server-name, inferred)."""
    rank = {
        "option": 0,
        "config": 1,
        "directory": 2,
        "delivery": 3,
        "server-name": 4,
        "inferred": 5,
    }
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
