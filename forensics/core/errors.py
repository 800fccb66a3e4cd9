"""Exit codes and expected errors, defined once.

Every expected failure is a :class:`ForensicsError` whose message is one line that
says what went wrong, where, and what to do. The CLI prints it and exits with its
code; a traceback appears only with ``--debug``.
"""

from __future__ import annotations

EXIT_OK = 0  # success, whatever was found
EXIT_FINDINGS = 1  # --fail-on: a finding at or above that severity exists
EXIT_USAGE = 2  # bad option or path, nothing readable, output not writable
EXIT_INTERNAL = 3  # a bug: please report it with the --debug traceback
EXIT_INTERRUPTED = 130  # Ctrl-C (SIGINT), as shells report a process it ended

EXIT_CODES = {
    EXIT_OK: "success, whatever was found",
    EXIT_FINDINGS: "--fail-on: a finding at or above that severity exists",
    EXIT_USAGE: "usage error: bad option or path, nothing readable, output not writable",
    EXIT_INTERNAL: "internal error (a bug): rerun with --debug and report the traceback",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C); every output already written is whole",
}


class ForensicsError(Exception):
    """An expected failure with a one-line message for the user."""

    exit_code = EXIT_USAGE


class InputError(ForensicsError):
    """A given path is missing, or nothing under it can be read."""


class OutputError(ForensicsError):
    """A report or frame file cannot be written where asked."""


class UsageError(ForensicsError):
    """Options that contradict each other."""
