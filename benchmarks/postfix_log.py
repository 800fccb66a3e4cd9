"""A large Postfix mail.log: the benchmark's IMS traffic mix (ims_folder.mixed_session)
as one Postfix log.

python -m benchmarks.postfix_log OUT [--lines 1000000] [--seed 1]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
from pathlib import Path

from benchmarks.ims_folder import mixed_session
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
        writer.add(mixed_session(site, rng, t))
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
