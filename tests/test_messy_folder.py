"""A messy, partly hostile evidence folder, end to end through the command line:
no traceback, every valid session counted, every file listed, no input touched,
the same JSON and Markdown on a second run, no credential in any output."""

from __future__ import annotations

import base64
import bz2
import gzip
import hashlib
import json
import os
import shutil
from pathlib import Path

import polars as pl
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forensics.cli import cli
from forensics.core import evidence as discover
from forensics.ingest import ingest
from tests.conftest import FIXTURES, IMS_FIXTURES, SAMPLES

SECRET = "S3cr3t-Passw0rd!"
AUTH_LOG = (
    "5/13/00 2:36:27 PM : A connection was accepted from 203.0.113.44.\r\n"
    "5/13/00 2:36:27 PM : <<< EHLO client\r\n"
    "5/13/00 2:36:27 PM : >>> 250 OK\r\n"
    "5/13/00 2:36:28 PM : <<< AUTH LOGIN\r\n"
    "5/13/00 2:36:28 PM : >>> 334 VXNlcm5hbWU6\r\n"
    f"5/13/00 2:36:28 PM : <<< {base64.b64encode(b'bob').decode()}\r\n"
    "5/13/00 2:36:28 PM : >>> 334 UGFzc3dvcmQ6\r\n"
    f"5/13/00 2:36:28 PM : <<< {base64.b64encode(SECRET.encode()).decode()}\r\n"
    "5/13/00 2:36:29 PM : >>> 235 Authentication successful\r\n"
    "5/13/00 2:36:29 PM : <<< QUIT\r\n"
)


def _valid(root: Path) -> None:
    """The readable evidence: IMS sessions (some compressed, one UTF-16), a Postfix
    log, an NDR, a directory export."""
    for name in ("inbound_medium.LOG", "outbound_reschedule_lf.LOG"):
        shutil.copy(IMS_FIXTURES / name, root / name)
    medium = (IMS_FIXTURES / "inbound_medium.LOG").read_bytes()
    (root / "L0000100.LOG.gz").write_bytes(gzip.compress(medium))
    (root / "L0000101.LOG").write_bytes(b"\xff\xfe" + medium.decode("cp1252").encode("utf-16-le"))
    (root / "L0000102.LOG").write_bytes(AUTH_LOG.encode())
    # The same session in UTF-8 with an accented name, beside the cp1252 and UTF-16 ones.
    utf8 = medium.decode("cp1252").replace("john@", "rené@").encode("utf-8")
    (root / "L0000103.LOG").write_bytes(utf8)
    shutil.copy(FIXTURES / "postfix" / "relay.log", root / "mail.log")
    shutil.copy(FIXTURES / "ndr" / "exchange55_relay_refused.eml", root / "bounce.eml")
    shutil.copy(
        SAMPLES / "q256856-relay-prohibited-local" / "directory" / "gal-export.csv",
        root / "gal.csv",
    )


