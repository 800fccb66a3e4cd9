"""IPv4 networks as the evidence writes them: addresses as integers, private ranges, and
allow-list entries (a.b.c.d, a.b.c.d/nn, a.b.c.d;mask) read into net, mask and label."""

from __future__ import annotations

import polars as pl

_OCTETS = r"^\[?(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\]?$"
# Private, loopback and link-local IPv4 ranges as (network, mask).
_PRIVATE = [
    (0x0A000000, 0xFF000000),
    (0xAC100000, 0xFFF00000),
    (0xC0A80000, 0xFFFF0000),
    (0x7F000000, 0xFF000000),
    (0xA9FE0000, 0xFFFF0000),
]
# An allow-list entry as the IMS (a.b.c.d;mask), Postfix (a.b.c.d/nn) or a change
# log (either, or a bare address) writes it.
_NETWORK = r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}(?:[/;](?:[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9]{1,2}))?"
_ALL = 0xFFFFFFFF
_PREFIX_MASKS = {n: (_ALL << (32 - n)) & _ALL for n in range(33)}


def ipv4_int(text: pl.Expr) -> pl.Expr:
    """``a.b.c.d`` (or ``[a.b.c.d]``) as an integer; null for anything else."""
    parts = text.str.extract_groups(_OCTETS)
    octets = [parts.struct.field(str(i)).cast(pl.Int64, strict=False) for i in range(1, 5)]
    valid = pl.all_horizontal([(o <= 255) for o in octets])
    value = octets[0] * 16777216 + octets[1] * 65536 + octets[2] * 256 + octets[3]
    return pl.when(valid).then(value)


def is_private(ip: pl.Expr) -> pl.Expr:
    return pl.any_horizontal([(ip.and_(pl.lit(mask)) == net) for net, mask in _PRIVATE])


def networks_in(text: pl.Expr) -> pl.Expr:
    """Every network written in ``text``, as a list of the texts."""
    return text.str.extract_all(_NETWORK)


def _mask_text(mask: int) -> str:
    bits = bin(mask).count("1")
    contiguous = mask == ((_ALL << (32 - bits)) & _ALL)
    return str(bits) if contiguous else _dotted(mask)


def _dotted(value: int) -> str:
    return ".".join(str(value >> s & 255) for s in (24, 16, 8, 0))


def _mask(written: pl.Expr) -> pl.Expr:
    """The mask an entry writes after its address: none (one address), dotted, or a
    prefix length."""
    return (
        pl.when(written.is_null())
        .then(pl.lit(_ALL, pl.Int64))
        .when(written.str.contains(".", literal=True))
        .then(ipv4_int(written))
        .otherwise(
            written.cast(pl.Int64, strict=False).replace_strict(
                _PREFIX_MASKS, default=None, return_dtype=pl.Int64
            )
        )
    )


def entries(texts: pl.DataFrame) -> pl.DataFrame:
    """The networks written in the ``text`` column, once each and sorted: columns net,
    mask (integers) and label (``a.b.c.d/nn``, or a dotted mask that is no prefix)."""
    found = (
        texts.select(networks_in(pl.col("text")).alias("entry"))
        .explode("entry")
        .drop_nulls("entry")
        .with_columns(pl.col("entry").str.replace("/", ";").str.split(";").alias("p"))
        .with_columns(pl.col("p").list.get(1, null_on_oob=True).alias("m"))
        .with_columns(
            ipv4_int(pl.col("p").list.get(0)).alias("net"), _mask(pl.col("m")).alias("mask")
        )
        .drop_nulls(["net", "mask"])
        .unique(["net", "mask"])
        .sort("net", "mask")
    )
    labels = [
        f"{_dotted(net & mask)}/{_mask_text(mask)}"
        for net, mask in zip(found["net"].to_list(), found["mask"].to_list(), strict=True)
    ]
    return found.select("net", "mask").with_columns(pl.Series("label", labels, pl.String))
