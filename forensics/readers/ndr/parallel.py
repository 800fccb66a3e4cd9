"""Reading mail in two processes: the later files in a worker, the first ones here,
joined in file order; the email package is pure Python, so a second core halves it."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from forensics.readers.ndr.files import Part, read_texts

# Reading mail is pure Python (the email package): past this much text, half of the
# files are read in a second process while this one reads the other half. Below it,
# starting a process costs more than it saves.
PARALLEL_MIN_CHARS = 4_000_000
# A worker process takes about 0.4 s to start (it imports the reader), the time this
# one needs to read about this much mail: the worker's share is smaller by as much.
_WORKER_START_CHARS = 2_000_000


def read_in_two(texts: list[str], sources: list[str]) -> tuple[Part, int]:
    """The later files in a worker process, the first ones (a little over half of
    the text) here; joined in file order. A worker that cannot start or dies
    leaves the work here: (the parts, the processes that read them)."""
    goal, here, cut = (sum(map(len, texts)) + _WORKER_START_CHARS) // 2, 0, 0
    while cut < len(texts) - 1 and here < goal:
        here += len(texts[cut])
        cut += 1
    try:
        # forkserver: the worker starts from a clean process, not a fork of this one
        # and its polars threads. It finds read_texts by its module path.
        context = multiprocessing.get_context("forkserver")
        with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
            later = pool.submit(read_texts, texts[cut:], sources[cut:])
            first = read_texts(texts[:cut], sources[:cut])
            second = later.result()
    except (OSError, BrokenProcessPool, ValueError):
        # No process to be had (OSError), a worker that died (BrokenProcessPool), a
        # platform without forkserver (ValueError): this process reads it all.
        return read_texts(texts, sources), 1
    joined = (
        first[0] + second[0],
        first[1] + second[1],
        first[2] + second[2],
        first[3] + second[3],
    )
    return joined, 2
