"""Postfix as the syslog reader sees it: the lines of its daemons -> the ``events``
and ``service_events`` frames."""

from __future__ import annotations

import polars as pl

from forensics.core.lineparse import Engine
from forensics.readers.mta import Mta, MtaResult
from forensics.readers.postfix.events import events
from forensics.readers.postfix.service import service_events
from forensics.readers.postfix.unread import unread_facts


def read(rows: pl.DataFrame, engine: Engine) -> MtaResult:
    return MtaResult(events(rows, engine), service_events(rows, engine), unread_facts(rows, engine))


MTA = Mta("postfix", read)
