"""Which of our payers an 835 comes from.

The 835 names its payer by TRN03 (``1`` and a nine-character id, often the payer's EIN), N1*PR
N104 and REF*2U; the 837 names it by the electronic payer id of ``payer-updated`` (or the id a
clearinghouse uses for it). Both are compared written one way: upper case, without spaces and
leading zeros, and TRN03 also without its leading ``1``. A payment whose identifiers name exactly
one payer belongs to it; none or several leave the payer unknown, and nothing is guessed.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["identifier_key", "payer_keys", "remit_payer_keys", "resolve_payer"]


def identifier_key(value: str) -> str:
    """A payer identifier written one way (``" 00060054 "`` and ``"60054"`` alike)."""
    return "".join(value.split()).upper().lstrip("0")


def payer_keys(electronic_payer_id: str, clearinghouse_payer_ids: Iterable[str] = ()) -> list[str]:
    """The keys one of our payers is known by."""
    keys = {identifier_key(v) for v in (electronic_payer_id, *clearinghouse_payer_ids)}
    return sorted(keys - {""})


def remit_payer_keys(
    trace_originator: str | None, payer_identifier: str | None, additional_ids: Iterable[str] = ()
) -> tuple[str, ...]:
    """The keys an 835 names its payer by: TRN03 (and TRN03 without the ``1`` it starts with),
    N1*PR N104 and REF*2U."""
    keys: list[str] = []
    values = [trace_originator, payer_identifier, *additional_ids]
    if trace_originator and trace_originator.strip().startswith("1"):
        values.append(trace_originator.strip()[1:])
    for value in values:
        key = identifier_key(value or "")
        if key and key not in keys:
            keys.append(key)
    return tuple(keys)


def resolve_payer(found: Iterable[str]) -> str | None:
    """The payer the identifiers name, when they name exactly one."""
    payers = set(found)
    return payers.pop() if len(payers) == 1 else None
