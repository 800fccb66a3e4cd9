"""The command line, through click's CliRunner (and once as a real process)."""

from __future__ import annotations

import json
import subprocess
import sys

import polars as pl
import pytest
from click.testing import CliRunner

from forensics.cli import cli
from forensics.core import frames as schemas
from forensics.core.errors import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, InputError
from tests.conftest import IMS_FIXTURES, SAMPLES

SCENARIO = SAMPLES / "q256856-relay-prohibited-local"


def run(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_parse_writes_every_frame_with_its_schema(tmp_path):
    result = run("parse", SCENARIO, "--out", tmp_path / "frames")
    assert result.exit_code == EXIT_OK, result.output
    for name, schema in schemas.ALL.items():
        frame = pl.read_parquet(tmp_path / "frames" / f"{name}.parquet")
        assert frame.schema == schema, name
    sessions = pl.read_parquet(tmp_path / "frames" / "sessions.parquet")
    assert f"Sessions:   {sessions.height:,} " in result.output
    inputs = pl.read_parquet(tmp_path / "frames" / "inputs.parquet")
    assert inputs["sha256"].str.len_chars().to_list() == [64] * inputs.height


def test_parse_writes_empty_frames_too(tmp_path):
    result = run("parse", IMS_FIXTURES / "outbound_reschedule_lf.LOG", "--out", tmp_path)
    assert result.exit_code == EXIT_OK, result.output
    assert pl.read_parquet(tmp_path / "recipients.parquet").schema == schemas.RECIPIENTS
    assert pl.read_parquet(tmp_path / "unparsed.parquet").height == 0


def test_formats_lists_what_is_read_and_what_each_file_was_taken_for(tmp_path):
    listing = run("formats")
    assert listing.exit_code == EXIT_OK and "ims " in listing.output
    (tmp_path / "L0000000.LOG").write_bytes((IMS_FIXTURES / "inbound_medium.LOG").read_bytes())
    (tmp_path / "readme.txt").write_text("hello\n")
    taken = run("formats", tmp_path)
    lines = taken.output.splitlines()
    assert lines[0].split() == ["ims", "L0000000.LOG", "(utf-8)"]
    assert lines[1].startswith("unknown    readme.txt")


def test_analyze_writes_the_report_and_names_skipped_files(tmp_path):
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "L0000000.LOG").write_bytes((IMS_FIXTURES / "inbound_medium.LOG").read_bytes())
    (evidence / "core.dmp").write_bytes(bytes(range(256)) * 8)
    report = tmp_path / "out" / "report.html"
    report.parent.mkdir()
    result = run("analyze", evidence, "-o", report)
    assert result.exit_code == EXIT_OK, result.output
    assert "skipped: core.dmp: binary content" in result.output
    assert f"report: {report}" in result.output
    html = report.read_text()
    assert "L0000000.LOG" in html and "core.dmp" in html
    assert "bob@elsewhere.example" in html  # the refused recipient


def test_log_content_cannot_become_markup(tmp_path):
    hostile = [
        "5/13/00 2:36:27 PM : A connection was accepted from <img src=x onerror=alert(1)>.",
        "5/13/00 2:36:27 PM : <<< HELO <script>alert('helo')</script>",
        '5/13/00 2:36:27 PM : <<< MAIL FROM:<"><script>alert(2)</script>@x.example>',
        "5/13/00 2:36:28 PM : <<< RCPT TO:<<svg/onload=alert(3)>@y.example>",
        "5/13/00 2:36:28 PM : >>> 550 <b onmouseover=alert(4)>Relaying is prohibited</b>",
        "5/13/00 2:36:29 PM : <<< RCPT TO:<<svg/onload=alert(5)>@z.example>",
        "5/13/00 2:36:29 PM : >>> 550 <b onmouseover=alert(4)>Relaying is prohibited</b>",
    ]
    (tmp_path / "L0000000.LOG").write_text("\r\n".join(hostile) + "\r\n")
    report = tmp_path / "r.html"
    result = run(
        "analyze",
        tmp_path / "L0000000.LOG",
        "-o",
        report,
        "--local-domain",
        "local.example",
        "--json",
        tmp_path / "f.json",
    )
    assert result.exit_code == EXIT_OK, result.output
    # The two refused relay attempts are a finding whose texts carry the payloads.
    (finding,) = json.loads((tmp_path / "f.json").read_text())["findings"]
    assert finding["rule"] == "relay-probing"
    assert any("onmouseover" in row["text"] for row in finding["evidence"])
    html = report.read_text()
    for payload in ("<script>alert", "<svg/onload", "<b onmouseover", "<img src=x"):
        assert payload not in html
    assert "&lt;b onmouseover=alert(4)&gt;" in html


