"""Hostile and huge evidence: hashes and sizes of whole files, however large."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from forensics.core import evidence
from forensics.ingest import ingest
from tests.conftest import IMS_FIXTURES


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(8 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def test_a_file_over_2_gib_is_hashed_and_sized_whole(tmp_path, monkeypatch):
    # One read() call returns at most about 2 GiB: the file must be read to its end.
    big = tmp_path / "huge.bin"
    with big.open("wb") as f:  # sparse: costs no disk
        f.truncate((2 << 30) + 4096)
    good = tmp_path / "L0000001.LOG"
    good.write_bytes((IMS_FIXTURES / "inbound_medium.LOG").read_bytes())
    monkeypatch.setattr(evidence, "MAX_PARSED_BYTES", 1 << 20)  # keep the test's memory low
    inputs = {r["path"]: r for r in ingest([tmp_path]).inputs.to_dicts()}
    assert inputs["huge.bin"]["bytes"] == (2 << 30) + 4096
    assert inputs["huge.bin"]["sha256"] == _sha256(big)
    assert "hashed whole" in inputs["huge.bin"]["note"]
    assert inputs["L0000001.LOG"]["format"] == "ims" and inputs["L0000001.LOG"]["records"] > 0


def test_a_file_larger_than_what_is_parsed_is_still_hashed_whole(tmp_path, monkeypatch):
    log = (IMS_FIXTURES / "inbound_medium.LOG").read_bytes()
    path = tmp_path / "L0000001.LOG"
    path.write_bytes(log * 200)
    monkeypatch.setattr(evidence, "MAX_PARSED_BYTES", len(log) * 10)
    (row,) = ingest([tmp_path]).inputs.to_dicts()
    assert (row["bytes"], row["sha256"]) == (len(log) * 200, _sha256(path))
    assert row["format"] == "ims"
    assert f"only the first {len(log) * 10:,} parsed" in row["note"]


def test_a_file_that_cannot_be_held_in_memory_is_a_row_and_the_rest_is_analysed(
    tmp_path, monkeypatch
):
    (tmp_path / "a.LOG").write_bytes((IMS_FIXTURES / "inbound_medium.LOG").read_bytes())
    (tmp_path / "b.bin").write_bytes(b"\0" * 10)
    real = evidence._read_bytes

    def starved(path: str) -> evidence._Read:
        if path.endswith("b.bin"):
            raise MemoryError
        return real(path)

    monkeypatch.setattr(evidence, "_read_bytes", starved)
    inputs = {r["path"]: r for r in ingest([tmp_path]).inputs.to_dicts()}
    assert inputs["b.bin"]["format"] == "unreadable" and "memory" in inputs["b.bin"]["note"]
    assert inputs["a.LOG"]["records"] > 0


OSC = "\x1b]0;pwned\x07\x1b]52;c;ZXZpbA==\x07"


def test_terminal_escapes_in_a_log_reach_no_terminal_and_no_document(tmp_path):
    from click.testing import CliRunner

    from forensics.cli import cli

    evidence = tmp_path / "evidence"
    evidence.mkdir()
    log = (IMS_FIXTURES / "inbound_medium.LOG").read_text()
    (evidence / "L0000001.LOG").write_text(log + f"junk {OSC} line\n")
    # A file name is the evidence's too: the terminal prints it as "skipped: ...".
    (evidence / f"notes{OSC}.txt").write_text("nothing to read here\n")
    out = tmp_path / "out"
    out.mkdir()
    result = CliRunner().invoke(
        cli,
        ["analyze", str(evidence), "-o", str(out / "r.html"), "--markdown", str(out / "pm.md"),
         "--json", str(out / "f.json")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "notes\\x1b]0;pwned\\x07" in result.output  # shown, escaped
    assert "\x1b" not in (out / "pm.md").read_text()
    assert "\x1b" not in (out / "f.json").read_text() and "\x07" not in (out / "f.json").read_text()
    html = (out / "r.html").read_text()
    assert "\x1b" not in html and "\x07" not in html
    assert "notes\\x1b]0;pwned\\x07" in html  # the file name, shown escaped


def test_a_folder_tree_1200_levels_deep_is_walked(tmp_path):
    import os

    deep = tmp_path / "evidence"
    deep.mkdir()
    # A path 1,200 folders deep is longer than PATH_MAX: build it one level at a time.
    here = os.open(str(deep), os.O_RDONLY)
    try:
        for _ in range(1200):
            os.mkdir("d", dir_fd=here)
            below = os.open("d", os.O_RDONLY, dir_fd=here)
            os.close(here)
            here = below
        fd = os.open("L0000001.LOG", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=here)
        os.write(fd, (IMS_FIXTURES / "inbound_medium.LOG").read_bytes())
        os.close(fd)
    finally:
        os.close(here)
    try:
        inputs = ingest([deep]).inputs
        assert inputs.height == 1 and inputs["format"][0] == "ims"
    finally:
        _remove_deep(deep, 1200)


def _remove_deep(top: Path, levels: int) -> None:
    """Remove the deep tree from the bottom up (shutil.rmtree recurses, and pytest's
    clean-up of its temporary folders would fail on it)."""
    import os

    fds = [os.open(str(top), os.O_RDONLY)]
    for _ in range(levels):
        fds.append(os.open("d", os.O_RDONLY, dir_fd=fds[-1]))
    os.unlink("L0000001.LOG", dir_fd=fds[-1])
    for level in range(levels, 0, -1):
        os.close(fds[level])
        os.rmdir("d", dir_fd=fds[level - 1])
    os.close(fds[0])


def test_links_out_of_the_evidence_are_listed_not_followed(tmp_path):
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "L0000001.LOG").write_bytes((IMS_FIXTURES / "inbound_medium.LOG").read_bytes())
    other = tmp_path / "other-server"
    other.mkdir()
    (other / "L0000002.LOG").write_bytes((IMS_FIXTURES / "inbound_medium.LOG").read_bytes())
    (evidence / "elsewhere").symlink_to(other)
    (evidence / "proc").symlink_to("/proc/self")
    rows = {r["path"]: r for r in ingest([evidence]).inputs.to_dicts()}
    assert set(rows) == {"L0000001.LOG", "elsewhere", "proc"}
    assert rows["elsewhere"]["format"] == "link"
    assert "outside the evidence" in rows["elsewhere"]["note"]
    assert rows["proc"]["format"] == "link" and "/proc" in rows["proc"]["note"]


def test_follow_links_follows_them_out_of_the_evidence_and_says_so(tmp_path):
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "L0000001.LOG").write_bytes((IMS_FIXTURES / "inbound_medium.LOG").read_bytes())
    other = tmp_path / "other-server"
    other.mkdir()
    (other / "L0000002.LOG").write_bytes((IMS_FIXTURES / "inbound_medium.LOG").read_bytes())
    (evidence / "elsewhere").symlink_to(other)
    (evidence / "proc").symlink_to("/proc/self")
    rows = {r["path"]: r for r in ingest([evidence], follow_links=True).inputs.to_dicts()}
    assert set(rows) == {"L0000001.LOG", "elsewhere/L0000002.LOG", "proc"}
    assert rows["elsewhere/L0000002.LOG"]["format"] == "ims"
    assert str(other / "L0000002.LOG") in rows["elsewhere/L0000002.LOG"]["note"]
    assert "--follow-links" in rows["elsewhere/L0000002.LOG"]["note"]
    assert rows["L0000001.LOG"]["note"] is None
    # The machine is never walked, whatever the option.
    assert rows["proc"]["format"] == "link" and "never followed" in rows["proc"]["note"]


def test_evidence_with_folders_named_like_a_dataset_is_read_as_evidence(tmp_path):
    from forensics import dataset

    evidence = tmp_path / "evidence"
    for name in ("events", "inputs"):
        (evidence / name).mkdir(parents=True)
    (evidence / "events" / "L0000001.LOG").write_bytes(
        (IMS_FIXTURES / "inbound_medium.LOG").read_bytes()
    )
    assert not dataset.is_dataset(evidence)
    frames = ingest([evidence])
    dataset.write(frames, tmp_path / "fleet", "mx1")
    assert dataset.is_dataset(tmp_path / "fleet")


def test_an_interrupted_dataset_write_leaves_the_old_partitions_whole(tmp_path, monkeypatch):
    from forensics import dataset

    frames = ingest([IMS_FIXTURES / "inbound_medium.LOG"])
    fleet = tmp_path / "fleet"
    dataset.write(frames, fleet, "mx1")
    before = {p: p.read_bytes() for p in sorted(fleet.rglob("*.parquet"))}

    def interrupted(*args: object) -> list[Path]:
        raise KeyboardInterrupt  # Ctrl-C while the new partitions are being written

    monkeypatch.setattr(dataset, "_write_host", interrupted)
    with pytest.raises(KeyboardInterrupt):
        dataset.write(frames, fleet, "mx1")
    assert {p: p.read_bytes() for p in sorted(fleet.rglob("*.parquet"))} == before
    assert [p.name for p in fleet.iterdir() if p.name.startswith(".staging")] == []
    assert len(dataset.load(fleet, ["mx1"]).sessions) == len(frames.sessions)


def test_a_milter_refusal_is_a_refusal_not_a_silently_read_line(tmp_path):
    log = tmp_path / "mail.log"
    log.write_text(
        "Mar  3 10:00:00 mx postfix/smtpd[7]: connect from spam[203.0.113.8]\n"
        "Mar  3 10:00:01 mx postfix/smtpd[7]: NOQUEUE: milter-reject: RCPT from "
        "spam[203.0.113.8]: 550 5.7.1 Command rejected; from=<a@b.example> "
        "to=<ann@ourdomain.example> proto=ESMTP helo=<spam>\n"
        "Mar  3 10:00:01 mx postfix/smtpd[7]: disconnect from spam[203.0.113.8]\n"
    )
    frames = ingest([log], year=2026)
    (rcpt,) = frames.recipients.select("rcpt", "code", "accepted", "remote_ip").rows()
    assert rcpt == ("ann@ourdomain.example", 550, False, "203.0.113.8")


def _every_grammar():
    import importlib
    import pkgutil

    import grammars
    from grammars.twin import LineGrammar

    for info in pkgutil.iter_modules(grammars.__path__):
        module = importlib.import_module(f"grammars.{info.name}")
        for name, value in vars(module).items():
            if isinstance(value, LineGrammar):
                yield f"{info.name}.{name}", value


def test_no_grammar_hands_a_long_adversarial_line_to_pyparsing(monkeypatch):
    # 100 KB lines made of each grammar's own words (the IMS case of the issue: '#',
    # 'Message subject: ' again and again, 'Rescheduling delivery for later' at the
    # end, took pyparsing 47 s): the fast path reads them or not, and pyparsing, whose
    # time can grow with the square of such a line, never sees more than the cap.
    import polars as pl

    from forensics.core import lineparse

    seen: list[int] = []
    exact = lineparse._exact_rows

    def recording(values, grammar):
        seen.extend(len(v) for v in values if v is not None)
        return exact(values, grammar)

    monkeypatch.setattr(lineparse, "_exact_rows", recording)
    grammars = dict(_every_grammar())
    assert len(grammars) > 20
    for name, grammar in grammars.items():
        word = grammar.needle or "x"
        lines = [
            word * (100_000 // len(word)),
            "#" + "Message subject: " * 6_000 + "Rescheduling delivery for later",
            "<" * 50_000 + ">" * 50_000,
            "short line the fallback still reads or explains",
        ]
        found = lineparse.extract(pl.Series(lines), grammar)
        too_long = found["error"].str.contains("longer than", literal=True).fill_null(False)
        unread = ~found["matched"]
        assert (too_long == (unread & pl.Series([len(v) for v in lines]).gt(4096))).all(), name
    assert seen and max(seen) <= lineparse.FALLBACK_MAX_CHARS


def test_a_syslog_line_of_megabytes_is_unparsed_not_copied_into_every_frame(tmp_path):
    from forensics.readers.syslog.accounting import TOO_LONG
    from forensics.readers.syslog.reader import MAX_LINE_BYTES

    sender = "A" * (MAX_LINE_BYTES * 4)
    (tmp_path / "mail.log").write_text(
        "Jan 28 06:40:37 mx1 postfix/smtpd[1]: connect from a[192.0.2.1]\n"
        "Jan 28 06:40:38 mx1 postfix/smtpd[1]: NOQUEUE: reject: RCPT from a[192.0.2.1]: 554 "
        f"5.7.1 <x@y.example>: Relay access denied; from=<{sender}> to=<x@y.example> "
        "proto=ESMTP helo=<h>\n"
    )
    frames = ingest([tmp_path], year=2024)
    (row,) = frames.inputs.to_dicts()
    assert (row["records"], row["unparsed"], row["lines"]) == (1, 1, 2)
    (unparsed,) = frames.unparsed.to_dicts()
    assert (unparsed["line"], unparsed["reason"]) == (2, TOO_LONG)
    assert len(unparsed["text"]) <= 200
    assert not frames.events["arg"].str.contains("AAAA", literal=True).any()


def test_junk_lines_without_a_header_cost_no_fields(monkeypatch):
    # 5M one-character lines after one Postfix header took 8.4 GB and aborted: each
    # line got a row of fifteen header fields. The header's fields are now read for
    # the lines that have one only (the others keep their file, line and text).
    import polars as pl

    from forensics.readers.syslog import headers as h

    text = pl.Series(
        ["Jan 28 06:40:37 mx1 postfix/smtpd[1]: connect from a[192.0.2.1]"] + ["x"] * 50_000
    )
    found, at = h.headers(text, "fast", ["exim"], pl.Series([False] * text.len()))
    assert found.height == 1 and at is not None and at.to_list() == [0]
    assert found["prog"][0] == "postfix/smtpd"
