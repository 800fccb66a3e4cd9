"""Postfix syslog -> the ``events`` frame, so that sessions and recipients come out of
sessions.build exactly as they do for the IMS (DESIGN principle 4).

Postfix does not log SMTP dialogues; it logs facts about them, and the events are
rebuilt from those facts, each citing the line that shows it:

- an inbound session is one smtpd process from ``connect from`` to ``disconnect``;
  a refused RCPT is its ``reject: RCPT`` line (sender, recipient, HELO and the reply
  are in it); an accepted message is its ``client=`` line, with the sender from the
  queue manager's ``from=`` line and one accepted RCPT per recipient its delivery
  lines name (the SMTP dialogue accepted them, whatever became of them later);
- an outbound session is one smtp/lmtp delivery attempt to a relay: MAIL, RCPT and
  the remote's reply as the ``status=`` detail quotes it (``host h[ip] said: 550 ...
  (in reply to RCPT TO command)``), DATA when it was sent.

Every line whose syslog header parses is read (lines of other programs and other
Postfix messages are read and kept out of the sessions); a line whose header does
not parse is unparsed, with its file and line. Rotated files (``mail.log.2.gz``,
``mail.log.1``, ``mail.log``) are read as one stream, oldest first, so a session
or a queue id that crosses a rotation stays whole. Traditional headers have no
year: it comes from the file's modification time (the year of its last line),
rolling back over each New Year, or from ``year`` (the year of the first line).
"""

from __future__ import annotations

import datetime as dt
import re
from functools import partial

import polars as pl

from forensics.core import frames
from forensics.core.evidence import Evidence
from forensics.core.lineparse import Engine, extract, may_match
from forensics.core.text import lines_frame
from forensics.core.timeparse import timestamps
from forensics.readers.base import Format, FormatReader, Reading, ReadOptions, counted
from forensics.readers.common import LogResult, per_file
from grammars import postfix as g
from grammars import smtp

_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTHS = {m: i + 1 for i, m in enumerate(_MONTH_NAMES)}
_ROTATION = re.compile(r"^(?P<family>.*?)(?:\.(?P<n>[0-9]+))?(?:\.(?:gz|bz2))?$")
OUTBOUND_AGENTS = ("smtp", "lmtp")


def stream_order(items: list[Evidence]) -> list[int]:
    """Indexes of ``items`` in reading order: by log family, oldest rotation first."""

    def key(i: int) -> tuple[str, int]:
        m = _ROTATION.match(items[i].source)
        assert m is not None  # the pattern matches any string
        return m["family"], -int(m["n"] or 0)

    return sorted(range(len(items)), key=key)


