"""Every reader, in one list: the only place that names them.

Discovery asks :func:`sniff` what a text is; ingest reads each reader's files in the
order of :data:`READERS`; ``smtp-forensics formats`` and the tests walk the same
list. A new format is a reader module, its line here, its entry in
``knowledge/formats.toml`` and a folder of cases under ``tests/cases/``;
:func:`register` adds one at run time (a plugin, a test's toy format).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from forensics.core import evidence
from forensics.core.evidence import Evidence
from forensics.readers import (
    exchange,
    exchangeconfig,
    eximconfig,
    iis,
    ims,
    ndr,
    postconf,
    regexport,
    sendmailconfig,
    syslog,
    tables,
    tracking,
    transcript,
    unread,
    w3c,
)
from forensics.readers.base import Format, Reader

# In reading order: the rows of each frame come in this order (the SMTP logs first,
# then the NDRs, the tracking logs and the configuration evidence).
READERS: list[Reader] = [
    ims.READER,
    syslog.READER,
    exchange.READER,
    transcript.READER,
    w3c.READER,
    iis.READER,
    ndr.READER,
    tracking.READER,
    regexport.READER,
    postconf.READER,
    exchangeconfig.READER,
    sendmailconfig.READER,
    eximconfig.READER,
    tables.CHANGELOG,
    tables.DIRECTORY,
    tables.EVENTLOG,
    unread.READER,
]


def register(reader: Reader) -> None:
    """Add a reader (after the built-in ones in reading order; its formats' priorities
    place its checks among theirs)."""
    names = {f.name for f in reader.formats}
    if names & set(format_names()):
        raise ValueError(f"formats already read: {sorted(names & set(format_names()))}")
    READERS.append(reader)


def unregister(reader: Reader) -> None:
    READERS.remove(reader)


def formats() -> list[Format]:
    """Every format, in the order their checks run."""
    every = [f for reader in READERS for f in reader.formats]
    return sorted(every, key=lambda f: f.priority)


def format_names() -> list[str]:
    return [f.name for f in formats()]


def reader_of(format_name: str) -> Reader | None:
    for reader in READERS:
        if any(f.name == format_name for f in reader.formats):
            return reader
    return None


def sniff(text: str) -> str:
    """The format of ``text`` (its head): the first check that accepts it, or "unknown"."""
    for fmt in formats():
        if fmt.looks_like(text):
            return fmt.name
    return "unknown"


def examine(path: str | Path, source: str, force: str | None = None) -> Evidence:
    """:func:`forensics.core.evidence.examine` with every reader's check."""
    return evidence.examine(path, source, sniff, force)


def discover(
    paths: Iterable[str | os.PathLike[str]], *, follow_links: bool = False
) -> list[Evidence]:
    """Every file under ``paths``, read, hashed and given its format."""
    return evidence.discover(paths, sniff, follow_links=follow_links)


def iter_discover(
    paths: Iterable[str | os.PathLike[str]], *, follow_links: bool = False
) -> Iterator[Evidence]:
    return evidence.iter_discover(paths, sniff, follow_links=follow_links)
