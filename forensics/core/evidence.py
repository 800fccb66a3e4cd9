"""Find the evidence: walk the given paths, read every file once, read-only, hash it,
decompress it, decode it and decide by content what format it is.

Nothing found here is dropped: every file becomes an :class:`Evidence`, and the ones
that cannot be read say why in ``note``.
"""

from __future__ import annotations

import bz2
import codecs
import hashlib
import os
import stat
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# A compressed file may expand to at most this much text; past it the rest is not
# read and the file's note says so (decompression bombs, runaway archives).
MAX_EXPANDED_BYTES = 1 << 30
_CONTROL_BYTES = bytes(b for b in range(32) if b not in b"\t\n\r\x0c\x1b") + b"\x7f"


@dataclass
class Evidence:
    """One input file and what discovery learned of it."""

    source: str  # path relative to the input root: what findings cite
    path: str  # where it is on disk (a str: a Path per file costs more than hashing it)
    mtime: float | None = None  # the file's modification time (weak evidence of when)
    sha256: str = ""
    size: int = 0
    compression: str | None = None
    encoding: str | None = None
    format: str = "unknown"
    text: str | None = None
    note: str | None = None
    # The programs a syslog file's lines are of, with their line counts.
    programs: str | None = None
    # The server whose log it is, as its lines name it (a syslog host, a banner).
    host: str | None = None


class NoInputError(Exception):
    """A given path does not exist or holds no file at all."""


class _NotAFile(OSError):
    """A folder, device, socket or pipe where a file was expected."""


_READ_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_BINARY", 0)
    # A FIFO planted among the evidence must not block the run.
    | getattr(os, "O_NONBLOCK", 0)
)


@dataclass
class _Read:
    """A file as read: the bytes kept for parsing (at most MAX_PARSED_BYTES), and the
    size and SHA-256 of the whole file, however large."""

    data: bytes
    size: int
    sha256: str
    mtime: float


# A file is parsed up to this many bytes; past them it is still read to the end and
# hashed whole, and its note says how much was parsed.
MAX_PARSED_BYTES = 1 << 30
_CHUNK = 8 << 20


def _read_bytes(path: str) -> _Read:
    """The file, read-only, to its end, in chunks: the hash and size are of every
    byte (one read call returns at most about 2 GiB, so a single read would cut a
    larger file short). O_NOATIME keeps even the access time of the evidence as it
    was; the kernel allows it only to the owner (or root)."""
    try:
        fd = os.open(path, _READ_FLAGS | getattr(os, "O_NOATIME", 0))
    except PermissionError:
        fd = os.open(path, _READ_FLAGS)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _NotAFile(0, "not a regular file")
        digest = hashlib.sha256()
        kept: list[bytes] = []
        room, size = MAX_PARSED_BYTES, 0
        # A small file comes in one read (its size and one byte more: a short read is
        # the end); a large one, or one that grows, in chunks.
        first = min(info.st_size + 1, _CHUNK)
        while chunk := os.read(fd, first if size == 0 else _CHUNK):
            digest.update(chunk)
            size += len(chunk)
            if room > 0:
                kept.append(chunk[:room])
                room -= len(kept[-1])
        return _Read(b"".join(kept), size, digest.hexdigest(), info.st_mtime)
    finally:
        os.close(fd)


def _decompress(raw: bytes) -> tuple[bytes, str | None, str | None]:
    """(data, compression, note). Sniffed by magic bytes, not by file name. Reads
    concatenated members, stops at the size cap, keeps what a damaged or truncated
    stream yielded."""
    if raw[:2] == b"\x1f\x8b":
        kind, magic = "gzip", b"\x1f\x8b"

        def make() -> Any:
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif raw[:3] == b"BZh":
        kind, magic = "bzip2", b"BZh"

        def make() -> Any:
            return bz2.BZ2Decompressor()
    else:
        return raw, None, None
    out = bytearray()
    note = None
    inflater, data = make(), raw
    try:
        while True:
            out += inflater.decompress(data, MAX_EXPANDED_BYTES + 1 - len(out))
            data = inflater.unconsumed_tail if kind == "gzip" else b""
            if len(out) > MAX_EXPANDED_BYTES:
                del out[MAX_EXPANDED_BYTES:]
                note = (
                    f"expands beyond {MAX_EXPANDED_BYTES:,} bytes (a decompression bomb?); "
                    "only the first part read"
                )
                break
            if inflater.eof:
                rest = inflater.unused_data
                if not rest.startswith(magic):
                    break
                inflater, data = make(), rest  # concatenated members (appended rotations)
                continue
            starved = not data if kind == "gzip" else inflater.needs_input
            if starved:
                note = f"truncated {kind} stream; read what could be decompressed"
                break
    except (OSError, EOFError, zlib.error, ValueError) as exc:
        note = f"damaged {kind} stream ({exc}); read what could be decompressed"
    return bytes(out), kind, note


