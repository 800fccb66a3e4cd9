"""Exchange IMS protocol logs -> the ``events`` frame (and the lines it could not read).

All files of the format are read as one column of lines, so the work is a handful
of polars passes whatever the number of files (a folder of 40,000 one-session files
is the normal case). The grammar lives in :mod:`grammars.ims`; this module decides
what its pieces mean:

* which lines start a record, which continue one (a multi-line reply, a wrapped
  line) and which belong to none;
* what each record is (connection, command, reply, note), its time, its session
  and direction;
* which ``IO: |`` raw lines are shadows of the parsed line that follows them
  (Maximum logging writes both: the event is counted once);
* what must never be shown (AUTH payloads, NTLM challenges).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from forensics import frames
from forensics.auth import MASK, mask_base64, ntlm_user
from forensics.lineparse import Engine, extract, matches
from forensics.timeparse import DateOrder, timestamp
from grammars import ims
from grammars.tokens import SMTP_VERBS


@dataclass
class ImsResult:
    events: pl.DataFrame  # frames.EVENTS, in file and line order
    unparsed: pl.DataFrame  # frames.UNPARSED
    # Per file number: events read, lines not read, and the other lines (blank,
    # IO shadows, continuations of a read record). The three add up to the lines.
    records: list[int]
    unparsed_counts: list[int]
    other_lines: list[int]


def _line_roles(lines: pl.DataFrame, engine: Engine) -> pl.DataFrame:
    """Stage 1: split physical lines and tell record starts from continuations."""
    split = extract(lines["text"], ims.LINE, engine).drop("matched", "error")
    body = split["body"]
    df = pl.concat([lines, split], how="horizontal").with_columns(
        matches(body, ims.STARTER, engine).alias("starter"),
        matches(body, ims.REPLY_HEAD, engine).alias("reply_head"),
        matches(body, ims.DASH_REPLY, engine).alias("dash"),
    )
    marked = pl.col("d1").is_not_null() | pl.col("arrow").is_not_null() | pl.col("io").is_not_null()
    blank = ~marked & pl.col("body").is_null() & pl.col("quote").is_null()
    # "250-XEXCH50" under "250-server Hello": the next line of a multi-line reply.
    reply_cont = (
        ~marked & pl.col("reply_head") & pl.col("dash").shift(1, fill_value=False).over("fid")
    )
    start = marked | (pl.col("starter") & pl.col("indent").is_null() & ~reply_cont)
    df = df.with_columns(
        blank.alias("blank"), reply_cont.alias("reply_cont"), start.alias("start")
    ).with_columns(pl.col("start").cast(pl.UInt32).cum_sum().over("fid").alias("rec"))
    role = (
        pl.when("blank")
        .then(pl.lit("blank"))
        .when("start")
        .then(pl.lit("start"))
        .when(pl.col("rec") == 0)
        .then(pl.lit("orphan"))
        .when("reply_cont")
        .then(pl.lit("reply_cont"))
        .when(pl.col("indent").is_not_null())
        .then(pl.lit("wrap"))  # KB excerpts re-wrapped and indented by editors
        .otherwise(pl.lit("orphan"))
    )
    return df.with_columns(role.alias("role"))


def _records(df: pl.DataFrame) -> pl.DataFrame:
    """Stage 1 -> logical records: each start line with its continuations joined."""
    stripped = pl.col("text").str.strip_chars_start(" \t")
    conts = (
        df.filter(pl.col("role").is_in(["wrap", "reply_cont"]))
        .group_by("fid", "rec", maintain_order=True)
        .agg(
            stripped.filter(pl.col("role") == "wrap").str.join(" ").alias("wrap"),
            stripped.filter(pl.col("role") == "reply_cont").str.join("\n").alias("more"),
        )
        .with_columns(pl.col("wrap", "more").replace("", None))
    )
    recs = df.filter(pl.col("role") == "start").join(conts, on=["fid", "rec"], how="left")
    payload = pl.concat_str(
        [pl.col("body").fill_null(""), pl.lit(" ") + pl.col("wrap")], ignore_nulls=True
    )
    # A KB editor's quotes around a whole excerpt line: drop the closing one too.
    payload = (
        pl.when((pl.col("quote") == '"') & payload.str.ends_with('"'))
        .then(payload.str.slice(0, payload.str.len_chars() - 1))
        .otherwise(payload)
    )
    return recs.with_columns(payload.alias("payload"))


def _ntlm_users(blobs: pl.Series) -> pl.Series:
    # Only AUTH continuation rows reach here: a handful per session at most.
    return pl.Series([ntlm_user(b) if b else None for b in blobs.to_list()], dtype=pl.String)


def _events(recs: pl.DataFrame, date_order: DateOrder) -> pl.DataFrame:
    """Parsed records -> event columns, with session numbers, directions and IO
    shadows marked (``shadow``); ``recs`` holds only records stage 2 matched."""
    recs = recs.with_columns(_ntlm_users(recs["blob"]).alias("blob_user"))
    verb_up = pl.col("verb").str.to_uppercase()
    has_dir = pl.col("arrow").is_not_null() | pl.col("io").is_not_null()
    kind = (
        pl.when(pl.col("in_host").is_not_null() | pl.col("out_addr").is_not_null())
        .then(pl.lit("connect"))
        .when(pl.col("code").is_not_null())
        .then(pl.lit("reply"))
        .when(pl.col("blob").is_not_null())
        .then(pl.lit("command"))
        .when(pl.col("verb").is_not_null() & (verb_up.is_in(list(SMTP_VERBS)) | has_dir))
        .then(pl.lit("command"))
        # The rescheduling summary, or stamped text of no known kind.
        .otherwise(pl.lit("note"))
    )
    recs = recs.with_columns(kind.alias("kind"))
    is_reply = pl.col("kind") == "reply"
    is_command = pl.col("kind") == "command"
    code = pl.coalesce("code", "rs_code").cast(pl.UInt16, strict=False)
    more_text = pl.col("more").str.replace_all(r"(?m)^[0-9]{3}[ \-]?", "")
    reply_text = pl.concat_str([pl.col("text"), pl.lit("\n") + more_text], ignore_nulls=True)
    mechanism = pl.col("arg").str.extract(r"^(\S+)")
    arg = (
        pl.when(pl.col("kind") == "connect")
        .then(pl.coalesce("in_host", "out_addr"))
        .when(pl.col("blob").is_not_null())
        .then(pl.coalesce(pl.lit("user=") + pl.col("blob_user"), pl.lit(MASK)))
        .when(is_command & (verb_up == "AUTH"))
        .then(pl.concat_str([mechanism, pl.lit(MASK)], separator=" ", ignore_nulls=True))
        .when(is_command)
        .then(pl.col("arg"))
        .when(pl.col("kind") == "note")
        # The IMS quotes the subject and doubles quotes inside it.
        .then(pl.col("rs_subject").str.strip_chars('"').str.replace_all('""', '"', literal=True))
    )
    text = (
        pl.when(is_reply & (code == 334))
        .then(pl.lit(MASK))  # AUTH challenges: NTLM ones describe the server's domain
        .when(is_reply)
        .then(reply_text.replace("", None))
        .when(pl.col("kind") == "note")
        .then(pl.coalesce("rs_text", "payload"))
    )
    dir_hint = (
        pl.when(pl.col("in_host").is_not_null())
        .then(pl.lit("inbound"))
        .when(pl.col("out_addr").is_not_null())
        .then(pl.lit("outbound"))
        .when(is_command & (pl.col("arrow") == "<<<") | is_reply & (pl.col("arrow") == ">>>"))
        .then(pl.lit("inbound"))
        .when(is_command & (pl.col("arrow") == ">>>") | is_reply & (pl.col("arrow") == "<<<"))
        .then(pl.lit("outbound"))
    )
    actor = (
        pl.when(is_reply)
        .then(pl.lit("server"))
        .when(is_command | (pl.col("kind") == "connect"))
        .then(pl.lit("client"))
    )
    recs = recs.with_columns(
        timestamp(date_order).alias("ts"),
        code.alias("code"),
        pl.when(pl.col("blob").is_not_null())
        .then(pl.lit("AUTH"))
        .when(is_command)
        .then(verb_up)
        .alias("verb"),
        arg.alias("arg"),
        text.alias("text"),
        dir_hint.alias("dir_hint"),
        actor.alias("actor"),
    )
    # Maximum logging writes "IO: |<raw>" and then the same step parsed: the raw
    # line is a shadow when the next record is the same reply code or verb.
    key = pl.when(is_reply).then(pl.col("code").cast(pl.String)).otherwise(pl.col("verb"))
    recs = recs.with_columns(key.alias("key"))
    shadow = (
        pl.col("io").is_not_null()
        & pl.col("line").shift(-1).over("fid").is_not_null()
        & pl.col("io").shift(-1).over("fid").is_null()
        & (pl.col("key").shift(-1).over("fid") == pl.col("key"))
    ).fill_null(False)
    # A session starts at each connection line and at each file's start.
    is_conn = pl.col("kind") == "connect"
    seq = is_conn.cast(pl.UInt32).cum_sum().over("fid") + (~is_conn.first().over("fid")).cast(
        pl.UInt32
    )
    recs = recs.with_columns(
        shadow.alias("shadow"),
        (pl.col("source") + pl.lit("#") + seq.cast(pl.String)).alias("session"),
    )
    direction = pl.col("dir_hint").drop_nulls().first().over("session")
    return recs.with_columns(direction.alias("direction"))


def _unparsed_rows(frame: pl.DataFrame, reason: pl.Expr) -> pl.DataFrame:
    return frames.conform(
        frame.with_columns(
            reason.alias("reason"), mask_base64(pl.col("text")).str.slice(0, 200).alias("text")
        ),
        frames.UNPARSED,
    )


def read(
    lines: pl.DataFrame,
    n_files: int,
    *,
    date_order: DateOrder = "mdy",
    engine: Engine = "fast",
) -> ImsResult:
    """Read every IMS line at once. ``lines`` has ``fid`` (file number, 0..n_files-1
    in input order, contiguous), ``source``, ``line`` (1-based) and ``text``."""
    df = _line_roles(lines, engine)
    recs = _records(df)
    stage2 = extract(recs["payload"], ims.PAYLOAD, engine)
    recs = pl.concat([recs.drop("text", "indent"), stage2], how="horizontal")
    good = _events(recs.filter(pl.col("matched")), date_order)

    events = frames.conform(good.filter(~pl.col("shadow")), frames.EVENTS)

    failed = recs.filter(~pl.col("matched")).select("fid", "rec", pl.col("error").alias("why"))
    # A failed record's own lines; orphans inside its span are counted once, below.
    failed_lines = df.join(failed, on=["fid", "rec"], how="inner").filter(
        pl.col("role").is_in(["start", "wrap", "reply_cont"])
    )
    unparsed = pl.concat(
        [
            _unparsed_rows(
                df.filter(pl.col("role") == "orphan"),
                pl.lit("not part of any IMS log record"),
            ),
            _unparsed_rows(
                failed_lines,
                pl.when(pl.col("role") == "start")
                .then(mask_base64(pl.col("why")))
                .otherwise(pl.lit("continues an unreadable record")),
            ),
        ]
    ).sort("source", "line")

    def per_file(fid: pl.Series) -> list[int]:
        counts = fid.value_counts()
        table = dict(zip(counts[fid.name].to_list(), counts["count"].to_list(), strict=True))
        return [table.get(i, 0) for i in range(n_files)]

    good_keys = good.select("fid", "rec")
    other_fids = pl.concat(
        [
            df.filter(pl.col("role") == "blank")["fid"],
            good.filter(pl.col("shadow"))["fid"],
            df.filter(pl.col("role").is_in(["wrap", "reply_cont"])).join(
                good_keys, on=["fid", "rec"], how="semi"
            )["fid"],
        ]
    )
    orphan_fids = df.filter(pl.col("role") == "orphan")["fid"]
    unparsed_fids = pl.concat([orphan_fids, failed_lines["fid"]])
    return ImsResult(
        events=events,
        unparsed=unparsed,
        records=per_file(good.filter(~pl.col("shadow"))["fid"]),
        unparsed_counts=per_file(unparsed_fids),
        other_lines=per_file(other_fids),
    )
