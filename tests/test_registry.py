"""Registry exports -> config rows. Expected values are read off the fixtures."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from forensics.core.lineparse import extract
from forensics.ingest import ingest
from forensics.readers.regexport import logical_lines, relayflags_meaning, snapshot_time
from grammars import registry
from tests.conftest import FIXTURES

REG = FIXTURES / "registry"
LISTINGS = FIXTURES / "registry-listings"


@pytest.fixture(scope="module")
def frames():
    return ingest([REG])


def value(frames, source: str, key: str) -> dict:
    hits = frames.config.filter((pl.col("source") == source) & (pl.col("key") == key))
    assert hits.height == 1
    return hits.row(0, named=True)


def test_regedit4_ansi_export_with_a_continued_multi_string(frames):
    flags = value(frames, "imc-1999-10-27T0900.reg", "MSExchangeIMC\\Parameters\\RelayFlags")
    assert (flags["line"], flags["new"], flags["old"]) == (4, "2", None)
    assert flags["note"] == "2: allow clients in RelayAllowList; everyone else may not relay"
    assert (flags["ts"], flags["ts_quality"]) == (dt.datetime(1999, 10, 27, 9, 0), "filename")
    allow = value(frames, "imc-1999-10-27T0900.reg", "MSExchangeIMC\\Parameters\\RelayAllowList")
    assert allow["line"] == 5  # the value starts on line 5 and continues on line 6
    assert allow["new"] == "192.168.42.0;255.255.255.0, 192.168.42.2"
    assert allow["note"] == "2 entries: 192.168.42.0/255.255.255.0, 192.168.42.2/255.255.255.255"
    path = value(frames, "imc-1999-10-27T0900.reg", "MSExchangeIMC\\Parameters\\LogDirectory")
    assert path["new"] == "C:\\exchsrvr\\imcdata\\log"  # escaped backslashes undone


def test_version5_utf16_export_and_the_change_between_snapshots(frames):
    flags = value(frames, "imc-1999-10-27T1430.reg", "MSExchangeIMC\\Parameters\\RelayFlags")
    assert (flags["old"], flags["new"]) == ("2", "0")
    assert flags["note"].startswith("0: no relay restriction")
    deleted = value(frames, "imc-1999-10-27T1430.reg", "MSExchangeIMC\\Parameters\\RelayAllowList")
    assert deleted["new"] is None and deleted["note"] == "value deleted"
    assert deleted["old"] == "192.168.42.0;255.255.255.0, 192.168.42.2"


def test_other_keys_are_read_not_kept_and_garbage_is_counted(frames):
    assert not frames.config["key"].str.contains("Tcpip").any()
    inputs = {r["path"]: r for r in frames.inputs.to_dicts()}
    assert inputs["imc-1999-10-27T0900.reg"]["format"] == "registry"
    assert inputs["imc-1999-10-27T1430.reg"]["encoding"] == "utf-16-le"
    (bad,) = frames.unparsed.to_dicts()
    assert (bad["line"], bad["text"]) == (13, "garbage that is not registry")


def test_both_paths_read_the_fixtures_alike():
    for path in sorted(REG.iterdir()):
        text = path.read_bytes().decode(
            "utf-16" if path.read_bytes()[:2] == b"\xff\xfe" else "cp1252"
        )
        values = pl.Series([s for _, s in logical_lines(text)], dtype=pl.String)
        fast = extract(values, registry.LINE, "fast", fallback=False).drop("error")
        assert_frame_equal(fast, extract(values, registry.LINE, "exact").drop("error"))


@pytest.mark.parametrize(
    ("flags", "meaning"),
    [
        (0, "0: no relay restriction: anyone may relay (an open relay)"),
        (1, "only bit 1: everyone not in RelayDenyList may relay"),
        (
            10,
            "10: allow clients in RelayAllowList; allow authenticated clients; "
            "everyone else may not relay",
        ),
    ],
)
def test_relayflags_meaning(flags, meaning):
    assert relayflags_meaning(flags) == meaning


def test_snapshot_time_from_name_else_modification_time():
    assert snapshot_time("imc-2000-05-15T0900.reg", None) == (
        dt.datetime(2000, 5, 15, 9, 0),
        "filename",
    )
    stamp = dt.datetime(2000, 5, 16, 8, 30).timestamp()
    assert snapshot_time("imc.reg", stamp) == (dt.datetime(2000, 5, 16, 8, 30), "mtime")


def test_hex_values():
    assert registry.decode_hex("31,00,00,00,32,00,00,00,00,00", "7", True) == ["1", "2"]
    assert registry.decode_hex("02,00,00,00", "4", False) == 2
    assert registry.decode_hex("zz", None, False) is None


def test_a_value_missing_from_a_later_snapshot_is_a_change(tmp_path):
    key = r"[HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\MSExchangeIMC\Parameters]"
    (tmp_path / "imc-1997-12-02T1720.reg").write_text(
        f'REGEDIT4\n\n{key}\n"RelayFlags"=dword:00000002\n"LogDirectory"="C:\\\\log"\n'
    )
    (tmp_path / "imc-1997-12-02T1904.reg").write_text(
        f'REGEDIT4\n\n{key}\n"LogDirectory"="C:\\\\log"\n'
    )
    config = ingest([tmp_path]).config
    gone = config.filter(
        (pl.col("source") == "imc-1997-12-02T1904.reg")
        & (pl.col("key") == "MSExchangeIMC\\Parameters\\RelayFlags")
    ).row(0, named=True)
    assert (gone["old"], gone["new"], gone["note"]) == ("2", None, "absent from this snapshot")
    assert (gone["line"], gone["ts_quality"]) == (3, "filename")


@pytest.fixture(scope="module")
def listings():
    return ingest([LISTINGS])


def test_reg_query_output(listings):
    frames = listings
    source = "reg-query-imc-2000-05-16T1200.txt"
    flags = value(frames, source, "MSExchangeIMC\\Parameters\\RelayFlags")
    assert (flags["line"], flags["new"]) == (3, "2")
    assert flags["ts"] == dt.datetime(2000, 5, 16, 12, 0)
    allow = value(frames, source, "MSExchangeIMC\\Parameters\\RelayAllowList")
    assert allow["new"] == "192.168.42.1, 192.168.42.2"
    assert value(frames, source, "MSExchangeIMC\\Parameters\\Log Directory")["new"] == (
        "C:\\exchsrvr\\imcdata\\log"
    )


def test_regedt32_subtree_text_dated_by_its_last_write_time(listings):
    frames = listings
    flags = value(frames, "subtree.txt", "MSExchangeIMC\\Parameters\\RelayFlags")
    assert (flags["ts"], flags["ts_quality"]) == (dt.datetime(1997, 12, 2, 17, 20), "lastwrite")
    assert flags["new"] == "2" and flags["line"] == 4
    allow = value(frames, "subtree.txt", "MSExchangeIMC\\Parameters\\RelayAllowList")
    # The multi-string data continues on the line after "Data:".
    assert allow["new"] == "192.168.42.1, 192.168.42.2"
    assert allow["note"] == "2 entries: 192.168.42.1/255.255.255.255, 192.168.42.2/255.255.255.255"


def test_both_paths_read_the_listings_alike():
    for name, grammar in (
        ("reg-query-imc-2000-05-16T1200.txt", registry.REG_QUERY_LINE),
        ("subtree.txt", registry.REGEDT32_LINE),
    ):
        lines = pl.Series((LISTINGS / name).read_text().splitlines(), dtype=pl.String)
        fast = extract(lines, grammar, "fast", fallback=False).drop("error")
        assert_frame_equal(fast, extract(lines, grammar, "exact").drop("error"))


def test_a_deleted_key_is_a_change(tmp_path):
    (tmp_path / "undo-2000-05-16T1100.reg").write_text(
        "REGEDIT4\n\n[-HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\MSExchangeIMC"
        "\\Parameters]\n"
    )
    (row,) = ingest([tmp_path]).config.to_dicts()
    assert (row["key"], row["new"], row["note"], row["line"]) == (
        "MSExchangeIMC\\Parameters",
        None,
        "key deleted",
        3,
    )