def _decode(data: bytes) -> tuple[str | None, str]:
    """(text, encoding); text is None for binary data."""
    if data.startswith(codecs.BOM_UTF16_LE):
        return data[2:].decode("utf-16-le", errors="replace"), "utf-16-le"
    if data.startswith(codecs.BOM_UTF16_BE):
        return data[2:].decode("utf-16-be", errors="replace"), "utf-16-be"
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    head = data[:4096]
    # UTF-16 without BOM shows a NUL in every other byte.
    if 0 in head and head[1::2].count(0) > len(head) // 3 and head[0::2].count(0) == 0:
        return data.decode("utf-16-le", errors="replace"), "utf-16-le"
    # Text has few control bytes (a stray NUL in a log is still text); binaries many.
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    if controls * 20 > len(head):
        return None, "binary"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        # The Windows-era default; five undefined bytes become U+FFFD.
        return data.decode("cp1252", errors="replace"), "cp1252"


# What decides a text's format: the reader registry's sniffer, given by the caller
# (this layer knows files, not formats). It returns "unknown" for a text no reader takes.
Sniffer = Callable[[str], str]
# A sniffer sees at most this much of the text.
SNIFF_CHARS = 64 * 1024


def examine(path: str | Path, source: str, sniff: Sniffer, force: str | None = None) -> Evidence:
    """Read one file and learn what it is (or take it for ``force``, the format the
    user named). Never raises for a bad file."""
    item = Evidence(source=source, path=str(path))
    try:
        read = _read_bytes(str(path))
    except MemoryError:
        item.format = "unreadable"
        item.note = "too large to read into this machine's memory; the rest was analysed"
        return item
    except FileNotFoundError:
        item.format = "unreadable"
        item.note = "dangling symbolic link" if os.path.islink(path) else "vanished while reading"
        return item
    except OSError as exc:
        item.format, item.note = "unreadable", f"unreadable: {exc.strerror or exc}"
        return item
    raw, item.mtime, item.size, item.sha256 = read.data, read.mtime, read.size, read.sha256
    if not raw:
        item.format, item.note = "empty", "empty file"
        return item
    data, item.compression, item.note = _decompress(raw)
    if read.size > len(raw):
        cut = (
            f"{read.size:,} bytes, hashed whole; only the first {len(raw):,} parsed "
            "(MAX_PARSED_BYTES)"
        )
        item.note = "; ".join(n for n in (item.note, cut) if n)
    text, item.encoding = _decode(data)
    if text is None:
        item.format = "binary"
        item.note = item.note or "binary content"
        return item
    item.format = force or sniff(text[:SNIFF_CHARS])
    if item.format == "unknown":
        item.note = item.note or "not a format this tool reads"
    else:
        item.text = text
    return item


_LOOP = "symbolic link to a folder already read (loop or duplicate)"
_OUTSIDE = (
    "symbolic link to a folder outside the evidence given (not followed; --follow-links follows it)"
)
_SPECIAL = "symbolic link into /proc, /sys or /dev (never followed: it would walk the machine)"
# Kernel file systems: a link into them would walk the machine, not the evidence.
_SPECIAL_ROOTS = ("/proc", "/sys", "/dev")


def _listing(folder: str) -> list[os.DirEntry[str]]:
    with os.scandir(folder) as it:
        return sorted(it, key=lambda e: e.name)


def _special(path: str) -> bool:
    """Whether ``path`` resolves into a kernel file system (/proc, /sys, /dev)."""
    real = os.path.realpath(path)
    return any(real == r or real.startswith(r + os.sep) for r in _SPECIAL_ROOTS)


def _outside(path: str, roots: list[str]) -> bool:
    """Whether a followed link lands outside every evidence root (or in /proc, ...)."""
    real = os.path.realpath(path)
    if _special(path):
        return True
    return not any(real == r or real.startswith(r.rstrip(os.sep) + os.sep) for r in roots)


