"""smtp-forensics: post-mortems of mail relay incidents from SMTP evidence."""

from __future__ import annotations

# The one place the version is written: pyproject.toml reads it from here, where
# asking importlib.metadata would cost every run 50 ms of scanning installed packages.
__version__ = "0.1.0"
