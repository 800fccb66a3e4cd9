"""The rules: each module is one rule, a function of the frames returning findings.

Rule ids are a public interface (DESIGN.md, Findings); their titles, articles,
templates and policies are data (knowledge/rules.toml, knowledge/kb.toml).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from forensics.core.findings import Finding, for_platform, platform_of, tempered
from forensics.core.frames import Frames
from forensics.rules import (
    allowed_client_refused,
    immediate_outbound_550,
    ims_crash_relayflags,
    open_relay,
    relay_not_allowed_relayflags,
    relay_probing,
    relay_prohibited_local,
    unexpected_relay_after_change,
)
from forensics.rules.context import Context

RULES: dict[str, Callable[[Context], list[Finding]]] = {
    module.RULE: module.evaluate
    for module in (
        immediate_outbound_550,
        relay_prohibited_local,
        relay_not_allowed_relayflags,
        allowed_client_refused,
        unexpected_relay_after_change,
        ims_crash_relayflags,
        open_relay,
        relay_probing,
    )
}


def evaluate(
    frames: Frames,
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    only: set[str] | None = None,
) -> list[Finding]:
    """Every rule's findings over ``frames`` (restricted to the window), most severe
    first, in a deterministic order."""
    ctx = Context(frames, since=since, until=until)
    found = [f for rule, run in RULES.items() if only is None or rule in only for f in run(ctx)]
    # What to do depends on the server the evidence comes from, whatever the rule.
    formats = dict(frames.inputs.select("path", "format").iter_rows())
    found = [
        tempered(for_platform(f, platform_of([e["source"] for e in f.evidence], formats)))
        for f in found
    ]
    return sorted(found, key=Finding.sort_key)
