"""Writing what the tool makes: never over the evidence, never through a link, never
half a file.

An output path is refused before anything is read when it is a symbolic link (a
link planted in an evidence folder could point anywhere), when it resolves to an
input file, or when it lies inside an input folder (the evidence stays as it was
collected, with nothing written next to it). Every file is written to a temporary
file in its target folder and renamed into place: a run that is interrupted, or two
runs at once, leave the old file or the new one, never a mix or a truncated file.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from forensics.core.errors import OutputError


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def guard(outputs: Iterable[tuple[str, Path]], inputs: Iterable[Path]) -> None:
    """Raise :class:`OutputError` (exit 2, one line) for the first output, given as
    (option, path), that is a link or would land on or among the evidence."""
    roots = [Path(os.path.realpath(p)) for p in inputs]
    for option, path in outputs:
        if path.is_symlink():
            raise OutputError(
                f"{option} {path} is a symbolic link; outputs are never written through "
                "links: name a plain file"
            )
        target = Path(os.path.realpath(path))
        for root in roots:
            if target == root or (root.is_dir() and _inside(target, root) and target.is_file()):
                raise OutputError(
                    f"{option} {path} is an input file; the evidence is never overwritten: "
                    "choose another place"
                )
            if root.is_dir() and _inside(target, root):
                raise OutputError(
                    f"{option} {path} lies inside the evidence folder {root}; nothing is "
                    "written among the evidence: choose a place outside it"
                )


def _mode() -> int:
    """What a new file's mode would be under this process's umask (mkstemp makes 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


_MODE = _mode()


def write_bytes(path: Path, data: bytes) -> None:
    """``data`` into ``path`` atomically: a temporary file beside it, then a rename
    (which replaces a name, never follows it). Raises OSError."""
    folder = path.parent if str(path.parent) else Path(".")
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=folder)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            os.fchmod(out.fileno(), _MODE)
        os.replace(temporary, path)
    except BaseException:
        # Interrupted or failed: the old file stays, the temporary one goes.
        Path(temporary).unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))
