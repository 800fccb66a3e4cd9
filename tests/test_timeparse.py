"""Timestamps by calendar arithmetic agree with Python's datetime on any input."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from forensics.core.timeparse import DATE_ORDERS, timestamps

digits = st.integers(0, 2100).map(str) | st.sampled_from(["00", "05", "69", "68", "99", ""])
ampm = st.sampled_from([None, "AM", "PM", "am", "p.m.", "A"])


def expected(order, d1, d2, d3, hh, mi, ss, marker):
    parts = dict(zip(order, (d1, d2, d3), strict=True))
    try:
        y = int(parts["y"])
        if len(parts["y"]) <= 2:
            y += 1900 if y >= 69 else 2000
        hour = int(hh)
        if marker:
            hour = hour % 12 + (12 if marker[0].upper() == "P" else 0)
        return dt.datetime(y, int(parts["m"]), int(parts["d"]), hour, int(mi), int(ss or 0))
    except (ValueError, TypeError):  # impossible values, missing parts
        return None


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(DATE_ORDERS),
    st.lists(
        st.tuples(digits, digits, digits, digits, digits, digits | st.none(), ampm),
        min_size=1,
        max_size=20,
    ),
)
def test_matches_python_datetime(order, rows):
    columns = ["d1", "d2", "d3", "hh", "mi", "ss", "ampm"]
    frame = pl.DataFrame(rows, schema=dict.fromkeys(columns, pl.String), orient="row")
    frame = frame.with_columns(pl.all().replace("", None))
    got = timestamps(frame, order).to_list()
    want = [expected(order, *(None if v == "" else v for v in r)) for r in rows]
    assert got == want
