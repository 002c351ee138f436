"""The claim's MOA (outpatient adjudication: rate, HCPCS payable amount, remark codes MOA03-07)
reaches the remit-received event apart from MIA, so a next payer's 837P can repeat it (2320 MOA)."""

from __future__ import annotations

from decimal import Decimal

from rcm.remittance.testing import Cas, Clp, Ledger, Svc, claim_for, remit_835

D = Decimal


def _claim(rarcs: tuple[str, ...]) -> Clp:
    return Clp(
        "clm-0001",
        "1",
        "170.00",
        "110.00",
        "25.00",
        "ICN-1",
        services=[Svc("90837", "170.00", "110.00", [Cas("CO", "45", "35.00"), Cas("PR", "2", "25.00")])],
        rarcs=rarcs,
    )


async def test_the_claim_s_moa_is_published_with_its_rate_amount_and_remarks(ledger: Ledger) -> None:
    await ledger.add_claims([claim_for(1, claim_id="clm-0001")])
    content = remit_835([_claim(("N782", "MA01"))]).replace(b"MOA***N782", b"MOA*0.8*110.00*N782")
    posted = await ledger.post(content)
    (remit,) = posted.of("RemitReceived")
    assert remit.outpatient is not None
    assert (remit.outpatient.reimbursement_rate, remit.outpatient.hcpcs_payable) == (D("0.8"), D("110.00"))
    assert remit.outpatient.remark_codes == ["N782", "MA01"]
    assert remit.rarcs == ["N782", "MA01"]


async def test_a_claim_without_moa_publishes_none(ledger: Ledger) -> None:
    await ledger.add_claims([claim_for(1, claim_id="clm-0001")])
    posted = await ledger.post(remit_835([_claim(())]))
    (remit,) = posted.of("RemitReceived")
    assert remit.outpatient is None