def test_missing_path_is_one_line_and_exit_2(tmp_path):
    result = run("analyze", tmp_path / "nope")
    assert result.exit_code == EXIT_USAGE
    assert result.output.strip().count("\n") == 0
    assert result.output.startswith("smtp-forensics: error: ")
    assert "no such file" in result.output and "Traceback" not in result.output


def test_nothing_readable_exits_2(tmp_path):
    (tmp_path / "ev").mkdir()
    (tmp_path / "ev" / "notes.txt").write_text("nothing to see\n")
    result = run("parse", tmp_path / "ev", "--out", tmp_path / "f")
    assert result.exit_code == EXIT_USAGE
    assert "nothing readable" in result.output


def test_unwritable_output_exits_2(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = run("analyze", IMS_FIXTURES / "inbound_medium.LOG", "-o", blocker / "r.html")
    assert result.exit_code == EXIT_USAGE
    assert "cannot write" in result.output and "choose another place with -o" in result.output


def test_bad_option_value_exits_2():
    result = run("analyze", SCENARIO, "--date-order", "yolo")
    assert result.exit_code == EXIT_USAGE
    assert "Invalid value for '--date-order'" in result.output


def test_debug_shows_the_traceback(tmp_path):
    result = CliRunner().invoke(cli, ["--debug", "analyze", str(tmp_path / "nope")])
    assert isinstance(result.exception, InputError)


def test_evidence_is_not_touched_by_a_full_run(tmp_path):
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in SCENARIO.rglob("*") if p.is_file()}
    assert run("analyze", SCENARIO, "-o", tmp_path / "r.html").exit_code == EXIT_OK
    assert run("parse", SCENARIO, "--out", tmp_path / "f").exit_code == EXIT_OK
    after = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in SCENARIO.rglob("*") if p.is_file()}
    assert after == before


@pytest.mark.parametrize("command", ["parse", "formats", "analyze", "rules"])
def test_every_command_documents_an_example(command):
    result = run(command, "--help")
    assert result.exit_code == EXIT_OK and "smtp-forensics " + command in result.output


def test_python_m_forensics_runs():
    done = subprocess.run(
        [sys.executable, "-m", "forensics", "--version"], capture_output=True, text=True
    )
    assert done.returncode == 0 and done.stdout.startswith("smtp-forensics, version ")


def test_directory_and_changes_options_read_files_as_named(tmp_path):
    # Names and contents that discovery alone would not take for these formats.
    (tmp_path / "people").write_text("Name;Mail\nJane;jane@company2.example\n")
    (tmp_path / "notes").write_text(
        "When,Setting\n"
    )  # not our change-log header: read as one only because --changes says so
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "L0000000.LOG").write_bytes((IMS_FIXTURES / "inbound_medium.LOG").read_bytes())
    out = tmp_path / "frames"
    result = run(
        "parse",
        logs,
        "--directory",
        tmp_path / "people",
        "--changes",
        tmp_path / "notes",
        "--out",
        out,
    )
    assert result.exit_code == EXIT_OK, result.output
    inputs = pl.read_parquet(out / "inputs.parquet")
    assert dict(inputs.select("path", "format").iter_rows()) == {
        "people": "directory",
        "notes": "changelog",
        "L0000000.LOG": "ims",
    }
    recipients = pl.read_parquet(out / "recipients.parquet")
    assert dict(recipients.select("rcpt", "local").iter_rows())["jane@company2.example"] is True


def test_a_named_file_under_the_path_is_read_once(tmp_path):
    ev = tmp_path / "ev"
    ev.mkdir()
    (ev / "gal.csv").write_text("Display Name,E-mail Address\nJane,jane@company2.example\n")
    (ev / "L0000000.LOG").write_bytes((IMS_FIXTURES / "inbound_medium.LOG").read_bytes())
    result = run("parse", ev, "--directory", ev / "gal.csv", "--out", tmp_path / "f")
    assert result.exit_code == EXIT_OK, result.output
    paths = pl.read_parquet(tmp_path / "f" / "inputs.parquet")["path"].to_list()
    assert sorted(paths) == ["L0000000.LOG", "gal.csv"]


def test_a_missing_named_file_is_a_usage_error(tmp_path):
    result = run("analyze", IMS_FIXTURES, "--changes", tmp_path / "nope.csv")
    assert result.exit_code == EXIT_USAGE


