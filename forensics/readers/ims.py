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

from forensics.core import frames
from forensics.core.auth import MASK, mask_base64, ntlm_user
from forensics.core.evidence import Evidence
from forensics.core.expressions import fill_within
from forensics.core.lineparse import Engine, extract, extract_guarded, matches
from forensics.core.text import lines_frame
from forensics.core.timeparse import DateOrder, timestamps
from forensics.readers.base import Format, FormatReader, Reading, ReadOptions, counted
from grammars import ims
from grammars.tokens import SMTP_VERBS
from grammars.twin import LineGrammar


@dataclass
class ImsResult:
    events: pl.DataFrame  # frames.EVENTS, in file and line order
    unparsed: pl.DataFrame  # frames.UNPARSED
    # Per file number: events read, lines not read, and the other lines (blank,
    # IO shadows, continuations of a read record). The three add up to the lines.
    records: list[int]
    unparsed_counts: list[int]
    other_lines: list[int]


# What a physical line is to the record structure.
ROLE = pl.Enum(["blank", "start", "wrap", "reply_cont", "orphan"])


def _where(values: pl.Series, mask: pl.Series, grammar: LineGrammar, engine: Engine) -> pl.Series:
    """``matches`` on the rows of ``mask`` only (false elsewhere): the record-start
    grammars matter only for the few lines with no stamp, arrow or IO marker."""
    rows = mask.arg_true()
    out = pl.repeat(False, values.len(), dtype=pl.Boolean, eager=True)
    if rows.len():
        out = out.scatter(rows, matches(values.gather(rows), grammar, engine))
    return out


def _line_roles(lines: pl.DataFrame, engine: Engine) -> pl.DataFrame:
    """Stage 1: split physical lines and tell record starts from continuations.

    ``rec`` numbers records across all files (a continuation carries the number of
    the record above it); ``has_above`` says whether that record is in its file."""
    split = extract(lines["text"], ims.LINE, engine).drop("matched", "error")
    marked = split.select(
        pl.col("d1").is_not_null() | pl.col("arrow").is_not_null() | pl.col("io").is_not_null()
    ).to_series()
    body = split["body"]
    unmarked = ~marked
    starter = _where(body, unmarked, ims.STARTER, engine)
    reply_head = _where(body, unmarked, ims.REPLY_HEAD, engine)
    # "250-XEXCH50" under "250-server Hello": the next line of a multi-line reply.
    follows = unmarked & reply_head & (lines["line"] > 1)
    reply_cont = _where(body.shift(1), follows, ims.DASH_REPLY, engine)
    df = pl.concat([lines.select("fid", "line", "text"), split], how="horizontal")
    df = df.with_columns(
        marked.alias("marked"),
        (unmarked & body.is_null() & split["quote"].is_null()).alias("blank"),
        reply_cont.alias("reply_cont"),
        (marked | (starter & split["indent"].is_null() & ~reply_cont)).alias("start"),
    ).with_columns(pl.col("start").cum_sum().cast(pl.UInt32).alias("rec"))
    # Records numbered before this file's first line belong to other files.
    base = pl.when(pl.col("line") == 1).then(pl.col("rec") - pl.col("start")).forward_fill()
    role = (
        pl.when("blank")
        .then(pl.lit("blank"))
        .when("start")
        .then(pl.lit("start"))
        .when(pl.col("rec") == base)
        .then(pl.lit("orphan"))
        .when("reply_cont")
        .then(pl.lit("reply_cont"))
        .when(pl.col("indent").is_not_null())
        .then(pl.lit("wrap"))  # KB excerpts re-wrapped and indented by editors
        .otherwise(pl.lit("orphan"))
    )
    return df.with_columns(role.cast(ROLE).alias("role"))


