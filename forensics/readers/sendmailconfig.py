"""Sendmail's configuration files -> the ``config`` frame: /etc/mail/access (text
form), /etc/mail/local-host-names and /etc/mail/relay-domains.

One row per entry: an access entry is key ``sendmail\\access\\<left side as
written>`` (``sendmail\\access\\Connect:192.168.0``) with the action as ``new``
(``RELAY``); a name of local-host-names or relay-domains is key
``sendmail\\local-host-names`` (``sendmail\\relay-domains``) with the name as
``new``, one row per line. Which of the two lists a name belongs to is the last
line above it that names the file (Fedora's header comment, the shell prompt that
printed it). A client network allowed to relay (a ``Connect:`` or untagged IPv4
prefix whose action is RELAY, an IPv4 prefix of relay-domains) has the network in
``note`` as ``relay allowed from: a.b.c.d/nn`` (Sendmail matches address prefixes
octet by octet: ``192.168.0`` is 192.168.0.0/24). Comments and blank lines are read
and are not records; any other line is unparsed, with its file and line.

The snapshot helpers here (:func:`snapshot_lines`, :func:`snapshot_config`) are
shared by the Exim and Exchange configuration readers.
"""

from __future__ import annotations

import polars as pl

from forensics.core import frames
from forensics.core.evidence import Evidence
from forensics.core.lineparse import extract
from forensics.core.text import lines_frame
from forensics.readers.base import Format, FormatReader, Reading, ReadOptions, counted
from forensics.readers.common import per_file
from forensics.readers.regexport import snapshot_time
from grammars import sendmailconfig as g

ORIGIN = "sendmailconfig"
# The note of a config row that lists clients allowed to relay; the rules' allow
# lists take the networks written after it (rules/context/allowlists.py).
ALLOW_NOTE = "relay allowed from: "
_LISTS = r"(local-host-names|relay-domains)"
_PREFIX = r"^[0-9]{1,3}(?:\.[0-9]{1,3}){0,3}$"
# A shell prompt with the command typed ("[root@mx2 mail]# vi access",
# "root@mx:~# cat /etc/mail/local-host-names"), pasted with the file.
ACTIONS = r"^(?:OK|RELAY|REJECT|DISCARD|SKIP|ERROR:|ERROR |QUARANTINE:|[245][0-9][0-9](?: |$))"
PROMPT = r"^(?:\[[^\]]*@[^\]]*\]|[A-Za-z0-9_.\-]+@[A-Za-z0-9_.\-]+:[^ ]*)[#$%]"


def snapshot_lines(items: list[Evidence]) -> pl.DataFrame:
    """The files' lines (fid, line, text) with source, the snapshot's time (from a
    date in the file name, else the file's modification time) and its quality."""
    stamps = [snapshot_time(item.source, item.mtime) for item in items]
    ts = pl.Series([s[0] for s in stamps], dtype=frames.TS)
    quality = pl.Series([s[1] for s in stamps], dtype=pl.String)
    return lines_frame(items, release=True).with_columns(
        pl.lit(pl.Series([i.source for i in items], dtype=pl.String))
        .gather(pl.col("fid"))
        .alias("source"),
        pl.lit(ts).gather(pl.col("fid")).alias("ts"),
        pl.lit(quality).gather(pl.col("fid")).alias("ts_quality"),
    )


def snapshot_config(rows: pl.DataFrame, origin: str) -> pl.DataFrame:
    """``rows`` (with key, new and note columns) as config rows of ``origin``."""
    return frames.conform(rows.with_columns(pl.lit(origin).alias("origin")), frames.CONFIG)


def config_reading(
    items: list[Evidence],
    lines: pl.DataFrame,
    rows: pl.DataFrame,
    bad: pl.DataFrame,
    origin: str,
) -> Reading:
    """A configuration reader's result: ``rows`` read (config rows of ``origin``),
    ``bad`` unparsed (fid, source, line, text, reason), per file of ``lines``."""
    n = len(items)
    return counted(
        items,
        per_file(rows, n),
        per_file(bad, n),
        per_file(lines, n),
        frames={"config": snapshot_config(rows, origin)},
        unparsed_rows=frames.conform(
            bad.select("fid", "source", "line", "text", "reason"), frames.UNPARSED
        ),
    )


