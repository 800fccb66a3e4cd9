"""Exchange 2007-2019 configuration pasted from the Exchange Management Shell ->
the ``config`` frame.

- ``Get-AcceptedDomain`` (its table, or ``| fl``): one row per accepted domain, key
  ``exchange\\AcceptedDomain\\<DomainType>`` (Authoritative, InternalRelay,
  ExternalRelay: the type decides whether the domain is local, so it is in the
  key), the DomainName as ``new``, ``Name = ...; Default = ...`` as ``note``; the
  row's line is the table row or the ``DomainName`` line.
- ``Get-ReceiveConnector | fl``: one row per property of each connector, key
  ``exchange\\ReceiveConnector\\<Identity>\\<Property>`` (the record's Identity,
  else its Name, else ``#<n>``, its place in the file), the value as written as
  ``new`` (wrapped lines joined). The connector's RemoteIPRanges row says in
  ``note`` whether this output shows it granting anonymous relay: AuthMechanism
  ExternalAuthoritative with PermissionGroups ExchangeServers ("Externally
  secured"), or an ms-Exch-SMTP-Accept-Any-Recipient right of ANONYMOUS LOGON in the
  same file with PermissionGroups AnonymousUsers (or Custom). Then the note is
  ``relay allowed from: <the ranges as a.b.c.d/nn>``, which the rules take as an
  allow list.
- ``Get-ADPermission ... | ft User,ExtendedRights``: one row per right, key
  ``exchange\\ADPermission\\<User>``, the rights as ``new``.

Blank lines, table headings and their dashes, and the other properties of an
accepted domain's list are read and are not records; shell prompts and any other
line are unparsed, with file and line.
"""

from __future__ import annotations

import ipaddress

import polars as pl

from forensics.core.evidence import Evidence
from forensics.core.lineparse import extract
from forensics.readers.base import Format, FormatReader, Reading, ReadOptions
from forensics.readers.sendmailconfig import ALLOW_NOTE, config_reading, snapshot_lines
from grammars import exchangeconfig as g

ORIGIN = "exchangeconfig"
_CONNECTOR = ["Bindings", "RemoteIPRanges", "PermissionGroups", "AuthMechanism"]
_PROMPT = r"^(?:\[PS\] |PS )?[A-Za-z]:\\[^>]*>"
_ANONYMOUS = r"(?i)ANONYMOUS[ -](?:LOGON|ANMELDUNG)"
_ANY_RECIPIENT = r"(?i)ms-Exch-SMTP-Accept-Any-Recipient"


def _networks(ranges: str | None) -> str | None:
    """RemoteIPRanges as written (``{192.168.1.10, 10.0.0.0/24, a-b}``) as the IPv4
    networks they cover, a.b.c.d/nn each (a range cut into the fewest networks)."""
    if ranges is None:
        return None
    out: list[str] = []
    for item in ranges.strip("{} ").split(","):
        item = item.strip().rstrip(".").strip()
        try:
            if "-" in item:
                low, high = (ipaddress.IPv4Address(p.strip()) for p in item.split("-", 1))
                out += [str(n) for n in ipaddress.summarize_address_range(low, high)]
            elif item:
                out.append(str(ipaddress.IPv4Network(item, strict=False)))
        except ValueError:
            continue  # IPv6, or a value PowerShell cut short ("...")
    return " ".join(out)