def read(items: list[Evidence], *, year: int | None = None, engine: Engine = "fast") -> LogResult:
    order = stream_order(items)
    ordered = [items[i] for i in order]
    lines = lines_frame(ordered, release=True).with_row_index("_g")
    sources = pl.Series([e.source for e in ordered], dtype=pl.String)
    head = extract(lines["text"], g.LINE, engine)
    head = head.drop("error").rename({"matched": "_header"})
    df = pl.concat([lines, head], how="horizontal").with_columns(
        pl.lit(sources).gather(pl.col("fid")).alias("source"),
        pl.col("mon").replace_strict(_MONTHS, default=None, return_dtype=pl.Int32).alias("_month"),
    )
    # --- time ----------------------------------------------------------------------
    # A family of rotated files is one stream: the year runs on across its files.
    families = [_family(e.source) for e in ordered]
    newest = {family: _mtime(e) for family, e in zip(families, ordered, strict=True)}
    df = df.with_columns(
        pl.lit(pl.Series(families, dtype=pl.String)).gather(pl.col("fid")).alias("_fam")
    )
    month = pl.col("_month")
    df = df.with_columns(month.forward_fill().over("_fam").alias("_mff"))
    wraps = (
        (month < pl.col("_mff").shift(1).over("_fam"))
        .fill_null(False)
        .cast(pl.Int32)
        .cum_sum()
        .over("_fam")
    )
    if year is not None:
        trad_year = pl.lit(year, pl.Int32) + wraps
    else:
        # The newest file's year and month for each family (a mapping, not a join:
        # a join would copy every column of a million rows).
        end_my = pl.col("_fam").replace_strict(
            {f: t.year for f, t in newest.items()}, return_dtype=pl.Int32
        )
        end_mm = pl.col("_fam").replace_strict(
            {f: t.month for f, t in newest.items()}, return_dtype=pl.Int32
        )
        last_month = month.drop_nulls().last().over("_fam")
        end_year = end_my - (last_month > end_mm).cast(pl.Int32)
        trad_year = end_year - (wraps.max().over("_fam") - wraps)
    df = df.with_columns(trad_year.alias("_year"))
    traditional = pl.col("mon").is_not_null()
    parts = df.select(
        pl.when(traditional)
        .then(pl.col("_year").cast(pl.String))
        .otherwise(pl.col("ry"))
        .alias("d1"),
        pl.when(traditional).then(month.cast(pl.String)).otherwise(pl.col("rmo")).alias("d2"),
        pl.when(traditional).then(pl.col("day")).otherwise(pl.col("rd")).alias("d3"),
        pl.coalesce("hh", "rhh").alias("hh"),
        pl.coalesce("mi", "rmi").alias("mi"),
        pl.coalesce("ss", "rss").alias("ss"),
        pl.lit(None, pl.String).alias("ampm"),
    )
    df = df.with_columns(timestamps(parts, "ymd").alias("ts"))
    df = df.with_columns(
        pl.col("prog").str.split("/").list.last().alias("daemon"),
        pl.col("prog").str.starts_with("postfix").fill_null(False).alias("_postfix"),
    )
    # --- accounting ----------------------------------------------------------------
    blank = pl.col("text").str.strip_chars(" \t") == ""
    # Filtered narrow: a filter copies every column it is given, a million rows each.
    unparsed = df.select("fid", "source", "line", "text", "_header").filter(
        ~pl.col("_header") & ~blank
    )
    n = len(ordered)
    read_counts = per_file(df.select("fid", "_header").filter(pl.col("_header")), n)
    bad_counts = per_file(unparsed, n)
    line_counts = per_file(df, n)
    unparsed_frame = frames.conform(
        unparsed.select(
            "source",
            "line",
            pl.lit("not a syslog line (no 'Mon dd hh:mm:ss host program[pid]:' header)").alias(
                "reason"
            ),
            pl.col("text").str.slice(0, 200),
        ),
        frames.UNPARSED,
    )
    # Only Postfix's own lines make sessions, and only the columns the events are made
    # of go on: the raw text, the stamp's parts and the year's helpers stay behind
    # (each later filter copies what it is given; memory is what a million lines cost).
    postfix_rows = df.filter(pl.col("_header") & pl.col("_postfix")).select(
        "source", "line", "_g", "ts", "_fam", "host", "prog", "pid", "daemon", "msg"
    )
    del df, lines, head
    events = _events(postfix_rows, engine)
    service = _service_events(postfix_rows, engine)
    back = {fid: i for fid, i in enumerate(order)}
    records, bad, total = [0] * n, [0] * n, [0] * n
    for fid in range(n):
        records[back[fid]], bad[back[fid]], total[back[fid]] = (
            read_counts[fid],
            bad_counts[fid],
            line_counts[fid],
        )
    return LogResult(events, unparsed_frame, records, bad, total, service)


def _service_events(df: pl.DataFrame, engine: Engine) -> pl.DataFrame:
    """The master daemon starting, rereading main.cf (``postfix reload``) or stopping,
    as service events: a change to main.cf is in effect from the next of them."""
    master = _on(df, ("master",), g.MASTER, engine)
    return frames.conform(
        master.with_columns(
            pl.col("prog").alias("event_source"),
            pl.lit("Information").alias("type"),
            pl.col("host").alias("computer"),
            pl.col("msg").alias("message"),
        ),
        frames.SERVICE_EVENTS,
    )


