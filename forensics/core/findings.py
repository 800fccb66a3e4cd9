"""A finding: what a rule concluded about one subject, with the evidence behind it.

The fields are the public JSON interface of DESIGN.md (Findings, schema
``smtp-forensics/findings/v1``). Four keys are added to the design's list and keep its
meaning: ``saw`` and ``lacked`` name the corroborating evidence the rule found and
the evidence it looked for in vain (the confidence follows from them), and
``change`` is the configuration change the finding is tied to, when there is one.
``resolution_for`` names the server the resolution steps are written for: the
article's own (the Exchange 4.0-5.5 IMS), or the server whose logs the evidence
comes from when the project has steps for it (knowledge/servers.toml).
"""

from __future__ import annotations

import datetime as dt
import string
from dataclasses import dataclass, field, replace
from typing import Any

import polars as pl

from forensics.knowledge import load

SEVERITIES = ("critical", "high", "medium", "low", "info")
RANK = {name: i for i, name in enumerate(SEVERITIES)}

# Evidence rows kept per finding; the total is always reported.
EVIDENCE_CAP = 20
TEXT_CAP = 300


@dataclass
class Finding:
    rule: str
    kb: list[str]
    title: str
    subject: str
    severity: str
    confidence: float
    first_seen: dt.datetime | None
    last_seen: dt.datetime | None
    count: int
    summary: str
    cause: str
    resolution: list[str]
    evidence_total: int
    evidence: list[dict[str, Any]]
    saw: list[str] = field(default_factory=list)
    lacked: list[str] = field(default_factory=list)
    change: dict[str, Any] | None = None
    resolution_for: str = ""
    # The facts the templates were filled with: another server's title or cause is
    # filled from them (for_platform). Not part of the findings file.
    facts: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def sort_key(self) -> tuple[Any, ...]:
        return (RANK[self.severity], -self.confidence, self.rule, self.subject)

    def as_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "kb": self.kb,
            "title": self.title,
            "subject": self.subject,
            "severity": self.severity,
            "confidence": round(self.confidence, 2),
            "first_seen": _iso(self.first_seen),
            "last_seen": _iso(self.last_seen),
            "count": self.count,
            "summary": self.summary,
            "cause": self.cause,
            "resolution": self.resolution,
            "resolution_for": self.resolution_for,
            "saw": self.saw,
            "lacked": self.lacked,
            "change": self.change,
            "evidence_total": self.evidence_total,
            "evidence": self.evidence,
        }


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def at_least(severity: str, threshold: str) -> bool:
    return RANK[severity] <= RANK[threshold]


class _Template(string.Formatter):
    """str.format for the knowledge templates, with plain field names only: a
    template is data and must not reach into the objects it is given."""

    def get_field(self, field_name: str, args: Any, kwargs: Any) -> Any:
        if not field_name.isidentifier():
            raise ValueError(f"template field {field_name!r}: only plain names are allowed")
        return super().get_field(field_name, args, kwargs)


def fill(template: str, facts: dict[str, Any]) -> str:
    return _Template().format(template, **facts)


def rule_meta(rule: str) -> dict[str, Any]:
    meta: dict[str, Any] = load("rules")["rule"][rule]
    return meta


def articles() -> dict[str, dict[str, Any]]:
    return {a["id"]: a for a in load("kb")["article"]}


def resolution(kb: list[str]) -> list[str]:
    """The resolution steps of the article that explains the finding."""
    return list(articles()[kb[0]]["resolution"])


ARTICLE_PLATFORM = "ims"  # the server every KB article the rules cite is about


def platforms() -> dict[str, str]:
    """Format -> the server it comes from, for the formats of one kind of server."""
    return {f["name"]: f["platform"] for f in load("formats")["format"] if "platform" in f}


def platform_of(sources: list[str], formats: dict[str, str]) -> str | None:
    """The server the evidence rows at ``sources`` come from (a finding's listed
    rows, the first in time): the platform with the most rows, by the format of each
    row's file (``formats``: path -> format). None when no row comes from a file of a
    particular server."""
    table = platforms()
    votes: dict[str, int] = {}
    for source in sources:
        platform = table.get(formats.get(source, ""))
        if platform is not None:
            votes[platform] = votes.get(platform, 0) + 1
    if not votes:
        return None
    return min(votes, key=lambda p: (-votes[p], p))  # ties: by name, for stable output


def for_server(section: str, rule: str, platform: str | None) -> Any:
    """What knowledge/servers.toml ``[section.rule]`` holds for ``platform`` (its
    ``other`` entry for any server but the article's), or None. The article's own
    server has an entry only where the rule's text speaks of more servers than it."""
    if platform is None:
        return None
    table = load("servers").get(section, {}).get(rule, {})
    if platform == ARTICLE_PLATFORM:
        return table.get(platform)
    return table.get(platform, table.get("other"))


