"""Credentials in SMTP logs: mask them, and read only the user name an NTLM
AUTHENTICATE message carries in clear (never the responses, never a password)."""

from __future__ import annotations

import base64
import binascii
import struct

import polars as pl

MASK = "[masked]"
# Runs of base64 long enough to be a credential or an NTLM message.
BASE64_RUN = r"[A-Za-z0-9+/]{16,}={0,2}"


def mask_base64(text: pl.Expr) -> pl.Expr:
    """Replace every long base64 run in free text (unparsed lines, error messages)."""
    return text.str.replace_all(BASE64_RUN, MASK)


def ntlm_user(blob: str) -> str | None:
    """``DOMAIN\\user`` from an NTLM type 3 message, or None for anything else."""
    try:
        raw = base64.b64decode(blob, validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(raw) < 52 or raw[:8] != b"NTLMSSP\0" or struct.unpack_from("<I", raw, 8)[0] != 3:
        return None
    flags = struct.unpack_from("<I", raw, 60)[0] if len(raw) >= 64 else 0
    encoding = "utf-16-le" if flags & 0x1 else "cp1252"

    def field(offset: int) -> str:
        length, _, start = struct.unpack_from("<HHI", raw, offset)
        chunk = raw[start : start + length]
        return chunk.decode(encoding, errors="replace")

    domain, user = field(28), field(36)
    if not user:
        return None
    return f"{domain}\\{user}" if domain else user