def _family(source: str) -> str:
    """``var/log/mail.log.2.gz`` -> ``var/log/mail.log``."""
    m = _ROTATION.match(source)
    assert m is not None  # the pattern matches any string
    return m["family"]


def _mtime(item: Evidence) -> dt.datetime:
    return dt.datetime.fromtimestamp(item.mtime) if item.mtime else dt.datetime.now()


def _on(df: pl.DataFrame, daemons: tuple[str, ...], grammar, engine: Engine) -> pl.DataFrame:
    """The rows of ``daemons`` whose message matches ``grammar``, with its fields."""
    # Rows that cannot match are not even copied.
    rows = df.filter(pl.col("daemon").is_in(daemons) & may_match(pl.col("msg"), grammar))
    # Most rows are other kinds of message: no fallback to pyparsing for them (that
    # would be a per-row loop); the differential tests hold the twin to pyparsing.
    found = extract(rows["msg"], grammar, engine, fallback=False)
    return pl.concat([rows, found.drop("error")], how="horizontal").filter(pl.col("matched"))


def _peer() -> pl.Expr:
    return pl.concat_str([pl.col("name"), pl.lit("["), pl.col("addr"), pl.lit("]")])


def _event(
    frame: pl.DataFrame,
    *,
    session: pl.Expr,
    direction: str,
    order: pl.Expr,
    sub: int | pl.Expr,
    kind: str,
    verb: str | pl.Expr | None = None,
    arg: pl.Expr | None = None,
    code: pl.Expr | None = None,
    status: pl.Expr | None = None,
    text: pl.Expr | None = None,
    ts: pl.Expr | None = None,
) -> pl.DataFrame:
    actor = {"command": "client", "reply": "server", "connect": None}.get(kind)
    return frame.select(
        "source",
        "line",
        (ts if ts is not None else pl.col("ts")).alias("ts"),
        session.alias("session"),
        pl.lit(direction).alias("direction"),
        pl.lit(actor, pl.String).alias("actor"),
        pl.lit(kind).alias("kind"),
        (verb if isinstance(verb, pl.Expr) else pl.lit(verb, pl.String)).alias("verb"),
        (arg if arg is not None else pl.lit(None, pl.String)).alias("arg"),
        (code if code is not None else pl.lit(None, pl.UInt16)).cast(pl.UInt16).alias("code"),
        (status if status is not None else pl.lit(None, pl.String)).alias("status"),
        (text if text is not None else pl.lit(None, pl.String)).alias("text"),
        order.cast(pl.Int64).alias("_o"),
        (sub if isinstance(sub, pl.Expr) else pl.lit(sub)).cast(pl.Int64).alias("_sub"),
    )


def _reply_parts(frame: pl.DataFrame, column: str, engine: Engine) -> pl.DataFrame:
    """``frame`` with code, status, text read from the reply in ``column``."""
    parsed = extract(frame[column], smtp.REPLY, engine)
    return frame.with_columns(
        parsed["code"].cast(pl.UInt16, strict=False).alias("r_code"),
        parsed["status"].alias("r_status"),
        parsed["text"].alias("r_text"),
    )


