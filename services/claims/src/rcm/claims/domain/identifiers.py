"""Claim and line keys that survive the round trip through payers.

Payers must echo only 20 characters of CLM01 and 30 of REF*6R, so a UUID does not fit.
The claim key is 17 characters of upper-case base32 (A-Z, 2-7: URL-safe, no padding) of
a SHA-256 over the session id, the payer order and the revision, so a redelivered
session always gets the same keys. Each line key is the claim key plus the line number.
"""

from __future__ import annotations

import base64
import hashlib
import re

__all__ = ["CLAIM_KEY_LENGTH", "LINE_KEY_MAX_LENGTH", "claim_key", "is_claim_key", "line_key"]

CLAIM_KEY_LENGTH = 17
LINE_KEY_MAX_LENGTH = 30
MAX_LINES = 50
_CLAIM_KEY = re.compile(rf"^[A-Z2-7]{{{CLAIM_KEY_LENGTH}}}$")


def claim_key(session_id: str, *, payer_order: int = 1, revision: int = 0) -> str:
    """The CLM01 key of the claim for ``session_id`` to its ``payer_order``-th payer.

    ``revision`` counts new originals of the same session (after a void, say); corrected
    claims (frequency 7) keep the original key.
    """
    if not session_id:
        raise ValueError("a claim key needs a session id")
    if payer_order < 1 or revision < 0:
        raise ValueError("payer order starts at 1 and revision at 0")
    seed = f"session={session_id}\x1fpayer_order={payer_order}\x1frevision={revision}"
    digest = hashlib.sha256(seed.encode()).digest()
    return base64.b32encode(digest).decode("ascii")[:CLAIM_KEY_LENGTH]


def is_claim_key(value: str) -> bool:
    """True when ``value`` has the shape of a claim key."""
    return bool(_CLAIM_KEY.match(value))


def line_key(claim: str, line_number: int) -> str:
    """The REF*6R key of line ``line_number`` (1-based) of claim ``claim``, e.g. 'ABC...L01'."""
    if not 1 <= line_number <= MAX_LINES:
        raise ValueError(f"an 837P claim has 1 to {MAX_LINES} lines")
    key = f"{claim}L{line_number:02d}"
    if len(key) > LINE_KEY_MAX_LENGTH:
        raise ValueError("line key longer than REF*6R allows")
    return key
