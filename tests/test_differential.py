"""DESIGN principle 1: the vectorized path and the pyparsing path give identical
frames on every fixture, every corpus excerpt and every sample scenario."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from polars.testing import assert_frame_equal

from forensics.ingest import ingest
from forensics.readers import ims as ims_reader
from forensics.readers import registry
from tests.conftest import FIXTURES, IMS_CORPUS, IMS_FIXTURES, SAMPLES, corpus, scenario_dirs


def assert_same(path: Path, **options) -> None:
    fast = ingest([path], engine="fast", **options)
    exact = ingest([path], engine="exact", **options)
    for name, frame in fast.as_dict().items():
        try:
            assert_frame_equal(frame, getattr(exact, name), check_exact=True)
        except AssertionError as exc:
            raise AssertionError(f"{path}: frame {name!r} differs between paths") from exc


@pytest.mark.parametrize("name", sorted(p.name for p in IMS_FIXTURES.iterdir()))
def test_fixture(name):
    assert_same(IMS_FIXTURES / name, date_order="dmy" if "dmy" in name else "mdy")


@pytest.mark.parametrize("name", sorted(p.name for p in (FIXTURES / "tracking").iterdir()))
def test_tracking_fixture(name):
    assert_same(FIXTURES / "tracking" / name)


def test_corpus_excerpts():
    assert_same(corpus(IMS_CORPUS))


@pytest.mark.parametrize("folder", scenario_dirs(), ids=lambda p: p.name)
def test_sample_scenario(folder):
    assert folder.is_relative_to(SAMPLES)
    assert_same(folder)


def test_reading_in_batches_gives_the_same_frames(monkeypatch):
    """Files are parsed in batches on worker threads; the result must not depend on
    where the batches fall or which finishes first."""
    folder = SAMPLES / "q243045-relay-after-change"
    whole = ingest([folder])
    small = dataclasses.replace(ims_reader.READER, batch_lines=97)
    readers = [small if r is ims_reader.READER else r for r in registry.READERS]
    monkeypatch.setattr(registry, "READERS", readers)
    batched = ingest([folder])
    for name, frame in whole.as_dict().items():
        assert_frame_equal(frame, getattr(batched, name), check_exact=True)
