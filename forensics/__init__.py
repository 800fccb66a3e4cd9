"""smtp-forensics: post-mortems of mail relay incidents from SMTP evidence."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("smtp-forensics")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