def _records(df: pl.DataFrame) -> pl.DataFrame:
    """Stage 1 -> logical records: each start line with its continuations joined."""
    stripped = pl.col("text").str.strip_chars_start(" \t")
    conts = (
        df.select("rec", "role", "text")
        .filter(pl.col("role").is_in(["wrap", "reply_cont"]))
        .group_by("rec")
        .agg(
            stripped.filter(pl.col("role") == "wrap").str.join(" ").alias("wrap"),
            stripped.filter(pl.col("role") == "reply_cont").str.join("\n").alias("more"),
        )
        .with_columns(pl.col("wrap", "more").replace("", None))
    )
    recs = (
        df.filter(pl.col("role") == "start")
        .drop("text", "indent", "marked", "blank", "reply_cont", "start", "role")
        .join(conts, on="rec", how="left", maintain_order="left")
    )
    body = pl.col("body").fill_null("")
    payload = pl.when(pl.col("wrap").is_null()).then(body).otherwise(body + " " + pl.col("wrap"))
    # A KB editor's quotes around a whole excerpt line: drop the closing one too.
    payload = (
        pl.when((pl.col("quote") == '"') & payload.str.ends_with('"'))
        .then(payload.str.slice(0, payload.str.len_chars() - 1))
        .otherwise(payload)
    )
    return recs.with_columns(payload.alias("payload"))


def _ntlm_users(blobs: pl.Series) -> pl.Series:
    """The user named in each AUTH blob. Python per blob, but only on the rows that
    hold one: a few per authenticated session."""
    rows = blobs.is_not_null().arg_true()
    users = pl.Series([ntlm_user(b) for b in blobs.gather(rows).to_list()], dtype=pl.String)
    return pl.repeat(None, blobs.len(), dtype=pl.String, eager=True).scatter(rows, users)


def _events(recs: pl.DataFrame, date_order: DateOrder) -> pl.DataFrame:
    """Parsed records -> event columns, with session numbers, directions and IO
    shadows marked (``shadow``); ``recs`` holds only records stage 2 matched."""
    recs = _classified(recs)
    recs = _event_columns(recs, date_order)
    recs = _with_shadows_and_sessions(recs)
    return _with_direction(recs)


def _classified(recs: pl.DataFrame) -> pl.DataFrame:
    """Adds each record's ``kind``, its upper-cased verb, the user of its AUTH blob
    and one boolean column per kind."""
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
    recs = recs.with_columns(kind.alias("kind"), verb_up.alias("verb_up"))
    # Flags computed once: the expressions below test them many times each.
    return recs.with_columns(
        (pl.col("kind") == "reply").alias("is_reply"),
        (pl.col("kind") == "command").alias("is_command"),
        (pl.col("kind") == "connect").alias("is_connect"),
        (pl.col("kind") == "note").alias("is_note"),
    )


def _arg() -> pl.Expr:
    """The event's argument: the peer of a connection, a command's argument with
    AUTH secrets masked, a note's subject."""
    verb_up, is_command = pl.col("verb_up"), pl.col("is_command")
    mechanism = pl.col("arg").str.extract(r"^(\S+)")
    return (
        pl.when("is_connect")
        .then(pl.coalesce("in_host", "out_addr"))
        .when(pl.col("blob").is_not_null())
        .then(pl.coalesce(pl.lit("user=") + pl.col("blob_user"), pl.lit(MASK)))
        .when(is_command & (verb_up == "AUTH"))
        .then(pl.concat_str([mechanism, pl.lit(MASK)], separator=" ", ignore_nulls=True))
        .when(is_command)
        .then(pl.col("arg"))
        .when("is_note")
        # The IMS quotes the subject and doubles quotes inside it.
        .then(pl.col("rs_subject").str.strip_chars('"').str.replace_all('""', '"', literal=True))
    )


def _text(code: pl.Expr) -> pl.Expr:
    """The event's text: a reply's lines joined (their codes dropped), a note's text."""
    is_reply = pl.col("is_reply")
    more_text = pl.col("more").str.replace_all(r"(?m)^[0-9]{3}[ \-]?", "")
    reply_text = (
        pl.when(pl.col("more").is_null())
        .then(pl.col("text"))
        .otherwise(pl.concat_str([pl.col("text"), pl.lit("\n") + more_text], ignore_nulls=True))
    )
    return (
        pl.when(is_reply & (code == 334))
        .then(pl.lit(MASK))  # AUTH challenges: NTLM ones describe the server's domain
        .when(is_reply)
        .then(reply_text.replace("", None))
        .when("is_note")
        .then(pl.coalesce("rs_text", "payload"))
    )


def _dir_hint() -> pl.Expr:
    """The direction a record itself shows, if any: a connection line's form, or
    which way a command's or reply's arrow points."""
    is_reply, is_command = pl.col("is_reply"), pl.col("is_command")
    return (
        pl.when(pl.col("in_host").is_not_null())
        .then(pl.lit("inbound"))
        .when(pl.col("out_addr").is_not_null())
        .then(pl.lit("outbound"))
        .when(is_command & (pl.col("arrow") == "<<<") | is_reply & (pl.col("arrow") == ">>>"))
        .then(pl.lit("inbound"))
        .when(is_command & (pl.col("arrow") == ">>>") | is_reply & (pl.col("arrow") == "<<<"))
        .then(pl.lit("outbound"))
    )


