"""A failed recipient as one report form names it: what every form's reader returns."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Row:
    recipient: str
    generator: str
    reason_text: str | None = None
    diagnostic: str | None = None
    action: str | None = None
    dsn_status: str | None = None
    remote_mta: str | None = None
    msexch: dict[str, str] = field(default_factory=dict)
