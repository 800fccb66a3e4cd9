"""A large IMS log folder: one session per file, as the IMS writes them.

python -m benchmarks.ims_folder OUT [--files 40000] [--seed 1]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
from pathlib import Path

from benchmarks.imsgen import ImsWriter, LogFolder, Session, Truth
from benchmarks.samples import Site


def mixed_session(site: Site, rng: random.Random, t: dt.datetime) -> Session:
    """A day's traffic in one draw: inbound mail (a tenth refused as relaying),
    outbound mail, internal clients sending through the server."""
    if rng.random() < 0.6:
        return site.inbound(t, refusal="Relaying is prohibited" if rng.random() < 0.1 else None)
    if rng.random() < 0.5:
        return site.outbound(t)
    return site.client(t, f"192.168.1.{rng.randint(2, 250)}", accepted=rng.random() < 0.7)


def write_folder(out: Path, files: int, seed: int = 1) -> Truth:
    rng = random.Random(seed)
    site = Site("MAIL01", "bench.example", "5.5.2650.21", rng)
    writer = ImsWriter(f"{site.server}.{site.domain}", site.build, rng)
    folder = LogFolder(out)
    t = dt.datetime(2000, 5, 1)
    for i in range(files):
        t += dt.timedelta(seconds=rng.randint(1, 40))
        s = mixed_session(site, rng, t)
        s.maximum = (i // 1000) % 10 == 9  # one block of files in ten at Maximum logging
        folder.write(writer, [s])
    return folder.truth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--files", type=int, default=40_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    truth = write_folder(args.out, args.files, args.seed)
    print(f"{truth.files} files, {truth.lines} lines in {args.out}")


if __name__ == "__main__":
    main()
