"""Q168781: outbound mail refused as relaying by the next hop.

Seen four ways, any of which is enough: outbound sessions in which the next hop
answers a RCPT with a relay refusal, NDRs quoting such a refusal that came back
within minutes of sending, MSExchangeIMC event 4031 quoting it, and message paths in
the tracking logs whose NDR was generated seconds after the message was queued out
(with the refusal known from the tracking log, the session or the NDR that came
back). One finding per refusing host; NDRs, events and paths that do not name the
host go to the host that refused most.
"""

from __future__ import annotations

import polars as pl

from forensics.core.findings import Finding, plural, rule_meta, share
from forensics.core.replies import refusal_category
from forensics.rules.base import cited, make, most_common, rcpt_text
from forensics.rules.context import Context

RULE = "immediate-outbound-550"
UNNAMED = "the next hop (not named in the evidence)"


def _ndrs(ctx: Context) -> pl.DataFrame:
    limit = rule_meta(RULE)["settings"]["ndr_max_seconds"]
    delay = (pl.col("ts") - pl.col("original_sent")).dt.total_seconds()
    # Bounces for local recipients are inbound refusals (Q256856), not this.
    return ctx.ndrs.filter(
        (pl.col("refusal") == "relay_denied")
        & (delay.is_null() | (delay <= limit))
        & (pl.col("local") != True).fill_null(True)  # noqa: E712
    ).with_columns(pl.coalesce("remote_mta", pl.lit(None, pl.String)).alias("host"))


def _events(ctx: Context) -> pl.DataFrame:
    code = pl.col("message").str.extract(r"\b([45][0-9][0-9])\b").cast(pl.UInt16, strict=False)
    return ctx.service_events.filter(
        (pl.col("event_source") == "MSExchangeIMC")
        & (pl.col("event_id") == 4031)
        & (refusal_category(code, pl.col("message")) == "relay_denied")
    )


def _tracking(ctx: Context) -> pl.DataFrame:
    return ctx.paths.filter(
        (pl.col("direction") == "outbound")
        & pl.col("immediate_ndr").fill_null(False)
        & (pl.col("refusal") == "relay_denied")
    ).with_columns(pl.col("remote_host").alias("host"))


def evaluate(ctx: Context) -> list[Finding]:
    outbound = ctx.recipients.filter(pl.col("direction") == "outbound")
    refused = outbound.filter(pl.col("refusal") == "relay_denied")
    ndrs, events, tracked = _ndrs(ctx), _events(ctx), _tracking(ctx)
    if refused.height == 0 and ndrs.height == 0 and events.height == 0 and tracked.height == 0:
        return []
    hosts = (
        refused.group_by("client").len().sort(["len", "client"], descending=[True, False])
        if refused.height
        else None
    )
    if hosts is not None:
        subjects = hosts["client"].to_list()
    else:
        subjects = [most_common(ndrs, "host") or most_common(tracked, "host") or UNNAMED]
    inbound_ok = ctx.recipients.filter(
        (pl.col("direction") == "inbound") & pl.col("accepted").fill_null(False)
    )
    results = []
    for i, subject in enumerate(subjects):
        rows = refused.filter(pl.col("client") == subject)
        # Reports that name no host belong with the host that refused the most.
        mine = (pl.col("host") == subject) | (pl.col("host").is_null() & pl.lit(i == 0))
        its_ndrs = ndrs.filter(mine)
        its_events = events if i == 0 else events.clear()
        its_paths = tracked.filter(mine)
        # Each source sees refused recipients: the protocol log all of them, the
        # events one per recipient, the NDRs those users forwarded. Count from the
        # one that saw most (with the column that holds the reply in each).
        primary, said = max(
            (
                (rows, "text"),
                (its_events, "message"),
                (its_ndrs, "remote_text"),
                (its_paths, "text"),
            ),
            key=lambda pair: pair[0].height,
        )
        first, last = primary["ts"].min(), primary["ts"].max()
        given = outbound.filter((pl.col("client") == subject) & (pl.col("ts") >= first))
        during = inbound_ok.filter(pl.col("ts").is_between(first, last))
        if rows.height:
            reply = f"{rows['code'][0]} {rows['text'][0] or ''}".strip()
            recipients = rows["rcpt"].n_unique()
            domains = rows["rcpt_domain"].drop_nulls().unique().sort().to_list()
        else:
            reply = most_common(primary, said).split("reported: ")[-1]
            recipients = primary.height
            domains = []
        corroboration = []
        if its_ndrs.height:
            corroboration.append(f"{its_ndrs.height:,} NDR recipients")
        if its_events.height:
            corroboration.append(f"{its_events.height:,} MSExchangeIMC 4031 events")
        if its_paths.height:
            corroboration.append(
                f"{its_paths.height:,} immediate NDRs in the message tracking log "
                f"(median {its_paths['seconds_to_ndr'].median():.0f} s after queueing)"
            )
        facts = {
            "recipients": plural(recipients, "recipient"),
            "domains": _domains(domains),
            "reply": reply,
            "share": share(rows.height, given.height) if rows.height else "n/a",
            "corroboration": ("; also " + " and ".join(corroboration)) if corroboration else "",
            "inbound_ok": (
                f" (inbound mail kept arriving meanwhile: {during.height:,} RCPTs accepted)"
                if during.height
                else ""
            ),
        }
        seen = {
            "protocol": rows.height > 0,
            "ndr": its_ndrs.height > 0,
            "event": its_events.height > 0,
            "tracking": its_paths.height > 0,
            "inbound_ok": during.height > 0,
            "version": ctx.version_matches("Q168781"),
        }
        count = primary.height
        results.append(
            make(
                RULE,
                subject,
                count=count,
                first=first,
                last=last,
                facts=facts,
                seen=seen,
                metrics={"share": rows.height / given.height if given.height else 0.0},
                evidence=[
                    cited(rows, rcpt_text()),
                    cited(
                        its_ndrs,
                        pl.concat_str(
                            [
                                pl.lit("NDR for "),
                                pl.col("recipient"),
                                pl.lit(": "),
                                pl.col("diagnostic"),
                            ],
                            ignore_nulls=True,
                        ),
                    ),
                    cited(its_events, pl.lit("event 4031: ") + pl.col("message")),
                    cited(
                        its_paths,
                        pl.format(
                            "tracking: NDR for {} {} s after queueing ({})",
                            pl.col("recipient"),
                            pl.col("seconds_to_ndr").round(0).cast(pl.Int64),
                            pl.col("message_id"),
                        ),
                    ),
                ],
            )
        )
    return results


def _domains(domains: list[str]) -> str:
    if not domains:
        return "the refused domains"
    shown = ", ".join(domains[:3])
    return f"{plural(len(domains), 'domain')} ({shown}{', ...' if len(domains) > 3 else ''})"
