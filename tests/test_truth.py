"""``parse`` counts sessions (inbound/outbound), RCPTs and refused RCPTs exactly, on
evidence written by the generator, whose own account of what it wrote is the truth.
And the committed sample_logs are exactly what the generator writes."""

from __future__ import annotations

import hashlib

import polars as pl
import pytest

from benchmarks.samples import SCENARIOS, write_scenario
from forensics.ingest import ingest
from tests.conftest import SAMPLES


@pytest.mark.parametrize("seed", [11, 12])
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_counts_match_the_generators_truth(tmp_path, scenario, seed):
    truth = write_scenario(scenario, tmp_path, seed=seed)
    frames = ingest([tmp_path])
    by_direction = dict(frames.sessions.group_by("direction").len().iter_rows())
    assert by_direction == dict(truth.sessions)
    assert frames.recipients.height == truth.rcpts
    assert frames.recipients.filter(pl.col("accepted") == False).height == truth.refused  # noqa: E712
    relay = frames.recipients.filter(pl.col("refusal") == "relay_denied").height
    assert relay == truth.relay_refused
    logs = frames.inputs.filter(pl.col("format") == scenario.log)
    assert int(logs["lines"].sum()) == truth.lines
    assert int(frames.inputs["unparsed"].sum()) == 0
    assert logs.height == truth.files


def digest_tree(root):
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != "README.md"
    }


def test_committed_samples_are_what_the_generator_writes(tmp_path):
    for scenario in SCENARIOS:
        write_scenario(scenario, tmp_path / scenario.name)
    assert digest_tree(tmp_path) == digest_tree(SAMPLES)