def network_of_prefix(prefix: pl.Expr) -> pl.Expr:
    """Sendmail's octet prefix (``10``, ``192.168.0``, ``192.0.2.7``) as a/nn."""
    dots = prefix.str.count_matches(r"\.", literal=False)
    address = (
        pl.when(dots == 0)
        .then(prefix + ".0.0.0")
        .when(dots == 1)
        .then(prefix + ".0.0")
        .when(dots == 2)
        .then(prefix + ".0")
        .otherwise(prefix)
    )
    return address + "/" + ((dots + 1) * 8).cast(pl.String)


def read_files(items: list[Evidence], options: ReadOptions) -> Reading:
    lines = snapshot_lines(items)
    text = pl.col("text")
    blank = text.str.strip_chars(" \t") == ""
    comment = text.str.strip_chars_start(" \t").str.starts_with("#")
    # The list the names below a line belong to: the last file name written above.
    lines = lines.with_columns(
        text.str.extract(_LISTS).forward_fill().over("fid").alias("_list"),
        (blank | comment).alias("_skip"),
    )
    body = lines.filter(~pl.col("_skip"))
    access = extract(body["text"], g.ACCESS, options.engine).drop("error")
    names = (
        extract(body["text"], g.NAME, options.engine).drop("error").rename({"matched": "_named"})
    )
    parsed = pl.concat([body, access, names], how="horizontal")
    prompt = pl.col("text").str.contains(PROMPT)
    # Untagged, Connect:, From: and To: entries take one of the access actions (other
    # tags take their own values: YES/NO, numbers, feature letters).
    tag = pl.col("lhs").str.extract(g.TAG_PATTERN)
    acts = pl.col("rhs").str.contains(ACTIONS) | ~tag.fill_null("To").is_in(
        ["Connect", "From", "To"]
    )
    entry = pl.col("matched") & ~prompt & acts.fill_null(False)
    listed = pl.col("_named") & ~pl.col("matched") & pl.col("_list").is_not_null()
    lhs = pl.col("lhs")
    bare = lhs.str.replace(g.TAG_PATTERN, "")
    relays = (
        (lhs.str.extract(g.TAG_PATTERN).fill_null("Connect") == "Connect")
        & bare.str.contains(_PREFIX)
        & (pl.col("rhs").str.extract(r"^([^ \t]+)") == "RELAY")
    )
    prefix = pl.col("name").str.contains(_PREFIX) & (pl.col("_list") == "relay-domains")
    rows = parsed.filter(entry | listed).with_columns(
        pl.when(entry)
        .then(pl.lit("sendmail\\access\\") + lhs)
        .otherwise(pl.lit("sendmail\\") + pl.col("_list"))
        .alias("key"),
        pl.when(entry).then(pl.col("rhs")).otherwise(pl.col("name")).alias("new"),
        pl.when(entry & relays)
        .then(pl.lit(ALLOW_NOTE) + network_of_prefix(bare))
        .when(~entry & prefix)
        .then(pl.lit(ALLOW_NOTE) + network_of_prefix(pl.col("name")))
        .alias("note"),
    )
    bad = parsed.filter(~entry & ~listed).with_columns(
        pl.when(prompt)
        .then(pl.lit("a shell prompt and the command typed, not the file"))
        .when(pl.col("matched"))
        .then(pl.lit("an access entry whose action Sendmail does not know"))
        .when(pl.col("_named"))
        .then(pl.lit("a name with no local-host-names or relay-domains file named above it"))
        .otherwise(
            pl.lit("not a Sendmail access entry or a name of local-host-names/relay-domains")
        )
        .alias("reason")
    )
    return config_reading(items, lines, rows, bad, ORIGIN)


READER = FormatReader(
    formats=(Format("sendmail-config", 106, g.looks_like),),
    frames=("config",),
    read_files=read_files,
)
