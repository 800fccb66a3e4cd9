"""Sendmail as the syslog reader sees it: the lines of its programs -> the
``events`` and ``service_events`` frames, and the lines it could not read."""

from __future__ import annotations

import polars as pl

from forensics.core.lineparse import Engine
from forensics.readers.mta import Mta, MtaResult
from forensics.readers.sendmail.events import events
from forensics.readers.sendmail.service import service_events


def read(rows: pl.DataFrame, engine: Engine) -> MtaResult:
    found, unknown = events(rows, engine)
    return MtaResult(found, service_events(rows, engine), unknown)


MTA = Mta("sendmail", read)
