"""Exim as the syslog reader sees it: its lines (its own logs' and syslog's) -> the
``events`` and ``service_events`` frames, and the lines it could not read."""

from __future__ import annotations

import polars as pl

from forensics.core.lineparse import Engine
from forensics.readers.exim.events import events
from forensics.readers.exim.fields import opened
from forensics.readers.exim.service import service_events
from forensics.readers.mta import Mta, MtaResult


def read(rows: pl.DataFrame, engine: Engine) -> MtaResult:
    found, unknown = events(rows, engine)
    return MtaResult(found, service_events(opened(rows, engine), engine), unknown)


MTA = Mta("exim", read)