def test_lines_not_read_are_named_in_warnings(tmp_path):
    (tmp_path / "ev").mkdir()
    (tmp_path / "ev" / "L0000000.LOG").write_bytes((IMS_FIXTURES / "cp1252_dmy.LOG").read_bytes())
    result = run("analyze", tmp_path / "ev", "--date-order", "dmy", "-o", tmp_path / "r.html")
    assert result.exit_code == EXIT_OK
    assert "warning: L0000000.LOG:4: not part of any IMS log record" in result.output


def test_analyze_json_to_stdout_is_the_findings_document(tmp_path):
    result = CliRunner().invoke(
        cli, ["analyze", str(SCENARIO), "-o", str(tmp_path / "r.html"), "--json", "-"]
    )
    assert result.exit_code == EXIT_OK, result.output
    doc = json.loads(result.stdout)
    assert doc["schema"] == "smtp-forensics/findings/v1"
    assert {"generated_by", "inputs", "window", "counts", "findings"} <= doc.keys()
    (finding,) = doc["findings"]
    assert finding["rule"] == "relay-prohibited-local-recipient"
    assert finding["subject"] == "contoso.example" and finding["kb"][0] == "Q256856"
    evidence = finding["evidence"][0]
    assert (SCENARIO / evidence["source"]).is_file() and evidence["line"] > 0
    paths = [i["path"] for i in doc["inputs"]]
    assert paths == sorted(paths) and all(len(i["sha256"]) == 64 for i in doc["inputs"])
    # The summary went to stderr, with the finding and its KB.
    assert "CRITICAL" in result.stderr and "Q256856" in result.stderr


def test_the_same_inputs_give_byte_identical_json(tmp_path):
    for name in ("a.json", "b.json"):
        result = run(
            "analyze", SCENARIO, "-q", "-o", tmp_path / "r.html", "--json", tmp_path / name
        )
        assert result.exit_code == EXIT_OK, result.output
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()


def test_fail_on_sets_exit_1_only_at_or_above_the_severity(tmp_path):
    out = tmp_path / "r.html"
    assert run("analyze", SCENARIO, "-q", "-o", out, "--fail-on", "critical").exit_code == 1
    healthy = SAMPLES / "healthy-baseline"
    assert run("analyze", healthy, "-q", "-o", out, "--fail-on", "medium").exit_code == EXIT_OK
    assert run("analyze", healthy, "-q", "-o", out, "--fail-on", "info").exit_code == 1


def test_since_after_until_is_a_usage_error(tmp_path):
    result = run(
        "analyze",
        SCENARIO,
        "-o",
        tmp_path / "r.html",
        "--since",
        "2000-05-16",
        "--until",
        "2000-05-15",
    )
    assert result.exit_code == EXIT_USAGE and "swap them" in result.output


def test_the_window_applies_to_counts_json_and_markdown_not_only_to_findings(tmp_path):
    whole = tmp_path / "whole.json"
    part, md = tmp_path / "part.json", tmp_path / "part.md"
    assert run("analyze", SCENARIO, "-q", "-o", tmp_path / "a.html", "--json", whole).exit_code == 0
    since = "2000-05-16 12:00"
    result = run(
        "analyze", SCENARIO, "-q", "-o", tmp_path / "b.html", "--json", part,
        "--markdown", md, "--since", since,
    )  # fmt: skip
    assert result.exit_code == EXIT_OK
    everything, windowed = json.loads(whole.read_text()), json.loads(part.read_text())
    assert 0 < windowed["counts"]["sessions"] < everything["counts"]["sessions"]
    assert 0 < windowed["counts"]["recipients"] < everything["counts"]["recipients"]
    # Files and lines are the evidence read, not what happened: kept whole.
    assert windowed["counts"]["lines"] == everything["counts"]["lines"]
    stated = [a["what"] for a in windowed["assumptions"]]
    assert any(since in what and "counted and shown" in what for what in stated)
    assert "counted and shown" in md.read_text()
    # The change that caused it was made before the window: the finding still cites it.
    (finding,) = [f for f in windowed["findings"] if f["severity"] == "critical"]
    assert "changes.csv" in json.dumps(finding)


def test_a_window_that_holds_nothing_warns_and_exits_0(tmp_path):
    result = CliRunner().invoke(
        cli,
        ["analyze", str(SCENARIO), "-q", "-o", str(tmp_path / "r.html"), "--since", "2030-01-01"],
    )
    assert result.exit_code == EXIT_OK
    assert "holds no evidence" in result.stderr and "the evidence spans 2000-05-" in result.stderr