def _events(df: pl.DataFrame, engine: Engine) -> pl.DataFrame:
    # An smtpd process (file family, host, program, pid) serves one client at a time:
    # its n-th "connect from" opens its n-th session.
    smtpd = df.filter(pl.col("daemon") == "smtpd")
    smtpd = smtpd.with_columns(
        pl.col("msg")
        .str.starts_with("connect from ")
        .cast(pl.Int32)
        .cum_sum()
        .over("_fam", "host", "prog", "pid")
        .alias("_n")
    )
    smtpd = smtpd.with_columns(
        pl.concat_str(
            [
                pl.col("_fam"),
                pl.lit(" "),
                pl.col("prog"),
                pl.lit("|"),
                pl.col("pid").fill_null(""),
                pl.lit("#"),
                pl.col("_n").cast(pl.String),
            ]
        ).alias("_session")
    )
    parts: list[pl.DataFrame] = []
    inbound = partial(_event, session=pl.col("_session"), direction="inbound", order=pl.col("_g"))
    # connect / disconnect
    connects = _on(smtpd, ("smtpd",), g.CONNECT, engine)
    parts.append(
        inbound(
            connects,
            sub=0,
            kind="connect",
            arg=_peer(),
        )
    )
    disconnects = _on(smtpd, ("smtpd",), g.DISCONNECT, engine)
    parts.append(
        inbound(
            disconnects,
            sub=9,
            kind="disconnect",
        )
    )
    # refused commands
    rejects = _on(smtpd, ("smtpd",), g.REJECT, engine).with_columns(
        pl.col("reply").str.extract(g.REJECT_TRAILER_SPLIT, 1).alias("_reply"),
        pl.col("reply").str.extract(g.REJECT_TRAILER_SPLIT, 2).alias("_trailer"),
    )
    trailer = extract(rejects["_trailer"], g.REJECT_TRAILER, engine)
    rejects = pl.concat(
        [rejects, trailer.select("from_addr", "to_addr", "helo")], how="horizontal"
    ).with_columns(pl.coalesce("_reply", "reply").alias("_reply"))
    rejects = _reply_parts(rejects, "_reply", engine)
    first_helo = rejects.filter(pl.col("helo").is_not_null()).unique(
        "_session", keep="first", maintain_order=True
    )
    parts.append(
        inbound(
            first_helo,
            sub=1,
            kind="command",
            verb="HELO",
            arg=pl.col("helo"),
        )
    )
    mail_ok = rejects.filter(pl.col("cmd") != "MAIL")
    parts.append(
        inbound(
            mail_ok,
            sub=2,
            kind="command",
            verb="MAIL",
            arg=pl.concat_str([pl.lit("FROM:<"), pl.col("from_addr").fill_null(""), pl.lit(">")]),
        )
    )
    parts.append(
        inbound(
            mail_ok,
            sub=3,
            kind="reply",
            code=pl.lit(250),
            text=pl.lit("(accepted; implied by the later reject)"),
        )
    )
    rcpt_rejects = rejects.filter(pl.col("cmd") == "RCPT")
    parts.append(
        inbound(
            rcpt_rejects,
            sub=4,
            kind="command",
            verb="RCPT",
            arg=pl.concat_str([pl.lit("TO:<"), pl.col("to_addr").fill_null(""), pl.lit(">")]),
        )
    )
    other_rejects = rejects.filter(pl.col("cmd") != "RCPT")
    parts.append(
        inbound(
            other_rejects,
            sub=4,
            kind="command",
            verb=pl.col("cmd"),
            arg=pl.when(pl.col("cmd") == "MAIL").then(
                pl.concat_str([pl.lit("FROM:<"), pl.col("from_addr").fill_null(""), pl.lit(">")])
            ),
        )
    )
    parts.append(
        inbound(
            rejects,
            sub=5,
            kind="reply",
            code=pl.col("r_code"),
            status=pl.col("r_status"),
            text=pl.col("r_text"),
        )
    )
    # accepted messages: client= (the queue id), the sender, one RCPT per recipient
    clients = _on(smtpd, ("smtpd",), g.CLIENT, engine)
    authed = clients.filter(pl.col("sasl_username").is_not_null() & (pl.col("sasl_username") != ""))
    parts.append(
        inbound(
            authed,
            sub=1,
            kind="command",
            verb="AUTH",
            arg=pl.concat_str([pl.lit("user="), pl.col("sasl_username")]),
        )
    )
    parts.append(
        inbound(
            authed,
            sub=1,
            kind="reply",
            code=pl.lit(235),
            text=pl.lit("(authenticated)"),
        )
    )
    senders = (
        _on(df, ("qmgr",), g.QMGR_FROM, engine)
        .unique("qid", keep="first", maintain_order=True)
        .select("qid", pl.col("from_addr").alias("_sender"))
    )
    deliveries = _on(
        df, ("smtp", "lmtp", "local", "virtual", "pipe", "error", "discard"), g.DELIVERY, engine
    )
    queued = clients.select(
        "qid",
        "_session",
        pl.col("_g").alias("_cg"),
        pl.col("ts").alias("_cts"),
        pl.col("source").alias("_csrc"),
        pl.col("line").alias("_cline"),
    ).unique("qid", keep="last", maintain_order=True)
    accepted = (
        deliveries.unique(["qid", "to_addr"], keep="first", maintain_order=True)
        .join(queued, on="qid", how="inner")
        .join(senders, on="qid", how="left")
        # Each RCPT must be followed by its own reply: number them within the message.
        .with_columns((pl.int_range(pl.len()).over("qid") * 2).alias("_k"))
    )
    with_sender = queued.join(senders, on="qid", how="left").with_columns(
        pl.col("_csrc").alias("source"), pl.col("_cline").alias("line"), pl.col("_cts").alias("ts")
    )
    parts.append(
        inbound(
            with_sender,
            order=pl.col("_cg"),
            sub=2,
            kind="command",
            verb="MAIL",
            arg=pl.concat_str([pl.lit("FROM:<"), pl.col("_sender").fill_null(""), pl.lit(">")]),
        )
    )
    parts.append(
        inbound(
            with_sender,
            order=pl.col("_cg"),
            sub=3,
            kind="reply",
            code=pl.lit(250),
        )
    )
    parts.append(
        inbound(
            accepted,
            order=pl.col("_cg"),
            sub=pl.col("_k") + 10,
            kind="command",
            verb="RCPT",
            arg=pl.concat_str([pl.lit("TO:<"), pl.col("to_addr"), pl.lit(">")]),
            ts=pl.col("_cts"),
        )
    )
    parts.append(
        inbound(
            accepted,
            order=pl.col("_cg"),
            sub=pl.col("_k") + 11,
            kind="reply",
            code=pl.lit(250),
            ts=pl.col("_cts"),
        )
    )
    parts.append(
        inbound(
            with_sender,
            order=pl.col("_cg"),
            sub=1_000_000,
            kind="command",
            verb="DATA",
        )
    )
    parts.append(
        inbound(
            with_sender,
            order=pl.col("_cg"),
            sub=1_000_001,
            kind="reply",
            code=pl.lit(250),
        )
    )
    # outbound attempts
    parts += _outbound(deliveries.join(senders, on="qid", how="left"), engine)
    found = [
        frames.conform(p, frames.EVENTS).with_columns(p.select("_o", "_sub"))
        for p in parts
        if p.height
    ]
    if not found:  # no Postfix line made any SMTP fact
        return frames.empty(frames.EVENTS)
    # Sessions in the order they begin in the log, each one's events in line order.
    # Sorting by the session's text costs twice as much as by numbers: its first
    # line number stands for it (every line belongs to one session only, so no two
    # sessions share one).
    events = pl.concat(found)
    first = pl.col("_o").min().over("session").alias("_first")
    return events.with_columns(first).sort("_first", "_o", "_sub").drop("_first", "_o", "_sub")


