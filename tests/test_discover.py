"""Discovery: every file found, read once and read-only, decompressed by content,
decoded, and sorted by format, with a reason for each file that is not read."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import os
from pathlib import Path

import polars as pl
import pytest

from forensics.core import evidence
from forensics.core.evidence import Evidence, NoInputError
from forensics.readers import registry as d
from tests.conftest import IMS_FIXTURES

LOG = (IMS_FIXTURES / "inbound_medium.LOG").read_bytes()


def by_source(root: Path) -> dict[str, Evidence]:
    return {e.source: e for e in d.discover([root])}


def test_compressed_logs_are_read_by_content_not_name(tmp_path):
    (tmp_path / "plain").write_bytes(LOG)
    (tmp_path / "rotated.1").write_bytes(gzip.compress(LOG))  # no .gz suffix
    (tmp_path / "old.bz2").write_bytes(bz2.compress(LOG))
    (tmp_path / "two.gz").write_bytes(gzip.compress(LOG) + gzip.compress(LOG))
    found = by_source(tmp_path)
    assert {s: (e.format, e.compression) for s, e in found.items()} == {
        "plain": ("ims", None),
        "rotated.1": ("ims", "gzip"),
        "old.bz2": ("ims", "bzip2"),
        "two.gz": ("ims", "gzip"),
    }
    assert found["rotated.1"].text == found["plain"].text == found["old.bz2"].text
    assert found["two.gz"].text == found["plain"].text * 2  # concatenated members
    # The hash is of the file as it is on disk, not of what it expands to.
    on_disk = (tmp_path / "rotated.1").read_bytes()
    assert found["rotated.1"].sha256 == hashlib.sha256(on_disk).hexdigest()
    assert found["plain"].sha256 == hashlib.sha256(LOG).hexdigest()
    assert found["old.bz2"].size == (tmp_path / "old.bz2").stat().st_size


def test_truncated_gzip_keeps_what_it_could_read(tmp_path):
    packed = gzip.compress(LOG * 50)
    (tmp_path / "cut").write_bytes(packed[: len(packed) * 2 // 3])
    (item,) = d.discover([tmp_path])
    assert item.note == "truncated gzip stream; read what could be decompressed"
    assert item.format == "ims"
    assert 0 < len(item.text or "") < len(LOG) * 50


def test_truncated_bzip2_is_reported(tmp_path):
    # bzip2 works in 900 kB blocks: a cut small file has no complete block to give.
    packed = bz2.compress(LOG * 50)
    (tmp_path / "cut").write_bytes(packed[: len(packed) * 2 // 3])
    (item,) = d.discover([tmp_path])
    assert item.note == "truncated bzip2 stream; read what could be decompressed"
    assert item.compression == "bzip2"


def test_decompression_is_capped(tmp_path, monkeypatch):
    monkeypatch.setattr(evidence, "MAX_EXPANDED_BYTES", 10_000)
    (tmp_path / "bomb.gz").write_bytes(gzip.compress(LOG * 1000))
    (item,) = d.discover([tmp_path])
    assert "expands beyond" in (item.note or "")
    assert len(item.text or "") <= 10_000


def test_files_not_read_are_listed_with_a_reason(tmp_path):
    (tmp_path / "empty.LOG").write_bytes(b"")
    (tmp_path / "tool.exe").write_bytes(bytes(range(256)) * 20)
    (tmp_path / "notes.txt").write_text("remember to restart the IMS\n")
    (tmp_path / "L0000001.LOG").mkdir()  # a folder named like a log file
    (tmp_path / "L0000001.LOG" / "inner.LOG").write_bytes(LOG)
    os.symlink(tmp_path / "missing", tmp_path / "dangling")
    os.symlink(tmp_path, tmp_path / "loop")
    found = by_source(tmp_path)
    assert {s: e.format for s, e in found.items()} == {
        "empty.LOG": "empty",
        "tool.exe": "binary",
        "notes.txt": "unknown",
        "L0000001.LOG/inner.LOG": "ims",
        "dangling": "unreadable",
        "loop": "link",
    }
    assert all(e.note for s, e in found.items() if e.format != "ims")


def test_unreadable_file_is_listed(tmp_path, monkeypatch):
    (tmp_path / "locked.LOG").write_bytes(LOG)

    def deny(path: str) -> tuple[bytes, float]:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(evidence, "_read_bytes", deny)
    (item,) = d.discover([tmp_path])
    assert (item.format, item.note) == ("unreadable", "unreadable: Permission denied")


def test_encodings(tmp_path):
    text = LOG.decode("ascii").replace("john@", "rené@")
    (tmp_path / "u16").write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    (tmp_path / "u16-nobom").write_bytes(text.encode("utf-16-le"))
    (tmp_path / "u8bom").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    (tmp_path / "ansi").write_bytes(text.encode("cp1252"))
    found = by_source(tmp_path)
    assert {s: e.encoding for s, e in found.items()} == {
        "u16": "utf-16-le",
        "u16-nobom": "utf-16-le",
        "u8bom": "utf-8-sig",
        "ansi": "cp1252",
    }
    assert all(e.text == text for e in found.values())


def test_several_roots_keep_their_names_apart(tmp_path):
    for name in ("server1", "server2"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "L0000000.LOG").write_bytes(LOG)
    sources = [e.source for e in d.discover([tmp_path / "server1", tmp_path / "server2"])]
    assert sources == ["server1/L0000000.LOG", "server2/L0000000.LOG"]


def test_missing_path_is_an_error_not_an_empty_result(tmp_path):
    with pytest.raises(NoInputError, match="no such file"):
        d.discover([tmp_path / "nope"])


def test_inputs_are_not_modified(tmp_path):
    (tmp_path / "a.LOG").write_bytes(LOG)
    (tmp_path / "b.gz").write_bytes(gzip.compress(LOG))
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in tmp_path.iterdir()}
    d.discover([tmp_path])
    after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in tmp_path.iterdir()}
    assert after == before


def test_a_compressed_file_after_a_hundred_plain_ones(tmp_path):
    # The inputs table once inferred its schema from the first rows and broke here.
    from forensics.ingest import ingest

    for i in range(120):
        (tmp_path / f"L{i:07d}.LOG").write_bytes(LOG)
    (tmp_path / "z-rotated.gz").write_bytes(gzip.compress(LOG))
    frames = ingest([tmp_path])
    assert frames.inputs.height == 121
    assert frames.inputs.filter(pl.col("compression") == "gzip")["path"].to_list() == [
        "z-rotated.gz"
    ]
