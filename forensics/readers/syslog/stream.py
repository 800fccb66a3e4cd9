"""Rotated files as one stream: the order to read them in (by log family, oldest
rotation first) and the family each belongs to."""

from __future__ import annotations

import re

from forensics.core.evidence import Evidence

_ROTATION = re.compile(r"^(?P<family>.*?)(?:\.(?P<n>[0-9]+))?(?:\.(?:gz|bz2))?$")


def stream_order(items: list[Evidence]) -> list[int]:
    """Indexes of ``items`` in reading order: by log family, oldest rotation first."""

    def key(i: int) -> tuple[str, int]:
        m = _ROTATION.match(items[i].source)
        assert m is not None  # the pattern matches any string
        return m["family"], -int(m["n"] or 0)

    return sorted(range(len(items)), key=key)


def family(source: str) -> str:
    """``var/log/mail.log.2.gz`` -> ``var/log/mail.log``."""
    m = _ROTATION.match(source)
    assert m is not None  # the pattern matches any string
    return m["family"]
