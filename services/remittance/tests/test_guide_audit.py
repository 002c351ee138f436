"""005010X221A1 reading and posting rules found missing in an audit, each with a synthetic 835."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from rcm.remittance import store as t
from rcm.remittance.testing import Ledger, claim_for, paid, remit_835

D = Decimal
DOS = date(2025, 3, 3)


def _renumbered(content: bytes, control: int, st02: str) -> bytes:
    """``content`` (built with ``control``) with its transaction set numbered ``st02``."""
    number = f"{control:04d}".encode()
    return content.replace(b"ST*835*" + number, b"ST*835*" + st02.encode()).replace(
        b"*" + number + b"~", b"*" + st02.encode() + b"~"
    )


async def test_a_broken_set_holds_only_its_own_interchange_when_st02_repeats(ledger: Ledger) -> None:
    # two interchanges in one file, each numbering its set 0001; the second's claim is unreadable
    await ledger.add_claims([claim_for(1, claim_id="clm-0901"), claim_for(2, claim_id="clm-0902")])
    good = remit_835([paid("clm-0901", "ICN-901")], trace="EFT-901", control=1)
    bad = _renumbered(remit_835([paid("clm-0902", "ICN-902")], trace="EFT-902", control=2), 2, "0001")
    bad = bad.replace(b"CLP*clm-0902*1*170.00", b"CLP*clm-0902*1*1X0.00")
    posted = await ledger.post(good + bad)
    assert sorted(posted.outcome.exceptions) == ["incomplete_payment", "invalid_claim"]
    statuses = {r.trace_number: r.status for r in await ledger.rows(t.payment)}
    assert statuses == {"EFT-901": "posted", "EFT-902": "incomplete"}
    assert (await ledger.claim("clm-0901")).paid == D("110.00")
    assert (await ledger.claim("clm-0902")).paid == D("0")
    flag = next(r for r in await ledger.rows(t.remit_exception) if r.kind == "invalid_claim")
    assert flag.detail["interchange"] == "000000002" and flag.detail["set"] == "0001"
