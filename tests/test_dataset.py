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