def _messy(root: Path) -> None:
    """Everything else a hurried collection brings along."""
    medium = (IMS_FIXTURES / "inbound_medium.LOG").read_bytes()
    (root / "empty.LOG").write_bytes(b"")
    (root / "core.dmp").write_bytes(os.urandom(4096))
    (root / "cut.LOG.gz").write_bytes(gzip.compress(medium)[:-30])  # truncated gzip
    (root / "cut.LOG.bz2").write_bytes(bz2.compress(medium)[:40])  # truncated bzip2
    (root / "bomb.gz").write_bytes(gzip.compress(b"A" * 5_000_000))  # expands past the cap
    (root / "one-line.LOG").write_bytes(b"5/13/00 2:36:27 PM : " + b"x" * 3_000_000)
    (root / "nul.LOG").write_bytes(medium.replace(b"HELO", b"HE\x00LO", 1) + b"\x00\x00")
    (root / "half.LOG").write_bytes(medium[: len(medium) // 2 + 7])  # cut mid-line
    (root / "L0000200.LOG").mkdir()  # a folder named like a log file
    os.symlink(root / "nowhere", root / "dangling.LOG")
    os.symlink(root, root / "loop")
    os.mkfifo(root / "pipe.LOG")


def _snapshot(root: Path) -> dict[str, tuple[str, int]]:
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file() and not p.is_symlink() and not p.is_fifo():
            out[str(p)] = (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
    return out


def test_a_messy_folder_is_read_whole_and_left_untouched(tmp_path, monkeypatch):
    monkeypatch.setattr(discover, "MAX_EXPANDED_BYTES", 1_000_000)
    clean, messy, out = tmp_path / "clean", tmp_path / "messy", tmp_path / "out"
    for folder in (clean, messy, out):
        folder.mkdir()
    _valid(clean)
    _valid(messy)
    _messy(messy)
    before, names = _snapshot(messy), sorted(os.listdir(messy))
    runs = []
    for n in (1, 2):
        result = CliRunner().invoke(
            cli,
            [
                "analyze",
                str(messy),
                "-o",
                str(out / f"r{n}.html"),
                "--json",
                str(out / f"f{n}.json"),
                "--markdown",
                str(out / f"p{n}.md"),
            ],
        )
        assert result.exit_code == 0, result.output
        assert "Traceback" not in result.output
        runs.append(result)
    assert _snapshot(messy) == before  # no input created, changed or touched
    assert sorted(os.listdir(messy)) == names  # nothing written next to the evidence
    # The same inputs give the same JSON and Markdown, byte for byte.
    assert (out / "f1.json").read_bytes() == (out / "f2.json").read_bytes()
    assert (out / "p1.md").read_bytes() == (out / "p2.md").read_bytes()
    doc = json.loads((out / "f1.json").read_text())
    listed = {i["path"]: i for i in doc["inputs"]}
    expected = {
        str(p.relative_to(messy)) for p in messy.rglob("*") if not p.is_dir() or p.is_symlink()
    }
    expected.discard("loop")  # the loop link is listed under its own name below
    assert expected <= set(listed) and "loop" in listed
    taken_for = {
        "core.dmp": "binary",
        "empty.LOG": "empty",
        "dangling.LOG": "unreadable",
        "pipe.LOG": "unreadable",
        "loop": "link",
        "cut.LOG.gz": "ims",  # what could be decompressed is read
        "half.LOG": "ims",
        "nul.LOG": "ims",
        "one-line.LOG": "ims",
        "mail.log": "postfix",
        "bounce.eml": "email",
    }
    assert {name: listed[name]["format"] for name in taken_for} == taken_for
    assert "decompression bomb" in listed["bomb.gz"]["note"]
    assert (
        "truncated" in listed["cut.LOG.gz"]["note"] and "truncated" in listed["cut.LOG.bz2"]["note"]
    )
    # Every valid session of the clean copy is found in the messy one.
    sessions_clean = ingest([clean]).sessions
    sessions_messy = ingest([messy]).sessions
    key = ["start", "direction", "remote_ip", "rcpt_total"]
    missing = sessions_clean.select(key).join(
        sessions_messy.select(key), on=key, how="anti", nulls_equal=True
    )
    assert missing.height == 0
    # No credential reaches any output.
    encoded = base64.b64encode(SECRET.encode()).decode()
    for path in out.iterdir():
        text = path.read_text(encoding="utf-8", errors="replace")
        assert SECRET not in text and encoded not in text, path.name


def test_markdown_cells_cannot_start_a_formula():
    from forensics.report.markdown import md

    for hostile in ('=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)"):
        assert not md(hostile).startswith(("=", "+", "-", "@")), hostile
    assert md("-") != "-" and md("a=b") == "a=b"


def test_unparsed_lines_keep_their_file_and_line(tmp_path):
    (tmp_path / "half.LOG").write_bytes(b"5/13/00 2:36:27 PM : <<< HELO x\r\ngarbage\r\n")
    frames = ingest([tmp_path])
    assert frames.unparsed.select("source", "line").rows() == [("half.LOG", 2)]
    assert frames.inputs.select(pl.col("unparsed")).item() == 1


PIECES = [
    (IMS_FIXTURES / "inbound_medium.LOG").read_bytes(),
    (FIXTURES / "postfix" / "relay.log").read_bytes(),
    (FIXTURES / "ndr" / "exchange55_relay_refused.eml").read_bytes(),
    b"\x00\x01\x02\xff" * 64,
    b"",
    "é\u2028".encode(),
]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(range(len(PIECES))),
            st.integers(0, 400),  # where to cut the piece (0: keep it whole)
            st.sampled_from(["plain", "gzip", "bzip2", "utf-16"]),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_any_generated_folder_is_read_without_error(tmp_path, files):
    # A fuzz target over whole folders: pieces of real evidence, cut anywhere,
    # compressed or re-encoded. Never a traceback; every file listed; lines add up.
    root = tmp_path / f"f{abs(hash(tuple(files)))}"
    root.mkdir()
    for n, (piece, cut, how) in enumerate(files):
        data = PIECES[piece][:-cut] if cut else PIECES[piece]
        if how == "gzip":
            data = gzip.compress(data)[: len(data) or None]
        elif how == "bzip2":
            data = bz2.compress(data)
        elif how == "utf-16":
            data = b"\xff\xfe" + data.decode("latin-1").encode("utf-16-le")
        (root / f"file{n}.LOG").write_bytes(data)
    frames = ingest([root])
    assert sorted(frames.inputs["path"].to_list()) == sorted(
        f"file{n}.LOG" for n in range(len(files))
    )
    for entry in frames.inputs.to_dicts():
        assert entry["records"] + entry["unparsed"] <= max(entry["lines"], 1)
    per_file = frames.unparsed.group_by("source").len()
    counted = dict(frames.inputs.select("path", "unparsed").iter_rows())
    assert all(counted[source] == n for source, n in per_file.iter_rows())