def _outbound(deliveries: pl.DataFrame, engine: Engine) -> list[pl.DataFrame]:
    out = deliveries.filter(
        pl.col("daemon").is_in(OUTBOUND_AGENTS) & pl.col("relay").str.contains(r"\[")
    ).with_columns(
        pl.concat_str(
            [
                pl.col("qid"),
                pl.lit(">"),
                pl.col("relay"),
                pl.lit("@"),
                pl.col("ts").dt.strftime("%Y-%m-%dT%H:%M:%S"),
            ]
        ).alias("_session"),
        pl.col("relay").str.replace(r":[0-9]+$", "").alias("_peer"),
    )
    if out.height == 0:
        return []
    said = extract(out["detail"], g.SAID, engine, fallback=False)  # most details are no reply
    out = pl.concat([out, said.select("said")], how="horizontal").with_columns(
        pl.col("said").str.extract(g.IN_REPLY_SPLIT, 1).alias("_said"),
        pl.col("said").str.extract(g.IN_REPLY_SPLIT, 2).alias("_in_reply_to"),
        pl.col("detail").str.strip_suffix(")").alias("_detail"),
    )
    out = _reply_parts(out, "_said", engine)
    outbound = partial(_event, session=pl.col("_session"), direction="outbound", order=pl.col("_g"))
    first = out.unique("_session", keep="first", maintain_order=True)
    sent = pl.col("status") == "sent"
    at_rcpt = pl.col("_in_reply_to").str.starts_with("RCPT").fill_null(False)
    at_data = pl.col("_in_reply_to").str.contains("DATA").fill_null(False)
    at_mail = pl.col("_in_reply_to").str.starts_with("MAIL").fill_null(False)
    talked = out.filter(sent | pl.col("r_code").is_not_null())
    ok = pl.lit(250)
    parts = [
        outbound(
            first,
            sub=0,
            kind="connect",
            arg=pl.col("_peer"),
        ),
        outbound(
            first.filter(pl.col("_sender").is_not_null()),
            sub=1,
            kind="command",
            verb="MAIL",
            arg=pl.concat_str([pl.lit("FROM:<"), pl.col("_sender"), pl.lit(">")]),
        ),
        outbound(
            first.filter(pl.col("_sender").is_not_null()),
            sub=2,
            kind="reply",
            code=pl.when(at_mail).then(pl.col("r_code")).otherwise(ok),
            text=pl.when(at_mail).then(pl.col("r_text")),
        ),
        outbound(
            talked,
            sub=3,
            kind="command",
            verb="RCPT",
            arg=pl.concat_str([pl.lit("TO:<"), pl.col("to_addr"), pl.lit(">")]),
        ),
        outbound(
            talked,
            sub=4,
            kind="reply",
            code=pl.when(at_rcpt | at_mail).then(pl.col("r_code")).otherwise(ok),
            status=pl.when(at_rcpt | at_mail).then(pl.col("r_status")).otherwise(pl.col("dsn")),
            text=pl.when(at_rcpt | at_mail).then(pl.col("r_text")).otherwise(pl.col("_detail")),
        ),
        outbound(
            talked.filter(sent | at_data),
            sub=5,
            kind="command",
            verb="DATA",
        ),
        outbound(
            talked.filter(sent | at_data),
            sub=6,
            kind="reply",
            code=pl.when(at_data).then(pl.col("r_code")).otherwise(ok),
            text=pl.when(at_data).then(pl.col("r_text")).otherwise(pl.col("_detail")),
        ),
        outbound(
            out.filter(~sent & pl.col("r_code").is_null()),
            sub=7,
            kind="note",
            text=pl.col("_detail"),
        ),
    ]
    return parts


def read_files(items: list[Evidence], options: ReadOptions) -> Reading:
    found = read(items, year=options.year, engine=options.engine)
    frames_read = {"events": found.events}
    if found.service_events is not None:
        frames_read["service_events"] = found.service_events
    return counted(
        items,
        found.records,
        found.unparsed_counts,
        found.lines,
        frames=frames_read,
        unparsed_rows=found.unparsed,
    )


READER = FormatReader(
    formats=(Format("postfix", 40, g.looks_like),),
    frames=(
        "events",
        "service_events",
    ),
    read_files=read_files,
)