def _event_columns(recs: pl.DataFrame, date_order: DateOrder) -> pl.DataFrame:
    """Adds the event columns: time, code, verb, argument, text, direction hint, actor."""
    is_reply, is_command = pl.col("is_reply"), pl.col("is_command")
    code = pl.coalesce("code", "rs_code").cast(pl.UInt16, strict=False)
    actor = (
        pl.when(is_reply)
        .then(pl.lit("server"))
        .when(is_command | pl.col("is_connect"))
        .then(pl.lit("client"))
    )
    return recs.with_columns(
        timestamps(recs.select("d1", "d2", "d3", "hh", "mi", "ss", "ampm"), date_order),
        code.alias("code"),
        pl.when(pl.col("blob").is_not_null())
        .then(pl.lit("AUTH"))
        .when(is_command)
        .then(pl.col("verb_up"))
        .alias("verb"),
        _arg().alias("arg"),
        _text(code).alias("text"),
        _dir_hint().alias("dir_hint"),
        actor.alias("actor"),
    )


def _with_shadows_and_sessions(recs: pl.DataFrame) -> pl.DataFrame:
    """Adds ``shadow`` (an IO line repeated by the parsed record after it), ``sid``
    (session number across files) and ``seq`` (session number within the file)."""
    is_reply = pl.col("is_reply")
    # Maximum logging writes "IO: |<raw>" and then the same step parsed: the raw
    # line is a shadow when the next record of its file is the same code or verb.
    key = pl.when(is_reply).then(pl.col("code").cast(pl.String)).otherwise(pl.col("verb"))
    same_file_next = pl.col("fid").shift(-1) == pl.col("fid")
    shadow = (
        pl.col("io").is_not_null()
        & same_file_next
        & pl.col("io").shift(-1).is_null()
        & (key.shift(-1) == key)
    ).fill_null(False)
    # A session starts at each connection line and at each file's first record;
    # ``sid`` numbers them across files, ``seq`` within the file.
    first_in_file = pl.col("fid") != pl.col("fid").shift(1).fill_null(-1)
    starts = (pl.col("kind") == "connect") | first_in_file
    recs = recs.with_columns(shadow.alias("shadow"), starts.cum_sum().cast(pl.UInt32).alias("sid"))
    return recs.with_columns(
        (pl.col("sid") - pl.when(first_in_file).then(pl.col("sid") - 1).forward_fill()).alias("seq")
    )


def _with_direction(recs: pl.DataFrame) -> pl.DataFrame:
    """Adds ``direction``: the session's first hint (records are in order, sessions
    contiguous), found by filling backwards, then spread over the session."""
    hint, sid = pl.col("dir_hint"), pl.col("sid")
    owner = pl.when(hint.is_not_null()).then(sid).backward_fill()
    first_hint = pl.when(owner == sid).then(hint.backward_fill())
    session_start = sid != sid.shift(1).fill_null(0)
    return recs.with_columns(
        fill_within(pl.when(session_start).then(first_hint), sid).alias("direction")
    )


def _unparsed_rows(frame: pl.DataFrame, reason: pl.Expr) -> pl.DataFrame:
    return frame.select(
        "fid",
        "line",
        reason.alias("reason"),
        mask_base64(pl.col("text")).str.slice(0, 200).alias("text"),
    )


def read(
    lines: pl.DataFrame,
    sources: pl.Series,
    *,
    date_order: DateOrder = "mdy",
    engine: Engine = "fast",
) -> ImsResult:
    """Read every IMS line at once. ``lines`` has ``fid`` (index into ``sources``,
    files in order and contiguous), ``line`` (1-based) and ``text``."""
    n_files = sources.len()
    df = _line_roles(lines, engine)
    recs = _parsed_records(_records(df), engine)
    good = _events(recs.filter(pl.col("matched")), date_order)
    kept = good.select([*(c for c in frames.EVENTS if c in good.columns), "fid", "seq", "shadow"])
    kept = kept.filter(~pl.col("shadow"))
    roles = df.select("fid", "line", "rec", "role", "text")
    orphans, failed_lines = _unread_lines(roles, recs)
    return ImsResult(
        events=_events_frame(kept, sources),
        unparsed=_unparsed_frame(orphans, failed_lines, sources),
        records=_per_file(kept["fid"], n_files),
        unparsed_counts=_per_file(pl.concat([orphans["fid"], failed_lines["fid"]]), n_files),
        other_lines=_per_file(_other_fids(roles, good), n_files),
    )


