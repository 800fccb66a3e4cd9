"""Time every grammar on long lines built to defeat it (issue: no quadratic regex).

    python -m benchmarks.adversarial

For each grammar and length (10, 40, 100 KB): the default engine (the regex twin,
pyparsing only for misses up to lineparse.FALLBACK_MAX_CHARS), and pyparsing itself
on a line of the cap's length. Times grow linearly in the first column; the last
column is the most the fallback can cost one line."""

from __future__ import annotations

import time

import polars as pl

from forensics.core import lineparse
from tests.test_hostile import _every_grammar


def _lines(word: str, size: int) -> list[str]:
    return [
        word * max(size // max(len(word), 1), 1),
        "#" + "Message subject: " * (size // 17) + "Rescheduling delivery for later",
    ]


def main() -> None:
    print(f"{'grammar':<34} {'10 KB':>8} {'40 KB':>8} {'100 KB':>8} {'exact@cap':>10}")
    worst = 0.0
    for name, grammar in _every_grammar():
        word = grammar.needle or "x"
        cells = []
        for size in (10_000, 40_000, 100_000):
            start = time.perf_counter()
            lineparse.extract(pl.Series(_lines(word, size)), grammar)
            cells.append(time.perf_counter() - start)
        start = time.perf_counter()
        lineparse.extract(pl.Series(_lines(word, lineparse.FALLBACK_MAX_CHARS)), grammar, "exact")
        cap = time.perf_counter() - start
        worst = max(worst, cap, *cells)
        print(f"{name:<34} " + " ".join(f"{c:8.3f}" for c in cells) + f" {cap:10.3f}")
    print(f"slowest: {worst:.3f} s")


if __name__ == "__main__":
    main()
