"""A large Postfix mail.log: a steady mix of inbound mail (a tenth of it refused as
relaying), outbound mail and internal clients relaying, as one file.

python -m benchmarks.postfix_log OUT [--lines 1000000] [--seed 1]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
from pathlib import Path

from benchmarks.imsgen import Truth
from benchmarks.postfixgen import PostfixWriter
from benchmarks.samples import Site, address_of


def write_log(path: Path, lines: int, seed: int = 1) -> Truth:
    rng = random.Random(seed)
    site = Site("MAIL01", "bench.example", "", rng)
    writer = PostfixWriter("mail01", {site.domain}, address_of, rng)
    t = dt.datetime(2000, 5, 1)
    while writer.pending < lines:
        t += dt.timedelta(seconds=rng.randint(1, 6))
        pick = rng.random()
        if pick < 0.55:
            refused = "Relaying is prohibited" if rng.random() < 0.1 else None
            writer.add(site.inbound(t, refusal=refused))
        elif pick < 0.8:
            writer.add(site.outbound(t))
        else:
            ip = f"192.168.1.{rng.randint(2, 250)}"
            writer.add(site.client(t, ip, accepted=rng.random() < 0.7))
    return writer.write(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    truth = write_log(args.out, args.lines, args.seed)
    print(f"{truth.lines} lines, sessions {dict(truth.sessions)} in {args.out}")


if __name__ == "__main__":
    main()
