"""parse --dataset --scheduler: a fleet parsed on a Dask distributed cluster (two worker
processes here) makes the dataset one machine makes, frame for frame and row for row."""

from __future__ import annotations

import json
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import dask
import polars as pl
import pytest
from click.testing import CliRunner
from distributed import LocalCluster
from polars.testing import assert_frame_equal

from forensics import dataset, fleet
from forensics.cli import cli
from forensics.core.errors import EXIT_OK, EXIT_USAGE
from forensics.core.progress import SILENT
from tests.conftest import SAMPLES

# Two small servers of different kinds (a Postfix syslog, an IMS folder), so that a
# task that read the other's files, or both, would show.
FOLDERS = [SAMPLES / "postfix-relay-after-change", SAMPLES / "q256856-relay-prohibited-local"]


@pytest.fixture(scope="module")
def scheduler() -> Iterator[tuple[str, LocalCluster]]:
    with LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0"
    ) as cluster:
        yield cluster.scheduler_address, cluster


SCHEDULER = ("--scheduler", "tcp://127.0.0.1:8786")


def at(port: int) -> tuple[str, str]:
    return ("--scheduler", f"tcp://127.0.0.1:{port}")


def _parse(*args: str) -> None:
    result = CliRunner().invoke(cli, ["parse", *args])
    assert result.exit_code == EXIT_OK, result.output


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*.parquet"))


# These run before the first test that starts the cluster (module scope): none
# of them needs it, and the first hides the distributed package while it runs.
def test_scheduler_without_the_extra_is_one_line_naming_the_pip_command(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed fails
    result = CliRunner().invoke(
        cli,
        ["parse", str(FOLDERS[0]), "--out", str(tmp_path / "d"), "--dataset", *SCHEDULER],
    )
    assert result.exit_code == EXIT_USAGE
    assert result.output.count("\n") == 1
    assert "pip install 'smtp-forensics[distributed]'" in result.output
    assert not (tmp_path / "d").exists()


def test_a_scheduler_that_does_not_answer_is_a_usage_error(tmp_path, monkeypatch):
    monkeypatch.setattr(fleet, "CONNECT_SECONDS", 1)
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = CliRunner().invoke(
        cli,
        ["parse", str(FOLDERS[0]), "--out", str(tmp_path / "d"), "--dataset", *at(port)],
    )
    assert result.exit_code == EXIT_USAGE, result.output
    assert "no Dask scheduler answers" in result.output and result.output.count("\n") == 1


def test_scheduler_needs_dataset(tmp_path):
    result = CliRunner().invoke(
        cli, ["parse", str(FOLDERS[0]), "--out", str(tmp_path / "d"), "--scheduler", "tcp://x:1"]
    )
    assert result.exit_code == EXIT_USAGE and "add --dataset" in result.output


def test_a_fleet_parsed_on_a_cluster_is_the_fleet_parsed_here(tmp_path, scheduler):
    address, cluster = scheduler
    here, there = tmp_path / "here", tmp_path / "there"
    _parse(*map(str, FOLDERS), "--out", str(here), "--dataset")
    _parse(*map(str, FOLDERS), "--out", str(there), "--dataset", "--scheduler", address)
    # The tasks ran on the cluster's workers.
    assert "smtp-forensics" in cluster.scheduler.task_prefixes
    # Each PATH is its own host, both ways.
    assert dataset.hosts(here) == dataset.hosts(there) == sorted(f.name for f in FOLDERS)
    # The same partitions, each with the same rows in the same order.
    assert _files(here) == _files(there) and len(_files(here)) > 20
    for name in _files(here):
        assert_frame_equal(pl.read_parquet(here / name), pl.read_parquet(there / name))
    # Every frame read as one table (hive partitions as columns), sorted: equal.
    for frame in sorted({Path(n).parts[0] for n in _files(here)}):
        tables = [
            pl.scan_parquet(root / frame / "**" / "*.parquet", hive_partitioning=True).collect()
            for root in (here, there)
        ]
        order = sorted(tables[0].columns)
        a, b = (t.select(order).sort(order, nulls_last=True) for t in tables)
        assert_frame_equal(a, b)
        assert a.height == b.height
    assert json.loads((here / dataset.MARKER).read_text()) == json.loads(
        (there / dataset.MARKER).read_text()
    )
    # analyze reads the dataset the cluster wrote as it reads the local one.
    for root in (here, there):
        out = tmp_path / f"{root.name}.json"
        result = CliRunner().invoke(
            cli, ["analyze", str(root), "-q", "-o", str(tmp_path / "r.html"), "--json", str(out)]
        )
        assert result.exit_code == EXIT_OK, result.output
    found = [
        json.loads((tmp_path / f"{r.name}.json").read_text())["findings"] for r in (here, there)
    ]
    assert found[0] == found[1] and found[0]


def test_workers_writing_hosts_at_once_keep_an_earlier_host(tmp_path, scheduler):
    address, _cluster = scheduler
    out = tmp_path / "fleet"
    _parse(str(SAMPLES / "healthy-baseline"), "--out", str(out), "--dataset")
    _parse(*map(str, FOLDERS), "--out", str(out), "--dataset", "--scheduler", address)
    assert dataset.hosts(out) == sorted(["healthy-baseline", *(f.name for f in FOLDERS)])
    assert not [p for p in out.iterdir() if p.name.startswith(".staging")]


def test_analyze_on_a_cluster_sees_the_frames_of_the_dataset(tmp_path, scheduler):
    address, _cluster = scheduler
    here = tmp_path / "here"
    _parse(*map(str, FOLDERS), "--out", str(here), "--dataset")
    gathered = fleet.gather(fleet.fleet_of(FOLDERS), {}, scheduler=address)
    loaded = dataset.load(here)
    for name, frame in loaded.as_dict().items():
        assert_frame_equal(getattr(gathered, name), frame, check_row_order=True), name
    assert loaded.sessions.height > 0 and loaded.events.height > 0
    report = ["-q", "-o", str(tmp_path / "r.html"), "--json"]
    cluster = CliRunner().invoke(
        cli, ["analyze", *map(str, FOLDERS), "--scheduler", address, *report, str(tmp_path / "c")]
    )
    assert cluster.exit_code == EXIT_OK, cluster.output
    local = CliRunner().invoke(cli, ["analyze", str(here), *report, str(tmp_path / "l")])
    assert local.exit_code == EXIT_OK, local.output
    found = [json.loads((tmp_path / n).read_text())["findings"] for n in ("c", "l")]
    assert found[0] == found[1] and found[0]


def _dies(host: fleet.Host, options: dict) -> None:
    os._exit(1)  # as the kernel's out-of-memory killer ends a worker


def test_a_host_that_kills_its_workers_is_named_with_what_to_do(tmp_path):
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 0}),
        LocalCluster(
            n_workers=1, processes=True, threads_per_worker=1, dashboard_address=":0"
        ) as cluster,
    ):
        host = fleet.Host("mx9", str(tmp_path))
        with pytest.raises(fleet.WorkerLostError) as lost:
            fleet._run(_dies, [host], {}, cluster.scheduler_address, SILENT, {"mx9": 10**9})
    assert "host mx9" in str(lost.value) and "1,000,000,000 bytes" in str(lost.value)
    assert "several PATHs" in str(lost.value) and lost.value.exit_code == EXIT_USAGE
