"""Mail the server's own users or the server itself sent, which is never relaying
by an outside client: authenticated submission (SASL, AUTH), mail from a loopback
address (local programs, a content filter on localhost re-injecting on 10025/10026),
and mail coming back from a content filter the server handed it to (an
after-queue filter on another address, reached on a port other than SMTP's)."""

from __future__ import annotations

import polars as pl

from forensics.knowledge import load


def filter_addresses(events: pl.DataFrame) -> list[str]:
    """Addresses this server handed mail to on a port that is not a mail port
    (knowledge/domains.toml [submission]): its content filters. The readers name the
    hand-off in the text of an accepted RCPT's reply or of an outbound connect."""
    table = load("domains")["submission"]
    handed = events.filter(
        pl.col("text").str.contains("relay=", literal=True).fill_null(False)
    ).select(pl.col("text").str.extract_groups(table["filter_relay"]).alias("_relay"))
    found = handed.unnest("_relay").filter(
        pl.col("addr").is_not_null() & ~pl.col("port").is_in(table["mail_ports"])
    )
    return sorted(set(found["addr"].to_list()))


def mark(recipients: pl.DataFrame, sessions: pl.DataFrame, events: pl.DataFrame) -> pl.DataFrame:
    """Set ``recipients.own`` (see :func:`own_submission`), once for every later step."""
    auth = sessions.select("session", pl.col("auth_user").alias("_auth"))
    joined = recipients.join(auth, on="session", how="left", maintain_order="left")
    own = own_submission(pl.col("_auth"), pl.col("remote_ip"), filter_addresses(events))
    return joined.with_columns(own.alias("own")).drop("_auth")


def own_submission(
    auth_user: pl.Expr, remote_ip: pl.Expr, filters: list[str] | None = None
) -> pl.Expr:
    """True for mail the server's users or the server itself sent."""
    loopback = remote_ip.str.starts_with("127.") | remote_ip.is_in(["::1", "0:0:0:0:0:0:0:1"])
    own = auth_user.is_not_null() | loopback.fill_null(False)
    if filters:
        own = own | remote_ip.is_in(filters).fill_null(False)
    return own
