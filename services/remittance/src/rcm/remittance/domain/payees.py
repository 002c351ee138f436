"""Whether an 835 pays us: its payee (1000B) against the identifiers the practice is paid under.

005010X221A1 names the payee in N1*PE: N103 ``XX`` with the NPI, ``FI`` with the federal tax id
(``XV`` a CMS plan id), and may add REF*TJ (federal tax id) or REF*PQ (the payer's payee id). A
clearinghouse mailbox can carry another practice's 835, and its patient control numbers may
name claims of ours: such an 835 is held for a person, never posted to our claims. Identifiers
are compared written one way (upper case, without spaces and hyphens: ``12-3456789`` and
``123456789`` alike). No identifiers configured: not checked.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["PAYEE_REFERENCES", "payee_key", "pays_us"]

PAYEE_REFERENCES = frozenset({"TJ", "PQ"})
"""1000B REF qualifiers that identify the payee (federal tax id, payer's payee id)."""


def payee_key(value: str) -> str:
    return "".join(ch for ch in value.upper() if ch.isalnum())


def pays_us(payee_ids: Iterable[str], ours: Iterable[str]) -> bool:
    """Whether any identifier the 835 names its payee by is one of ``ours`` (True when ``ours``
    is empty: the check is off)."""
    our_keys = {payee_key(v) for v in ours} - {""}
    if not our_keys:
        return True
    return bool(our_keys & {payee_key(v) for v in payee_ids})