def _walk(
    folder: str, rel: str, seen: set[tuple[int, int]], roots: list[str], follow: bool = False
) -> Iterator[tuple[str, str, str | None]]:
    """(path, relative path, note) of every file below ``folder``, in name order,
    following folder links once each and only inside the evidence roots (``follow``:
    out of them too, never into /proc, /sys or /dev). Notes mark what is not to be
    read. Iterative: a tree of any depth is walked (a recursion stops near a
    thousand levels)."""
    stack: list[Iterator[tuple[str, str, str]]] = [iter([(folder, rel, "dir")])]
    while stack:
        step = next(stack[-1], None)
        if step is None:
            stack.pop()
            continue
        here, here_rel, kind = step
        if kind == "file":
            yield here, here_rel, None
            continue
        if kind in ("outside", "special"):
            yield here, here_rel, _OUTSIDE if kind == "outside" else _SPECIAL
            continue
        try:
            info = os.stat(here)
            key = (info.st_dev, info.st_ino)
            if key in seen:
                yield here, here_rel, _LOOP
                continue
            seen.add(key)
            entries = _listing(here)
        except OSError as exc:
            yield here, here_rel, f"unreadable folder: {exc.strerror or exc}"
            continue
        stack.append(iter([_kind(entry, here_rel, roots, follow) for entry in entries]))


def _kind(
    entry: os.DirEntry[str], rel: str, roots: list[str], follow: bool = False
) -> tuple[str, str, str]:
    """(path, relative path, what it is: dir, file, or outside: a link to a folder
    out of the evidence, not followed)."""
    child = f"{rel}/{entry.name}" if rel else entry.name
    try:
        is_dir = entry.is_dir()  # follows links; cached from the listing otherwise
        is_link = is_dir and entry.is_symlink()
    except OSError:
        is_dir = is_link = False
    if is_link and _special(entry.path):
        return entry.path, child, "special"
    if is_link and not follow and _outside(entry.path, roots):
        return entry.path, child, "outside"
    return entry.path, child, "dir" if is_dir else "file"


def _reached_through(path: str, roots: list[str]) -> str | None:
    """The note of a file whose real place is outside every evidence root: it was
    reached through a link that --follow-links followed."""
    real = os.path.realpath(path)
    if any(real == r or real.startswith(r.rstrip(os.sep) + os.sep) for r in roots):
        return None
    return f"reached through a link out of the evidence (followed with --follow-links): {real}"


def discover(
    paths: Iterable[str | os.PathLike[str]], sniff: Sniffer, *, follow_links: bool = False
) -> list[Evidence]:
    """Every file under ``paths``, examined. Raises :class:`NoInputError` when a path
    does not exist (a typo should stop the run, not yield an empty report)."""
    return list(iter_discover(paths, sniff, follow_links=follow_links))


def iter_discover(
    paths: Iterable[str | os.PathLike[str]], sniff: Sniffer, *, follow_links: bool = False
) -> Iterator[Evidence]:
    """:func:`discover`, one file at a time, so reading can start at once. The paths
    are checked when this is called, before anything is read. ``follow_links``:
    folder links out of the evidence roots are followed too (never into /proc, /sys
    or /dev), and each file reached so says so in its note."""
    roots = [Path(p) for p in paths]
    for root in roots:
        if not root.exists() and not root.is_symlink():
            raise NoInputError(f"{root}: no such file or directory")
    return _examine_all(roots, sniff, follow_links)


def _examine_all(roots: list[Path], sniff: Sniffer, follow: bool = False) -> Iterator[Evidence]:
    seen: set[tuple[int, int]] = set()
    several = len(roots) > 1
    real_roots = [os.path.realpath(r) for r in roots]
    for root in roots:
        if not root.is_dir():
            yield examine(root, root.name, sniff)
            continue
        top = root.name if several else ""
        for path, rel, note in _walk(str(root), top, seen, real_roots, follow):
            if note in (_LOOP, _OUTSIDE, _SPECIAL):
                yield Evidence(source=rel, path=path, format="link", note=note)
            elif note:
                yield Evidence(source=rel, path=path, format="unreadable", note=note)
            else:
                item = examine(path, rel, sniff)
                linked = _reached_through(path, real_roots) if follow else None
                if linked:
                    item.note = "; ".join(x for x in (item.note, linked) if x)
                yield item