def _parsed_records(recs: pl.DataFrame, engine: Engine) -> pl.DataFrame:
    """Stage 2: each record's payload read by the payload grammar, its pieces (and
    ``matched``, ``error``) added as columns."""
    stage2 = extract_guarded(
        recs["payload"],
        ims.PAYLOAD,
        common=ims.PAYLOAD_COMMON,
        phrase=ims.RESCHEDULE_PHRASE,
        engine=engine,
    )
    return pl.concat([recs, stage2], how="horizontal")


def _events_frame(kept: pl.DataFrame, sources: pl.Series) -> pl.DataFrame:
    """The ``events`` frame: kept records named by their file and session."""
    source = sources.gather(kept["fid"])
    return frames.conform(
        kept.with_columns(
            source.alias("source"),
            (source + pl.lit("#") + kept["seq"].cast(pl.String)).alias("session"),
        ),
        frames.EVENTS,
    )


def _unread_lines(roles: pl.DataFrame, recs: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(orphan lines, lines of records stage 2 failed), the latter with ``why``."""
    failed = recs.filter(~pl.col("matched")).select("rec", pl.col("error").alias("why"))
    # A failed record's own lines; orphans inside its span are counted once, below.
    failed_lines = roles.join(failed, on="rec", how="inner").filter(
        pl.col("role").is_in(["start", "wrap", "reply_cont"])
    )
    orphans = roles.filter(pl.col("role") == "orphan")
    return orphans, failed_lines


def _unparsed_frame(
    orphans: pl.DataFrame, failed_lines: pl.DataFrame, sources: pl.Series
) -> pl.DataFrame:
    """The ``unparsed`` frame: every line not read, with why, in file and line order."""
    unparsed = pl.concat(
        [
            _unparsed_rows(orphans, pl.lit("not part of any IMS log record")),
            _unparsed_rows(
                failed_lines,
                pl.when(pl.col("role") == "start")
                .then(mask_base64(pl.col("why")))
                .otherwise(pl.lit("continues an unreadable record")),
            ),
        ]
    ).sort("fid", "line")
    return frames.conform(
        unparsed.with_columns(sources.gather(unparsed["fid"]).alias("source")), frames.UNPARSED
    )


def _other_fids(roles: pl.DataFrame, good: pl.DataFrame) -> pl.Series:
    """The file number of each line that is neither an event nor unread: blanks, IO
    shadows and continuations of a record that was read."""
    continuations = roles.filter(pl.col("role").is_in(["wrap", "reply_cont"]))
    return pl.concat(
        [
            roles.filter(pl.col("role") == "blank")["fid"],
            good.filter(pl.col("shadow"))["fid"],
            continuations.join(good.select("rec"), on="rec", how="semi")["fid"],
        ]
    )


def _per_file(fid: pl.Series, n_files: int) -> list[int]:
    """How many of ``fid`` name each file number, zero for files not named."""
    counts = fid.value_counts()
    table = dict(zip(counts[fid.name].to_list(), counts["count"].to_list(), strict=True))
    return [table.get(i, 0) for i in range(n_files)]


def read_files(items: list[Evidence], options: ReadOptions) -> Reading:
    """IMS records and sessions never span files: any batch of whole files is complete."""
    lines = lines_frame(items)
    sources = pl.Series([i.source for i in items], dtype=pl.String)
    result = read(lines, sources, date_order=options.date_order, engine=options.engine)
    every = [
        r + u + o
        for r, u, o in zip(result.records, result.unparsed_counts, result.other_lines, strict=True)
    ]
    return counted(
        items,
        result.records,
        result.unparsed_counts,
        every,
        frames={"events": result.events},
        unparsed_rows=result.unparsed,
    )


# Files are parsed in batches of about this many lines, each while the next is read.
BATCH_LINES = 100_000

READER = FormatReader(
    formats=(Format("ims", 30, ims.looks_like),),
    frames=("events",),
    read_files=read_files,
    batch_lines=BATCH_LINES,
)
