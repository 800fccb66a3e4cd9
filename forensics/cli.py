"""The command line. Thin: each command calls one or two library functions."""

from __future__ import annotations

import datetime as dt
import gc
import os
import shlex
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click

from forensics import __version__
from forensics import dataset as fleet
from forensics.core import findings, outputs
from forensics.core.errors import (
    EXIT_CODES,
    EXIT_FINDINGS,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    ForensicsError,
    InputError,
    OutputError,
    UsageError,
)
from forensics.core.evidence import NoInputError
from forensics.core.findings import SEVERITIES, at_least
from forensics.core.frames import Frames
from forensics.core.lineparse import ENGINES
from forensics.core.printable import printable
from forensics.core.progress import SILENT, Bar, Progress
from forensics.core.timeparse import DATE_ORDERS
from forensics.derive import servers, window
from forensics.fleet import EXTRA, bytes_below, fleet_of, gather, parse_fleet
from forensics.ingest import frames_from, ingest
from forensics.knowledge import load
from forensics.readers import registry
from forensics.readers.registry import discover
from forensics.report.summary import Summary, findings_lines, summarize, text_lines

MAX_SKIP_LINES = 50
DEFAULT_REPORT = "forensics-report.html"
MAX_WARNINGS = 20

_EPILOG = "Exit codes: " + "; ".join(f"{code} {what}" for code, what in EXIT_CODES.items())


