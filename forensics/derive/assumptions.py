"""What the analysis assumed, said once for the JSON and the report: the readers'
own (the year of yearless stamps), each format's times, the order of ambiguous
dates, and every local domain taken without proof. Each row names the option that
sets it otherwise."""

from __future__ import annotations

import polars as pl

from forensics.core import frames
from forensics.knowledge import load

# Local domains of these origins rest on an inference, not on proof.
INFERRED_ORIGINS = ("server-name", "inferred")


def build(
    read: pl.DataFrame, inputs: pl.DataFrame, domains: pl.DataFrame, date_order: str
) -> pl.DataFrame:
    """``read``: the readers' assumptions rows; ``inputs`` the inputs table."""
    table = {f["name"]: f for f in load("formats")["format"]}
    present = [f for f in dict.fromkeys(inputs["format"].to_list()) if f in table]
    rows: list[dict[str, str | None]] = []
    for name in present:
        if "times" in table[name]:
            rows.append(
                {
                    "what": f"the times of the {name} files are {table[name]['times']}",
                    "why": "how that format writes its times",
                    "override": None,
                    "source": None,
                }
            )
    if any(table[name].get("ambiguous_dates") for name in present):
        order = {"mdy": "month/day/year", "dmy": "day/month/year", "ymd": "year/month/day"}
        rows.append(
            {
                "what": f"dates such as 5/6/00 are read {order[date_order]}",
                "why": f"the server's locale as --date-order gives it ({date_order}; the US "
                "order, mdy, when not given)",
                "override": "--date-order",
                "source": None,
            }
        )
    guessed = domains.filter(pl.col("origin").is_in(INFERRED_ORIGINS)).sort("domain")
    for row in guessed.iter_rows(named=True):
        where = f" ({row['source']}:{row['line']})" if row["source"] else ""
        rows.append(
            {
                "what": f"{row['domain']} is a local domain of the analysed server",
                "why": f"{row['note']}{where}",
                "override": "--local-domain (replaces every inference)",
                "source": row["source"],
            }
        )
    extra = pl.DataFrame(rows, schema=frames.ASSUMPTIONS)
    return pl.concat([frames.conform(read, frames.ASSUMPTIONS), extra])
