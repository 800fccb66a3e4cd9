"""parse --dataset writes a hive-partitioned dataset; analyze reads it as a whole and
finds what it finds on the raw evidence."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import polars as pl
import pytest
from click.testing import CliRunner

from forensics import dataset as fleet
from forensics.cli import cli
from forensics.ingest import ingest
from tests.conftest import SAMPLES, scenario_dirs


def _findings(args: list[str], tmp_path, name: str) -> list[dict]:
    out = tmp_path / f"{name}.json"
    result = CliRunner().invoke(
        cli, ["analyze", *args, "-q", "-o", str(tmp_path / "r.html"), "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    return json.loads(out.read_text())["findings"]


def _parse(folder, dataset) -> None:
    result = CliRunner().invoke(cli, ["parse", str(folder), "--out", str(dataset), "--dataset"])
    assert result.exit_code == 0, result.output


KEYS = ("rule", "subject", "severity", "confidence", "count", "first_seen", "last_seen")


@pytest.mark.parametrize("folder", scenario_dirs(), ids=lambda p: p.name)
def test_a_dataset_gives_the_findings_of_the_raw_evidence(folder, tmp_path):
    dataset = tmp_path / "dataset"
    _parse(folder, dataset)
    assert (dataset / "sessions" / f"host={folder.name}").is_dir()
    direct = _findings([str(folder)], tmp_path, "direct")
    via = _findings([str(dataset)], tmp_path, "dataset")
    assert [tuple(f[k] for k in KEYS) for f in via] == [tuple(f[k] for k in KEYS) for f in direct]
    for a, b in zip(via, direct, strict=True):
        assert [e["source"] for e in a["evidence"]] == [
            f"{folder.name}/{e['source']}" for e in b["evidence"]
        ]


def test_parse_runs_in_parallel_add_up_to_one_dataset(tmp_path):
    # Two servers parsed at the same time into one dataset, as on two machines.
    # Two IMS servers: their file names, and so their session ids, are the same.
    folders = [
        SAMPLES / "q256856-relay-prohibited-local",
        SAMPLES / "q168781-immediate-outbound-550",
    ]
    dataset = tmp_path / "dataset"
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda f: fleet.write(ingest([f]), dataset, f.name), folders))
    hosts = sorted(p.name for p in (dataset / "inputs").iterdir())
    assert hosts == sorted(f"host={f.name}" for f in folders)
    # polars reads a frame of the dataset as one table, hive partitions as columns.
    sessions = pl.scan_parquet(
        dataset / "sessions" / "**" / "*.parquet", hive_partitioning=True
    ).collect()
    assert set(sessions["host"].unique()) == {f.name for f in folders}
    direct = _findings([str(f) for f in folders], tmp_path, "direct")
    via = _findings([str(dataset)], tmp_path, "dataset")
    assert [tuple(f[k] for k in KEYS) for f in via] == [tuple(f[k] for k in KEYS) for f in direct]


def test_one_host_of_a_fleet_dataset_is_analysed_alone(tmp_path):
    folders = [SAMPLES / "healthy-baseline", SAMPLES / "q243045-relay-after-change"]
    dataset = tmp_path / "dataset"
    for folder in folders:
        _parse(folder, dataset)
    for folder in folders:
        direct = _findings([str(folder)], tmp_path, "direct")
        one = _findings([str(dataset), "--host", folder.name], tmp_path, "one")
        assert [tuple(f[k] for k in KEYS) for f in one] == [
            tuple(f[k] for k in KEYS) for f in direct
        ]
    result = CliRunner().invoke(
        cli, ["analyze", str(dataset), "--host", "nope", "-o", str(tmp_path / "r.html")]
    )
    assert result.exit_code == 2 and "not in" in result.output


def _files(root) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*.parquet"))


def test_each_path_is_its_own_host_as_if_parsed_alone(tmp_path):
    from polars.testing import assert_frame_equal

    folders = [SAMPLES / "postfix-relay-after-change", SAMPLES / "q243045-relay-after-change"]
    together, alone = tmp_path / "together", tmp_path / "alone"
    result = CliRunner().invoke(
        cli, ["parse", *map(str, folders), "--out", str(together), "--dataset"]
    )
    assert result.exit_code == 0, result.output
    assert "(2 hosts)" in result.output
    assert all(f"host {f.name}:" in result.output for f in folders)
    for folder in folders:
        _parse(folder, alone)
    assert fleet.hosts(together) == sorted(f.name for f in folders)
    assert _files(together) == _files(alone)
    for name in _files(together):
        assert_frame_equal(pl.read_parquet(together / name), pl.read_parquet(alone / name))


def test_a_fleet_names_its_hosts_once_each(tmp_path):
    twice = [tmp_path / "a" / "logs", tmp_path / "b" / "logs"]
    for folder in twice:
        folder.mkdir(parents=True)
        (folder / "mail.log").write_text("x\n")
    result = CliRunner().invoke(
        cli, ["parse", *map(str, twice), "--out", str(tmp_path / "d"), "--dataset"]
    )
    assert result.exit_code == 2 and "would both be host logs" in result.output
    folders = [SAMPLES / "healthy-baseline", SAMPLES / "postfix-relay-after-change"]
    args = ["parse", *map(str, folders), "--out", str(tmp_path / "d"), "--dataset"]
    result = CliRunner().invoke(cli, [*args, "--host", "mx1"])
    assert result.exit_code == 2 and "--host mx1: names one host" in result.output
    assert not (tmp_path / "d").exists()


def test_a_host_with_nothing_readable_is_not_written_and_fails_the_run(tmp_path):
    empty = tmp_path / "mx9"
    empty.mkdir()
    (empty / "notes.bin").write_bytes(b"\x00\x01\x02" * 100)
    good = SAMPLES / "postfix-relay-after-change"
    out = tmp_path / "d"
    result = CliRunner().invoke(
        cli, ["parse", str(good), str(empty), "--out", str(out), "--dataset"]
    )
    assert result.exit_code == 2, result.output
    assert "nothing readable for host mx9 (not written)" in result.output
    assert "(1 host)" in result.output
    assert fleet.hosts(out) == [good.name]


def test_a_host_is_named_after_the_path_given_not_where_a_link_leads(tmp_path, monkeypatch):
    (tmp_path / "mx1").symlink_to(SAMPLES / "postfix-relay-after-change")
    (tmp_path / "mx2").symlink_to(SAMPLES / "exim-relay-denied-local")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        cli, ["parse", str(tmp_path / "mx1"), "./mx2/", "--out", str(tmp_path / "d"), "--dataset"]
    )
    assert result.exit_code == 0, result.output
    assert fleet.hosts(tmp_path / "d") == ["mx1", "mx2"]
