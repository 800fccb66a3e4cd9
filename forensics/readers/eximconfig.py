"""Exim's configuration (``exim -bP`` output, the main section of exim.conf or
exim4.conf.template, Debian's update-exim4.conf.conf) -> the ``config`` frame.

One row per main option or named list set: key ``exim\\<name>``
(``domainlist local_domains = @ : example.com`` is ``exim\\local_domains``, as is
Exim 3's ``local_domains = ...``), the value as written as ``new`` (a value
continued with a trailing backslash joined, as Exim joins it; the single quotes of
Debian's ``dc_*='...'`` off), the kind of a named list (``domainlist``) as
``note``. A boolean printed as ``name``, ``no_name`` or ``not_name`` is ``true`` or
``false``.
The hosts allowed to relay (``relay_from_hosts``, Debian's ``dc_relay_nets``) have
``relay allowed from: <value>`` as ``note``. Comments and blank lines are read and
are not records; lines of the other sections (after ``begin acl``, ``begin
routers``, ...) and directives (``.include``, ``.ifdef``) are unparsed with the
reason; so is any other line.
"""

from __future__ import annotations

import polars as pl

from forensics.core.evidence import Evidence
from forensics.core.lineparse import extract
from forensics.readers.base import Format, FormatReader, Reading, ReadOptions
from forensics.readers.sendmailconfig import ALLOW_NOTE, config_reading, snapshot_lines
from grammars import eximconfig as g

ORIGIN = "eximconfig"
KEY_PREFIX = "exim\\"
ALLOW_KEYS = ["relay_from_hosts", "dc_relay_nets"]


def read_files(items: list[Evidence], options: ReadOptions) -> Reading:
    lines = snapshot_lines(items)
    text = pl.col("text")
    blank = text.str.strip_chars(" \t") == ""
    comment = text.str.strip_chars_start(" \t").str.starts_with("#")
    # A line whose previous line ends in a backslash continues that line.
    continued = text.shift(1).over("fid").str.ends_with("\\").fill_null(False)
    lines = lines.with_columns(
        continued.alias("_cont"), (blank | comment).alias("_skip")
    ).with_columns(
        # The section a line is in (null: the main section).
        pl.when(~pl.col("_cont"))
        .then(text.str.extract(r"^[ \t]*begin[ \t]+([a-z_]+)[ \t]*$"))
        .forward_fill()
        .over("fid")
        .alias("_section"),
        pl.when(~pl.col("_cont")).then(pl.col("line")).forward_fill().over("fid").alias("_owner"),
    )
    body = lines.filter(~pl.col("_skip") | pl.col("_cont"))
    setting = extract(body["text"], g.SETTING, options.engine).drop("error")
    flag = extract(body["text"], g.FLAG, options.engine).drop("error").rename({"matched": "_flag"})
    begin = (
        extract(body["text"], g.BEGIN, options.engine).drop("error").rename({"matched": "_begin"})
    )
    parsed = pl.concat([body, setting, flag, begin], how="horizontal")
    main = pl.col("_section").is_null()
    starts = ~pl.col("_cont")
    is_setting = starts & main & (pl.col("matched") | pl.col("_flag"))
    tails = (
        parsed.filter(pl.col("_cont"))
        .group_by("fid", "_owner", maintain_order=True)
        .agg(
            pl.col("text")
            .str.strip_chars_start(" \t")
            .str.strip_chars_end(" \t")
            .str.strip_suffix("\\")
            .str.join("")
            .alias("_tail")
        )
    )
    rows = (
        parsed.filter(is_setting)
        .join(tails, left_on=["fid", "line"], right_on=["fid", "_owner"], how="left")
        .sort("fid", "line")
    )
    name = pl.coalesce("name", "name2", pl.col("flag").str.replace(r"^not?_", ""))
    written = pl.concat_str(
        [
            pl.coalesce("value", "value2").str.strip_chars_end(" \t").str.strip_suffix("\\"),
            pl.col("_tail"),
        ],
        ignore_nulls=True,
    )
    quoted = (
        written.str.starts_with("'") & written.str.ends_with("'") & (written.str.len_chars() >= 2)
    )
    value = (
        pl.when(pl.col("_flag") & ~pl.col("matched"))
        .then(
            pl.when(pl.col("flag").str.contains(r"^not?_"))
            .then(pl.lit("false"))
            .otherwise(pl.lit("true"))
        )
        .when(quoted)
        .then(written.str.slice(1).str.strip_suffix("'"))
        .otherwise(written)
    )
    rows = rows.with_columns(
        (pl.lit(KEY_PREFIX) + name).alias("key"), value.alias("new")
    ).with_columns(
        pl.when(name.is_in(ALLOW_KEYS))
        .then(pl.lit(ALLOW_NOTE) + pl.col("new"))
        .otherwise(pl.col("kind"))
        .alias("note")
    )
    taken = rows.select("fid", pl.col("line").alias("_owner"), pl.lit(True).alias("_taken"))
    parsed = parsed.join(taken, on=["fid", "_owner"], how="left")
    read_tail = pl.col("_cont") & pl.col("_taken").fill_null(False)
    bad = parsed.filter(~is_setting & ~read_tail & ~(pl.col("_skip") & ~pl.col("_cont")))
    section = pl.col("_section")
    reason = (
        pl.when(pl.col("_begin") & starts)
        .then(
            pl.lit(
                "the start of an Exim section: its lines are not read"
                " (only the main section's settings are)"
            )
        )
        .when(section.is_not_null())
        .then(
            pl.lit("in Exim's ")
            + section
            + pl.lit(" section: not read (only the main section's settings are)")
        )
        .when(pl.col("text").str.contains(r"^[ \t]*\.[a-z_]+"))
        .then(pl.lit("a directive of the configuration file (.include, .ifdef, ...): not followed"))
        .otherwise(pl.lit("not an Exim 'name = value' setting"))
    )
    return config_reading(items, lines, rows, bad.with_columns(reason.alias("reason")), ORIGIN)


READER = FormatReader(
    formats=(Format("exim-config", 107, g.looks_like),),
    frames=("config",),
    read_files=read_files,
)