class _Cli(click.Group):
    """Turns expected errors into one line and an exit code; tracebacks only with --debug."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ForensicsError as exc:
            if ctx.meta.get("debug"):
                raise
            _echo(f"smtp-forensics: error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except KeyboardInterrupt:
            if ctx.meta.get("debug"):
                raise
            # Outputs are renamed into place whole (core.outputs), so none is half written.
            _echo(
                "smtp-forensics: interrupted; outputs written before stay whole, the rest "
                "were not written",
                err=True,
            )
            ctx.exit(EXIT_INTERRUPTED)
        except BrokenPipeError:
            # The reader of our output went away (``| head``): nothing left to say.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(EXIT_OK)
        except Exception as exc:
            if ctx.meta.get("debug"):
                raise
            _echo(
                f"smtp-forensics: internal error: {type(exc).__name__}: {exc}. "
                "Run again with --debug for the traceback, and please report it.",
                err=True,
            )
            ctx.exit(EXIT_INTERNAL)


def _echo(message: str = "", *, err: bool = False, nl: bool = True) -> None:
    """Print a line; evidence text in it cannot drive the terminal (core.printable)."""
    _pause()
    click.echo(printable(message), err=err, nl=nl)


def _debug(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    # ctx.meta is shared by a group and its subcommand: either place turns it on.
    if value:
        ctx.meta["debug"] = True
    return value


def _debug_option(func: Any) -> Any:
    """``--debug`` on a command as on the group: it is accepted anywhere."""
    return click.option(
        "--debug",
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=_debug,
        help="Show the full traceback of an error.",
    )(func)


@click.group(cls=_Cli, epilog=_EPILOG)
@click.version_option(__version__, prog_name="smtp-forensics")
@_debug_option
def cli() -> None:
    """Mail incident post-mortems from SMTP protocol logs and related evidence.

    \b
    Point it at the folder of evidence you collected:
      smtp-forensics analyze evidence/          summary and report
      smtp-forensics parse evidence/ --out frames/
      smtp-forensics formats evidence/          what each file was taken for
    """


def _reading_options(func: Any) -> Any:
    func = click.option(
        "--scheduler",
        metavar="ADDRESS",
        help="Read on the Dask distributed cluster whose scheduler is at ADDRESS "
        "(tcp://host:8786), one task per PATH, each PATH one host (named after its folder); "
        "the PATHs (and parse's --out) must be at the same place on every worker. parse: "
        "with --dataset. analyze: the hosts' frames come back and the rules run here; a "
        f"dataset is read here. Needs {EXTRA}.",
    )(func)
    func = click.option(
        "--engine",
        type=click.Choice(ENGINES),
        default="fast",
        show_default=True,
        help="fast: vectorized regexes, pyparsing for what they miss; "
        "exact: pyparsing on every line (slow; to cross-check).",
    )(func)
    func = click.option(
        "--changes",
        "changelogs",
        multiple=True,
        type=click.Path(path_type=Path, dir_okay=False),
        metavar="FILE",
        help="The admin's change log (time,component,setting,old,new,note), read as such.",
    )(func)
    func = click.option(
        "--directory",
        "directories",
        multiple=True,
        type=click.Path(path_type=Path, dir_okay=False),
        metavar="FILE",
        help="A directory (GAL) export or address list: its domains are local.",
    )(func)
    func = click.option(
        "--local-domain",
        "local_domains",
        multiple=True,
        metavar="DOMAIN",
        help="A domain the analysed server is responsible for (repeatable).",
    )(func)
    func = click.option(
        "--year",
        type=click.IntRange(1970, 2100),
        help="Year of the first line of yearless syslog files (Postfix); "
        "default: from each file's modification time.",
    )(func)
    func = click.option(
        "--follow-links",
        is_flag=True,
        help="Follow folder links that lead out of the given paths (never into /proc, "
        "/sys, /dev); each file reached so says so in the inputs table.",
    )(func)
    func = click.option(
        "--date-order",
        type=click.Choice(DATE_ORDERS),
        default="mdy",
        show_default=True,
        help="Order of day, month and year in the logs' dates (the server's locale).",
    )(func)
    return click.argument(
        "paths", nargs=-1, required=True, type=click.Path(path_type=Path, exists=False)
    )(func)


# A progress display only where a person watches (stderr a terminal, no -q) and the
# input is large enough for the wait to be noticed.
PROGRESS_FROM_BYTES = 20 * 1024 * 1024


def _stderr_is_terminal() -> bool:
    return sys.stderr.isatty()


def _progress(quiet: bool, paths: tuple[Path, ...] | None = None) -> Progress:
    """The command's progress display, made at its first stage: every stage on stderr
    (forensics.core.progress.Bar) when a person watches (stderr a terminal, no -q) and
    the input under ``paths`` is large enough to wait for; silent otherwise. Later
    stages of the command get the same one, whatever they pass."""
    ctx = click.get_current_context()
    if "progress" not in ctx.meta:
        shown: Progress = SILENT
        if not quiet and _stderr_is_terminal():
            total = bytes_below(paths) if paths is not None else None
            if total is None or total >= PROGRESS_FROM_BYTES:
                from rich.console import Console

                totals = {"reading": float(total)} if total else None
                bar = Bar(Console(file=sys.stderr, force_terminal=True), totals)
                ctx.call_on_close(bar.close)
                shown = bar
        ctx.meta["progress"] = shown
    told: Progress = ctx.meta["progress"]
    return told


def _told() -> Progress:
    """The display the command made, or silence (a command that made none)."""
    ctx = click.get_current_context(silent=True)
    told: Progress = ctx.meta.get("progress", SILENT) if ctx is not None else SILENT
    return told


def _pause() -> None:
    """Clear the progress display before a line is printed (the next stage shows it)."""
    told = _told()
    if isinstance(told, Bar):
        told.pause()


_T = TypeVar("_T")
_P = ParamSpec("_P")


def _stage(
    stage: str, quiet: bool, run: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs
) -> _T:
    """``run(*args, **kwargs)`` as the one step of ``stage``."""
    told = _progress(quiet)
    told.begin(stage, 1)
    done = run(*args, **kwargs)
    told.advance(stage)
    told.end(stage)
    return done


def _warn_unread(
    skipped: list[tuple[str, str]],
    warnings: list[tuple[str, int | None, str]],
    unparsed: int,
    prefix: str = "",
) -> None:
    """The files skipped and the first lines not read, on stderr."""
    for path, why in skipped[:MAX_SKIP_LINES]:
        _echo(f"skipped: {prefix}{path}: {why}", err=True)
    for source, line, reason in warnings[:MAX_WARNINGS]:
        _echo(f"warning: {prefix}{source}:{line}: {reason}", err=True)
    if unparsed > MAX_WARNINGS:
        more = unparsed - MAX_WARNINGS
        _echo(
            f"warning: ... and {more:,} more lines not read "
            "(parse writes them all to unparsed.parquet)",
            err=True,
        )
    if len(skipped) > MAX_SKIP_LINES:
        more = len(skipped) - MAX_SKIP_LINES
        _echo(f"skipped: ... and {more} more files (all are in the inputs table)", err=True)


def _read(
    paths: tuple[Path, ...], quiet: bool = False, scheduler: str | None = None, **options: Any
) -> Frames:
    """The evidence read: as one server here, or each PATH a host on the cluster at
    ``scheduler``, combined as a dataset of those hosts is read."""
    try:
        if scheduler:
            members = fleet_of(paths)
            for path in paths:
                if not path.exists() and not path.is_symlink():
                    raise NoInputError(f"{path}: no such file or directory")
            told = _progress(quiet, paths)
            frames = gather(members, options, scheduler=scheduler, progress=told)
        else:
            frames = ingest(paths, progress=_progress(quiet, paths), **options)
    except NoInputError as exc:
        raise InputError(f"{exc}; check the path") from exc
    summary = summarize(frames)
    warnings = [
        (row["source"], row["line"], row["reason"])
        for row in frames.unparsed.head(MAX_WARNINGS).iter_rows(named=True)
    ]
    _warn_unread(summary.skipped, warnings, frames.unparsed.height)
    several = servers.servers(frames.inputs)
    if len(several) > 1 and not scheduler:  # a fleet: its hosts are named as such
        named = ", ".join(f"{host}: {findings.plural(n, 'file')}" for host, n in several[:5])
        others = f" and {len(several) - 5} more" if len(several) > 5 else ""
        _echo(
            f"warning: the evidence holds the logs of {len(several)} servers ({named}{others}), "
            "analysed here as one; run once per server (or parse --dataset once per server "
            "and analyze --host) to keep their stories apart",
            err=True,
        )
    if summary.readable == 0:
        where = ", ".join(str(p) for p in paths)
        raise InputError(
            f"nothing readable in {where}: {findings.plural(summary.files, 'file')}, none in a "
            "format this tool "
            "reads; run 'smtp-forensics formats' to see which formats are"
        )
    return frames


def _echo_summary(summary: Summary, *, err: bool = False) -> None:
    for line in text_lines(summary):
        _echo(line, err=err)


@cli.command()
@_debug_option
@_reading_options
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder for the Parquet frames (created if needed).",
)
@click.option(
    "--dataset",
    is_flag=True,
    help="Write a hive-partitioned dataset (by host and day) that parse runs on other "
    "machines can add to, and that analyze reads as a whole. Each PATH is one host, "
    "named after its folder.",
)
@click.option(
    "--host",
    metavar="NAME",
    help="With --dataset and one PATH: the host partition (default: the PATH's folder name; "
    "with several PATHs each is its own host, named after its folder).",
)
@click.option(
    "-q", "--quiet", is_flag=True, help="No progress display and no summary; only what was written."
)
def parse(
    paths: tuple[Path, ...],
    out: Path,
    dataset: bool,
    host: str | None,
    quiet: bool,
    scheduler: str | None,
    **options: Any,
) -> None:
    """Read the evidence into tables (Parquet), one file per frame.

    \b
    Example:
      smtp-forensics parse evidence/ --out frames/
      python -c "import polars as pl; print(pl.read_parquet('frames/sessions.parquet'))"
      smtp-forensics parse logs/mx1/ --out dataset/ --dataset    (host mx1)
      smtp-forensics parse mx1/ mx2/ mx3/ --out dataset/ --dataset    (three hosts)
      smtp-forensics parse mx1/ mx2/ --out dataset/ --dataset --scheduler tcp://head:8786

    Writes events, sessions, recipients, inputs (every file with its SHA-256) and
    unparsed (every line that could not be read, with file and line number).
    """
    outputs.guard([("--out", out)], paths)
    if scheduler and not dataset:
        raise UsageError(
            "--scheduler: a cluster writes a dataset; add --dataset (and an --out the "
            "workers share)"
        )
    if dataset:
        _parse_fleet(paths, out, host, scheduler, quiet, options)
        return
    frames = _read(paths, quiet, **options)
    try:
        written = frames.write_parquet(out)
    except OSError as exc:
        raise OutputError(
            f"cannot write frames to {out}: {exc.strerror or exc}; choose another --out"
        ) from exc
    if not quiet:
        _echo_summary(summarize(frames))
    for path in written:
        rows = getattr(frames, path.stem).height
        _echo(f"wrote {path} ({rows:,} rows)")


def _parse_fleet(
    paths: tuple[Path, ...],
    out: Path,
    host: str | None,
    scheduler: str | None,
    quiet: bool,
    options: dict[str, Any],
) -> None:
    """parse --dataset: each PATH one host, here or on the cluster (forensics.fleet)."""
    members = fleet_of(paths, host)
    for path in paths:
        if not path.exists() and not path.is_symlink():
            raise InputError(f"{path}: no such file or directory; check the path")
    try:
        done = parse_fleet(
            members, out, options, scheduler=scheduler, progress=_progress(quiet, paths)
        )
    except NoInputError as exc:
        raise InputError(f"{exc}; check the path") from exc
    except OSError as exc:
        raise OutputError(
            f"cannot write the dataset to {out}: {exc.strerror or exc}; choose another --out"
        ) from exc
    several = len(done) > 1
    for one in done:
        prefix = f"{one.host}/" if several else ""
        _warn_unread(one.summary.skipped, one.warnings, one.unparsed, prefix)
        if len(one.servers) > 1:
            named = ", ".join(f"{name}: {findings.plural(n, 'file')}" for name, n in one.servers)
            _echo(
                f"warning: host {one.host} holds the logs of {len(one.servers)} servers "
                f"({named}), written as one host; give each server its own PATH (folder) "
                "to keep their stories apart",
                err=True,
            )
    empty = [one for one in done if not one.written]
    if empty and not several:
        raise InputError(
            f"nothing readable in {paths[0]}: {findings.plural(empty[0].summary.files, 'file')}, "
            "none in a format this tool reads; run 'smtp-forensics formats' to see which "
            "formats are"
        )
    if not quiet:
        for one in done:
            if several:
                _echo(f"host {one.host}:")
            _echo_summary(one.summary)
    files = sum(len(one.written) for one in done)
    hosts = f" ({findings.plural(len(done) - len(empty), 'host')})" if several else ""
    _echo(f"wrote {files} files into the dataset {out}{hosts}")
    if empty:
        raise InputError(
            f"nothing readable for host {', '.join(one.host for one in empty)} (not written): "
            "none of its files is in a format this tool reads; run 'smtp-forensics formats' "
            "to see which formats are"
        )


@cli.command()
@_debug_option
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path, exists=False))
def formats(paths: tuple[Path, ...]) -> None:
    """List the formats read, or what each given file was taken for.

    \b
    Examples:
      smtp-forensics formats
      smtp-forensics formats evidence/
    """
    if not paths:
        table = load("formats")
        titles = {f["name"]: f["title"] for f in table["format"]}
        _echo("Formats read (recognised by content, not by name):")
        unread = {f["name"] for f in table["format"] if f.get("unread")}
        for reader in registry.READERS:
            for fmt in reader.formats:
                if fmt.name in unread:
                    continue
                title = titles.get(fmt.name, "(not described in formats.toml)")
                frames_made = ", ".join(frames_from(reader))
                _echo(f"  {fmt.name:<13} {title}  -> {frames_made}")
        _echo("Recognised, not read yet (each line listed as unparsed, the server named):")
        for name in sorted(unread):
            _echo(f"  {name:<13} {titles[name]}")
        servers = sorted(set(load("syslog")["unread"].values()))
        _echo(f"  {'(syslog)':<13} lines of {', '.join(servers)} in syslog files")
        _echo("Files not read are listed as:")
        for f in table["skipped"]:
            _echo(f"  {f['name']:<13} {f['meaning']}")
        return
    try:
        evidence = discover(paths)
    except NoInputError as exc:
        raise InputError(f"{exc}; check the path") from exc
    for item in evidence:
        detail = ", ".join(x for x in (item.encoding, item.compression, item.note) if x)
        _echo(f"{item.format:<10} {item.source}" + (f"  ({detail})" if detail else ""))


_TIME_FORMATS = [
    "%Y-%m-%d",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
]


@cli.command()
@_debug_option
@_reading_options
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Where to write the HTML report [default: forensics-report.html; none with "
    "--json - alone].",
)
@click.option(
    "--json",
    "json_out",
    metavar="FILE|-",
    help="Write the findings document (smtp-forensics/findings/v1) there; '-' for stdout.",
)
@click.option(
    "--markdown",
    "markdown_out",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILE",
    help="Also write the post-mortem as Markdown (for an incident ticket).",
)
@click.option(
    "--manifest",
    "manifest_out",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILE",
    help="Also write every input file with its SHA-256, size, format and line counts as CSV.",
)
@click.option(
    "--timesketch",
    "timesketch_out",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILE",
    help="Also write the timeline as JSON Lines that Timesketch imports (one event per "
    "session, refusal, NDR, change and service event, with file:line and findings).",
)
@click.option(
    "--timezone",
    "utc_offset",
    default="+00:00",
    show_default=True,
    metavar="OFFSET",
    help="The logs' local times' offset from UTC (e.g. +02:00), for --timesketch: the "
    "logs name none, so it is an assumption, written on every event.",
)
@click.option(
    "--since",
    type=click.DateTime(_TIME_FORMATS),
    help="Only evidence from this time on (log-local time, e.g. 2000-05-16 or '2000-05-16 09:00').",
)
@click.option("--until", type=click.DateTime(_TIME_FORMATS), help="Only evidence up to this time.")
@click.option(
    "--fail-on",
    type=click.Choice(SEVERITIES),
    help="Exit with 1 when a finding of this severity or worse exists (for scripts and CI).",
)
@click.option(
    "--host",
    "hosts",
    multiple=True,
    metavar="NAME",
    help="With a dataset written by parse --dataset: analyse this host only (repeatable).",
)
@click.option("-q", "--quiet", is_flag=True, help="Print only the report's path.")
def analyze(
    paths: tuple[Path, ...],
    output: Path | None,
    json_out: str | None,
    markdown_out: Path | None,
    manifest_out: Path | None,
    timesketch_out: Path | None,
    utc_offset: str,
    since: dt.datetime | None,
    until: dt.datetime | None,
    fail_on: str | None,
    hosts: tuple[str, ...],
    quiet: bool,
    **options: Any,
) -> None:
    """Read the evidence, match it to the known incidents and write the reports.

    \b
    Examples:
      smtp-forensics analyze evidence/ -o incident.html
      smtp-forensics analyze evidence/ --json findings.json --fail-on high
      smtp-forensics analyze evidence/ --markdown postmortem.md
      smtp-forensics analyze L0000042.LOG --local-domain example.com --json - | jq .findings
      smtp-forensics analyze evidence/ --since 2000-05-16 --until '2000-05-16 18:00'
      smtp-forensics analyze evidence/ --timesketch timeline.jsonl --timezone +02:00
      smtp-forensics analyze dataset/ --host mx1   (frames written by parse --dataset)

    Exit 0 whatever was found; 1 with --fail-on when a finding at or above that
    severity exists.
    """
    if since and until and since > until:
        raise UsageError(f"--since {since} is after --until {until}; swap them")
    offset = _offset(utc_offset)
    if output is None and json_out != "-":
        output = Path(DEFAULT_REPORT)
    wanted = [
        ("-o", output),
        ("--markdown", markdown_out),
        ("--timesketch", timesketch_out),
        ("--manifest", manifest_out),
    ]
    if json_out and json_out != "-":
        wanted.append(("--json", Path(json_out)))
    # Before anything is read: a bad output costs the user nothing yet.
    outputs.guard([(option, path) for option, path in wanted if path is not None], paths)
    frames = _windowed(_frames(paths, hosts, quiet, options), since, until)
    # The classifier and the report stack (plotly, Jinja2) load here, not at start:
    # parse, formats and the usage errors do not pay for them.
    from forensics import rules
    from forensics.report import html, markdown
    from forensics.report import json as findings_json

    gc.freeze()  # likewise the report stack, loaded just now
    summary = summarize(frames)
    found = _stage("rules", quiet, rules.evaluate, frames, since=since, until=until)
    to_stderr = json_out == "-"
    _told().begin("report", len({output, markdown_out, timesketch_out, json_out} - {None, "-"}))
    if output is not None:
        _write_text(output, html.render(frames, summary, found, version=__version__), "-o")
    if markdown_out:
        _write_text(
            markdown_out,
            markdown.render(frames, summary, found, version=__version__, command=_command()),
            "--markdown",
        )
    if manifest_out:
        from forensics.report import manifest

        _write_text(manifest_out, manifest.render(frames), "--manifest")
    if timesketch_out:
        from forensics.report import timesketch

        _write_text(timesketch_out, timesketch.render(frames, found, offset), "--timesketch")
    if json_out:
        text = findings_json.dumps(
            findings_json.document(frames, found, version=__version__, since=since, until=until)
        )
        if to_stderr:
            _pause()
            click.echo(text, nl=False)  # the JSON document: json.py made it safe
        else:
            _write_text(Path(json_out), text, "--json")
    if not quiet:
        _echo_summary(summary, err=to_stderr)
        for line in findings_lines(found):
            _echo(line, err=to_stderr)
    _echo_written(output, json_out, markdown_out, to_stderr)
    if fail_on and any(at_least(f.severity, fail_on) for f in found):
        raise click.exceptions.Exit(EXIT_FINDINGS)


def _command() -> str:
    """The command line as typed (after the program's name), for the post-mortem."""
    return shlex.join(["smtp-forensics", *sys.argv[1:]])


def _offset(text: str) -> dt.timezone:
    """``+02:00``, ``-0500``, ``UTC`` -> the offset; a usage error otherwise."""
    if text.strip().upper() in ("UTC", "Z"):
        return dt.UTC
    try:
        parsed = dt.datetime.strptime(text.strip().replace(":", ""), "%z")
    except ValueError:
        raise UsageError(
            f"--timezone {text}: not an offset; write it as +02:00 or -05:00"
        ) from None
    zone = parsed.tzinfo
    assert isinstance(zone, dt.timezone)
    return zone


def _windowed(frames: Frames, since: dt.datetime | None, until: dt.datetime | None) -> Frames:
    """``frames`` cut to the window, with a warning when the window holds nothing of
    what the evidence shows happened (the run goes on: an empty report says so)."""
    kept = window.restrict(frames, since, until)
    if window.happened(frames) and not window.happened(kept):
        low, high = window.span(frames)
        _echo(
            f"warning: the window {since or '...'} .. {until or '...'} holds no evidence; "
            f"the evidence spans {low} .. {high}",
            err=True,
        )
    return kept


def _frames(
    paths: tuple[Path, ...], hosts: tuple[str, ...], quiet: bool, options: dict[str, Any]
) -> Frames:
    """The evidence read, or the frames of a dataset parse --dataset wrote before
    (maybe on other machines), for the hosts asked."""
    if len(paths) == 1 and fleet.is_dataset(paths[0]):
        if hosts and not set(map(fleet.host_name, hosts)) <= set(fleet.hosts(paths[0])):
            known = ", ".join(fleet.hosts(paths[0]))
            raise UsageError(f"--host {', '.join(hosts)}: not in {paths[0]} (it holds {known})")
        return fleet.load(paths[0], list(hosts) or None)
    return _read(paths, quiet=quiet, **options)


def _echo_written(
    output: Path | None, json_out: str | None, markdown_out: Path | None, to_stderr: bool
) -> None:
    """Where each output went (on stderr when the JSON itself is on stdout)."""
    if output is not None:
        _echo(f"report: {output}", err=to_stderr)
    if json_out and not to_stderr:
        _echo(f"findings: {json_out}")
    if markdown_out:
        _echo(f"post-mortem: {markdown_out}", err=to_stderr)


def _write_text(path: Path, text: str, option: str) -> None:
    try:
        outputs.write_text(path, text)
        _told().advance("report")
    except OSError as exc:
        raise OutputError(
            f"cannot write {path}: {exc.strerror or exc}; choose another place with {option}"
        ) from exc


@cli.command(name="rules")
@_debug_option
def rules_command() -> None:
    """List the rules: their ids, the KB articles they encode, severities and subjects.

    \b
    Example:
      smtp-forensics rules
    """
    from forensics import rules

    articles = findings.articles()
    resolutions = load("servers")
    for rule in rules.RULES:
        meta = findings.rule_meta(rule)
        levels = "/".join(dict.fromkeys(e["level"] for e in meta["severity"]))
        _echo(f"{rule}")
        _echo(f"  {meta['title']}")
        kbs = ", ".join(f"{kb} ({articles[kb]['title']})" for kb in meta["kb"])
        _echo(f"  KB: {kbs}")
        _echo(f"  one finding per {meta['subject']}; severity {levels}")
        other = resolutions.get("title", {}).get(rule, {}).get("other")
        if other:
            _echo(f"  on other servers: {other}")
        servers = [findings.ARTICLE_PLATFORM, *resolutions["steps"].get(rule, {})]
        names = ", ".join(resolutions["name"][server] for server in servers)
        _echo(f"  what to do, written for: {names}")
        explained = [findings.ARTICLE_PLATFORM, *resolutions.get("cause", {}).get(rule, {})]
        if len(explained) > 1:
            names = ", ".join(resolutions["name"][server] for server in explained)
            _echo(f"  cause explained for: {names}")


def main() -> None:
    # What is loaded by now (polars, pyparsing, the grammars) lives as long as the
    # process: out of the collector's sight, the full collections that reading forty
    # thousand files sets off no longer walk it again and again (0.4 s of 3 there).
    gc.freeze()
    try:
        cli(prog_name="smtp-forensics")
    except Exception:  # pragma: no cover - only reached with --debug
        traceback.print_exc()
        sys.exit(EXIT_INTERNAL)