def read_files(items: list[Evidence], options: ReadOptions) -> Reading:
    lines = snapshot_lines(items)
    text = pl.col("text")
    blank = text.str.strip_chars(" \t") == ""
    dashes = text.str.contains(r"^-+(?:[ \t]+-+)*[ \t]*$")
    heading = text.shift(-1).over("fid").str.contains(r"^-+(?:[ \t]+-+)*[ \t]*$").fill_null(False)
    prompt = text.str.contains(_PROMPT)
    cont = text.str.contains(r"^[ \t]+[^ \t]") & ~prompt
    lines = lines.with_columns(
        blank.cum_sum().over("fid").alias("_record"),
        (blank | dashes | heading).alias("_skip"),
        prompt.alias("_prompt"),
        cont.alias("_cont"),
    )
    body = lines.filter(~pl.col("_skip"))
    prop = (
        extract(body["text"], g.PROPERTY, options.engine).drop("error").rename({"matched": "_prop"})
    )
    table = (
        extract(body["text"], g.ACCEPTED_ROW, options.engine)
        .drop("error")
        .rename({"matched": "_table"})
    )
    perm = (
        extract(body["text"], g.PERMISSION_ROW, options.engine)
        .drop("error")
        .rename({"matched": "_perm"})
    )
    parsed = pl.concat([body, prop, table, perm], how="horizontal").with_columns(
        (pl.col("_prop") & ~pl.col("_prompt")).alias("_prop"),
        pl.when(~pl.col("_cont")).then(pl.col("line")).forward_fill().over("fid").alias("_owner"),
    )
    # Wrapped values: the indented lines after a property belong to it.
    tails = (
        parsed.filter(pl.col("_cont"))
        .group_by("fid", "_owner", maintain_order=True)
        .agg(pl.col("text").str.strip_chars(" \t").str.join(" ").alias("_tail"))
    )
    props = (
        parsed.filter(pl.col("_prop") & ~pl.col("_cont"))
        .join(tails, left_on=["fid", "line"], right_on=["fid", "_owner"], how="left")
        .sort("fid", "line")
        .with_columns(
            pl.concat_str(
                [pl.col("value").str.strip_chars_end(" \t"), pl.col("_tail")],
                separator=" ",
                ignore_nulls=True,
            ).alias("value")
        )
    )
    # Each Format-List object (the lines between blank lines): what it is, its name.
    objects = (
        props.group_by("fid", "_record", maintain_order=True)
        .agg(
            pl.col("value").filter(pl.col("prop") == "Identity").first().alias("_identity"),
            pl.col("value").filter(pl.col("prop") == "Name").first().alias("_name"),
            pl.col("value").filter(pl.col("prop") == "DomainType").first().alias("_type"),
            pl.col("value").filter(pl.col("prop") == "Default").first().alias("_default"),
            pl.col("value").filter(pl.col("prop") == "AuthMechanism").first().alias("_auth"),
            pl.col("value").filter(pl.col("prop") == "PermissionGroups").first().alias("_groups"),
            pl.col("prop").is_in(_CONNECTOR).sum().alias("_connector"),
        )
        .with_columns(
            pl.int_range(pl.len()).over("fid").add(1).alias("_nth"),
        )
    )
    perms = parsed.filter(pl.col("_perm") & ~pl.col("_prop"))
    granted = (
        perms.filter(
            pl.col("user").str.contains(_ANONYMOUS) & pl.col("rights").str.contains(_ANY_RECIPIENT)
        )
        .group_by("fid")
        .agg(
            (pl.col("source").first() + ":" + pl.col("line").first().cast(pl.String)).alias(
                "_right"
            )
        )
    )
    props = props.join(objects, on=["fid", "_record"], how="left").join(
        granted, on="fid", how="left"
    )
    connector = pl.col("_connector") > 0
    domain = pl.col("_type").is_in(list(g.DOMAIN_TYPES)) & ~connector
    external = pl.col("_auth").str.contains("ExternalAuthoritative") & pl.col(
        "_groups"
    ).str.contains("ExchangeServers")
    anonymous = pl.col("_right").is_not_null() & pl.col("_groups").str.contains(
        "AnonymousUsers|Custom"
    )
    why = (
        pl.when(external)
        .then(
            pl.lit(" (AuthMechanism ExternalAuthoritative with PermissionGroups ExchangeServers)")
        )
        .when(anonymous)
        .then(
            pl.lit(" (ms-Exch-SMTP-Accept-Any-Recipient for ANONYMOUS LOGON, ")
            + pl.col("_right")
            + ")"
        )
    )
    cut = pl.when(pl.col("value").str.contains(r"\.\.\.\}?$")).then(
        pl.lit("; the list is cut short by PowerShell ($FormatEnumerationLimit)")
    )
    identity = pl.coalesce("_identity", "_name", pl.lit("#") + pl.col("_nth").cast(pl.String))
    ranges = pl.col("value").map_elements(_networks, return_dtype=pl.String)
    connector_rows = props.filter(connector).with_columns(
        (pl.lit("exchange\\ReceiveConnector\\") + identity + "\\" + pl.col("prop")).alias("key"),
        pl.col("value").alias("new"),
        pl.when(pl.col("prop") == "RemoteIPRanges")
        .then(
            pl.when(external | anonymous)
            .then(pl.concat_str([pl.lit(ALLOW_NOTE), ranges, why, cut], ignore_nulls=True))
            .otherwise(pl.lit("no anonymous relay granted in this output"))
        )
        .alias("note"),
    )
    domain_note = pl.concat_str(
        [pl.lit("Name = "), pl.col("_name"), pl.lit("; Default = "), pl.col("_default")],
        ignore_nulls=True,
    )
    listed = props.filter(domain & (pl.col("prop") == "DomainName")).with_columns(
        (pl.lit("exchange\\AcceptedDomain\\") + pl.col("_type")).alias("key"),
        pl.col("value").alias("new"),
        domain_note.alias("note"),
    )
    # A table cell PowerShell cut short to fit its column ("contoso-wor...", PowerShell
    # 7's "contoso-wor…") is not the domain: that row is unparsed.
    cut_cell = pl.col("ad_domain").str.contains("(?:\\.\\.\\.|\u2026)$")
    tabled = parsed.filter(pl.col("_table") & ~pl.col("_prop") & ~cut_cell).with_columns(
        (pl.lit("exchange\\AcceptedDomain\\") + pl.col("ad_type")).alias("key"),
        pl.col("ad_domain").alias("new"),
        (pl.lit("Name = ") + pl.col("ad_name") + "; Default = " + pl.col("ad_default")).alias(
            "note"
        ),
    )
    permitted = perms.with_columns(
        (pl.lit("exchange\\ADPermission\\") + pl.col("user")).alias("key"),
        pl.col("rights").alias("new"),
        pl.lit(None, pl.String).alias("note"),
    )
    columns = ["fid", "source", "line", "ts", "ts_quality", "key", "new", "note"]
    rows = pl.concat([f.select(columns) for f in (connector_rows, listed, tabled, permitted)]).sort(
        "fid", "line"
    )
    # Read, not records: the other properties of an accepted domain's list, and the
    # wrapped lines of properties.
    read = pl.concat(
        [
            props.filter(domain & (pl.col("prop") != "DomainName")).select("fid", "line"),
            parsed.filter(pl.col("_cont"))
            .join(props.select("fid", pl.col("line").alias("_owner")), on=["fid", "_owner"])
            .select("fid", "line"),
        ]
    )
    bad = parsed.join(rows.select("fid", "line"), on=["fid", "line"], how="anti").join(
        read, on=["fid", "line"], how="anti"
    )
    reason = (
        pl.when(pl.col("_prompt"))
        .then(pl.lit("a shell prompt and the command typed, not its output"))
        .when(pl.col("_table"))
        .then(pl.lit("an accepted domain cut short by the table's width: use | fl"))
        .when(pl.col("_prop"))
        .then(
            pl.lit(
                "a property of an object that is neither a receive connector nor an accepted domain"
            )
        )
        .otherwise(
            pl.lit(
                "not a line of Get-AcceptedDomain, Get-ReceiveConnector or Get-ADPermission output"
            )
        )
    )
    return config_reading(items, lines, rows, bad.with_columns(reason.alias("reason")), ORIGIN)


READER = FormatReader(
    formats=(Format("exchange-config", 103, g.looks_like),),
    frames=("config",),
    read_files=read_files,
)