def test_two_servers_logs_in_one_run_are_named_and_warned_of(tmp_path):
    for host, client in (("mx1", "192.0.2.1"), ("mx2.contoso.example", "192.0.2.2")):
        folder = tmp_path / host
        folder.mkdir()
        (folder / "mail.log").write_text(
            f"Mar 11 09:00:01 {host} postfix/smtpd[4100]: connect from a[{client}]\n"
            f"Mar 11 09:00:02 {host} postfix/smtpd[4100]: disconnect from a[{client}]\n"
        )
    out = tmp_path / "f.json"
    result = CliRunner().invoke(
        cli,
        ["analyze", str(tmp_path / "mx1"), str(tmp_path / "mx2.contoso.example"), "-q",
         "-o", str(tmp_path / "r.html"), "--json", str(out), "--year", "2024"],
    )  # fmt: skip
    assert result.exit_code == EXIT_OK
    assert "logs of 2 servers" in result.stderr and "mx1: 1 file" in result.stderr
    servers = json.loads(out.read_text())["servers"]
    assert servers == [{"host": "mx1", "files": 1}, {"host": "mx2.contoso.example", "files": 1}]
    alone = CliRunner().invoke(
        cli, ["analyze", str(tmp_path / "mx1"), "-q", "-o", str(tmp_path / "s.html")]
    )
    assert alone.exit_code == EXIT_OK and "servers" not in alone.stderr


def test_rules_lists_every_rule_with_its_kb():
    from forensics.rules import RULES

    result = run("rules")
    assert result.exit_code == EXIT_OK
    for rule in RULES:
        assert f"\n{rule}\n" in f"\n{result.output}"
    for kb in ("Q168781", "Q256856", "Q206968", "Q243045", "Q179289"):
        assert kb in result.output
    # Which servers each rule's steps are written for: the IMS crash has the
    # article's only, the relay rules Postfix's and later Exchange's too.
    said: dict[str, str] = {}
    rule = ""
    for line in result.output.splitlines():
        if not line.startswith(" "):
            rule = line
        elif line.strip().startswith("what to do"):
            said[rule] = line
    assert set(said) == set(RULES)
    assert "Postfix" not in said["ims-crash-relayflags"]
    assert "Postfix" in said["relay-prohibited-local-recipient"]
    assert "Exchange 2007-2019" in said["open-relay"]
    # A title that names the IMS's switch has one for the other servers.
    lines: dict[str, list[str]] = {}
    for line in result.output.splitlines():
        if not line.startswith(" "):
            rule = line
        lines.setdefault(rule, []).append(line.strip())
    assert any(x.startswith("on other servers: ") for x in lines["relay-not-allowed-relayflags"])
    assert any(x.startswith("cause explained for: ") for x in lines["open-relay"])
    assert not any(x.startswith("on other servers: ") for x in lines["relay-probing"])


def test_a_progress_bar_only_for_a_person_and_a_large_input(tmp_path, monkeypatch):
    from forensics import cli as cli_module

    monkeypatch.setattr(cli_module, "PROGRESS_FROM_BYTES", 1)
    out = tmp_path / "r.html"
    quiet_pipe = run("analyze", SCENARIO, "-o", out)
    assert "Reading evidence" not in quiet_pipe.stderr  # stderr is not a terminal
    monkeypatch.setattr(cli_module, "_stderr_is_terminal", lambda: True)
    watched = run("analyze", SCENARIO, "-o", out)
    assert watched.exit_code == EXIT_OK and "Reading evidence" in watched.stderr
    assert "Reading evidence" not in run("analyze", SCENARIO, "-o", out, "-q").stderr


def test_debug_is_accepted_after_the_subcommand_too(tmp_path):
    result = CliRunner().invoke(cli, ["analyze", str(tmp_path / "nope"), "--debug"])
    # With --debug the error is not turned into one line: the exception comes through.
    assert isinstance(result.exception, InputError)
    quiet = CliRunner().invoke(cli, ["analyze", str(tmp_path / "nope")])
    assert quiet.exit_code == EXIT_USAGE and not isinstance(quiet.exception, InputError)


def test_ctrl_c_is_one_line_and_exit_130(tmp_path, monkeypatch):
    from forensics import cli as cli_module

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_module, "ingest", interrupted)
    result = CliRunner().invoke(cli, ["parse", str(SCENARIO), "--out", str(tmp_path / "f")])
    assert result.exit_code == EXIT_INTERRUPTED
    assert result.output.count("\n") == 1 and "interrupted" in result.output