def for_platform(finding: Finding, platform: str | None) -> Finding:
    """``finding`` as it reads on ``platform``: its title and cause where the
    article's speak of the IMS alone, the resolution steps for that server where the
    project has them (otherwise the article's own, said to be for the server it
    describes), and without the lacked evidence that server could not have written."""
    knowledge = load("servers")
    title = for_server("title", finding.rule, platform)
    cause = for_server("cause", finding.rule, platform)
    steps = for_server("steps", finding.rule, platform)
    if steps is None:
        platform, steps = ARTICLE_PLATFORM, finding.resolution
    # Evidence that cannot exist on this server is not lacking (rules.toml `servers`),
    # and what it can show weighs as much as all the items together: a Postfix
    # finding with everything Postfix can show is as sure as an IMS finding with all.
    meta = rule_meta(finding.rule)
    elsewhere = {
        item["label"]
        for item in meta["evidence"]
        if platform not in item.get("servers", [platform]) and item["label"] not in finding.saw
    }
    weights = {item["label"]: float(item["weight"]) for item in meta["evidence"]}
    possible = sum(w for label, w in weights.items() if label not in elsewhere)
    seen = sum(weights[label] for label in finding.saw)
    confidence = finding.confidence
    if elsewhere and possible > 0:
        confidence = _score(meta, seen * sum(weights.values()) / possible)
    return replace(
        finding,
        confidence=confidence,
        title=title or finding.title,
        cause=fill(cause, finding.facts) if cause else finding.cause,
        resolution=list(steps),
        resolution_for=knowledge["name"][platform],
        lacked=[label for label in finding.lacked if label not in elsewhere],
    )


def judge(rule: str, seen: dict[str, bool]) -> tuple[float, list[str], list[str]]:
    """Confidence from the evidence the rule saw: the base plus the weight of every
    corroborating item seen; the labels of what was seen and what was lacked."""
    meta = rule_meta(rule)
    weight = 0.0
    saw, lacked = [], []
    for item in meta["evidence"]:
        if item["key"] not in seen:
            raise KeyError(f"rule {rule}: no verdict on evidence {item['key']!r}")
        if seen[item["key"]]:
            weight += float(item["weight"])
            saw.append(item["label"])
        else:
            lacked.append(item["label"])
    return _score(meta, weight), saw, lacked


def _score(meta: dict[str, Any], weight: float) -> float:
    """The rule's base confidence plus the weight of what was seen, below certainty."""
    return round(min(float(meta["base"]) + weight, 0.99), 2)


def tempered(finding: Finding) -> Finding:
    """``finding`` at most of medium severity when its confidence is below the policy's
    ``sure_enough`` (rules.toml [policy]), saying so in what it lacked."""
    sure = float(load("rules")["policy"]["sure_enough"])
    if finding.severity not in ("critical", "high") or finding.confidence >= sure:
        return finding
    said = (
        f"confidence {finding.confidence:.2f} below {sure:.2f}: {finding.severity} lowered to "
        "medium until more of the evidence above is at hand"
    )
    return replace(finding, severity="medium", lacked=[*finding.lacked, said])


def severity(rule: str, metrics: dict[str, float]) -> str:
    for entry in rule_meta(rule)["severity"]:
        if all(metrics.get(name, 0) >= minimum for name, minimum in entry.get("when", {}).items()):
            level: str = entry["level"]
            return level
    return "info"


def evidence_rows(frame: pl.DataFrame, text: pl.Expr) -> tuple[int, list[dict[str, Any]]]:
    """The first rows of ``frame`` (which has source, line, ts) as evidence, in time
    order, with ``text`` cut to a readable length; and how many there were."""
    rows = (
        frame.sort("ts", "source", "line", nulls_last=True)
        .head(EVIDENCE_CAP)
        .select(
            "source",
            pl.col("line").cast(pl.Int64),
            pl.col("ts").dt.strftime("%Y-%m-%dT%H:%M:%S").alias("time"),
            text.str.slice(0, TEXT_CAP).alias("text"),
        )
    )
    return frame.height, rows.to_dicts()


def span(frame: pl.DataFrame) -> tuple[dt.datetime | None, dt.datetime | None]:
    row = frame.select(pl.col("ts").min().alias("a"), pl.col("ts").max().alias("b")).row(0)
    return row[0], row[1]


def when(value: dt.datetime | None) -> str:
    """A time as a summary says it."""
    return value.strftime("%Y-%m-%d %H:%M") if value else "an unknown time"


def plural(n: int, word: str) -> str:
    """``1 client``, ``3 clients``: counts in a summary read as a person writes them."""
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def share(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "n/a"
