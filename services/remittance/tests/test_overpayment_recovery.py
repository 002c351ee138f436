"""Overpayment recovery (005010X221A1 1.10.2.17), whatever order the payer's 835s arrive in: the
claim moves once, through the reversal and correction of its claim payment; the PLB WO pair
(deferral, recovery) is cash timing only. A WO that came before the reversal carrying its
overpayment is given back to the claim when the reversal comes; a WO never takes a claim's
payment below zero without a flag. Synthetic 835s (invented ids and amounts)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from rcm.remittance import store as t
from rcm.remittance.domain.provider_adjustments import PlbKind, apply_provider_adjustments
from rcm.remittance.domain.remit import ProviderAdjustment
from rcm.remittance.testing import Cas, Clp, Ledger, Plb, Svc, claim_for, paid, remit_835

D = Decimal
DOS = date(2025, 3, 3)


def _correction(pcn: str, icn: str) -> Clp:
    """The payer's correction of a 110.00 payment: 50.00 paid, CO-45 95.00, PR-3 25.00."""
    return Clp(
        pcn,
        "1",
        "170.00",
        "50.00",
        "25.00",
        icn,
        services=[
            Svc("90837", "170.00", "50.00", [Cas("CO", "45", "95.00"), Cas("PR", "3", "25.00")], on=DOS)
        ],
    )


def _files(deferral_ref: str, recovery_ref: str) -> dict[str, bytes]:
    """a: the original (110.00); b: its reversal, the correction (50.00) and the 60.00 recovery
    deferred (WO -60.00); c: the recovery taken (WO +60.00) in a later 835."""
    return {
        "a": remit_835([paid("clm-0901", "ICN-901")], trace="EFT-A"),
        "b": remit_835(
            [
                paid("clm-0901", "ICN-901", status="22", sign="-"),
                _correction("clm-0901", "ICN-901B" if deferral_ref == "ICN-901B" else "ICN-901"),
                paid("clm-0902", "ICN-902"),
            ],
            trace="EFT-B",
            plb=[Plb("WO", "-60.00", deferral_ref)],
            control=2,
        ),
        "c": remit_835(
            [paid("clm-0903", "ICN-903")], trace="EFT-C", plb=[Plb("WO", "60.00", recovery_ref)], control=3
        ),
    }


async def _claims(ledger: Ledger) -> None:
    await ledger.add_claims([claim_for(n, claim_id=f"clm-090{n}") for n in (1, 2, 3)])


@pytest.mark.parametrize("order", ["abc", "acb", "bac", "bca", "cab", "cba"])
@pytest.mark.parametrize(
    ("deferral_ref", "recovery_ref"),
    [("ICN-901", "ICN-901"), ("ICN-901B", "ICN-901")],
    ids=["same-reference", "correction-then-original-number"],
)
async def test_a_deferred_recovery_moves_the_claim_once_in_any_order(
    ledger: Ledger, order: str, deferral_ref: str, recovery_ref: str
) -> None:
    await _claims(ledger)
    files = _files(deferral_ref, recovery_ref)
    for name in order:
        await ledger.post(files[name], name=f"{name}.835")
    claim = await ledger.claim("clm-0901")
    # the correction states what the claim is paid: 50.00, its balance closed
    assert (claim.paid, claim.contractual, claim.patient_responsibility) == (
        D("50.00"),
        D("95.00"),
        D("25.00"),
    )
    assert claim.total_charge - claim.paid - claim.contractual - claim.patient_responsibility == D("0.00")
    # no WO is left on the claim: both are the account's
    assert all(r.claim_id is None for r in await ledger.rows(t.provider_adjustment))
    flags = [e for e in await ledger.rows(t.remit_exception) if e.resolved_at is None]
    assert [e.kind for e in flags] == []
    balances = await ledger.rows(t.patient_balance, t.patient_balance.c.patient_id == claim.patient_id)
    assert [b.balance for b in balances] == [D("25.00")]  # the patient's share, once


async def test_a_recovery_taken_before_its_reversal_is_given_back_to_the_claim(ledger: Ledger) -> None:
    """F1 as found: a, then c (the WO +60.00 recoups from the claim, 110.00 -> 50.00), then b (the
    reversal and correction): the claim ended at paid -10.00 with its balance reopened at 60.00."""
    await _claims(ledger)
    files = _files("ICN-901", "ICN-901")
    await ledger.post(files["a"])
    early = await ledger.post(files["c"])
    assert (await ledger.claim("clm-0901")).paid == D("50.00")  # a recoupment, until the reversal comes
    (taken,) = [e for e in early.of("PaymentPosted") if e.claim_id == "clm-0901"]
    assert taken.paid == D("-60.00")

    late = await ledger.post(files["b"])
    assert late.outcome.exceptions == []
    claim = await ledger.claim("clm-0901")
    assert claim.paid == D("50.00")
    given_back = [e for e in late.of("PaymentPosted") if e.claim_id == "clm-0901" and not e.lines]
    assert [e.paid for e in given_back] == [D("60.00")]
    rows = sorted(
        (r.amount, r.kind, r.claim_id, r.named_claim_id) for r in await ledger.rows(t.provider_adjustment)
    )
    assert rows == [
        (D("-60.00"), "deferral", None, "clm-0901"),
        (D("60.00"), "recovery", None, "clm-0901"),
    ]


async def test_a_wo_that_would_take_a_claims_payment_below_zero_stays_on_the_account_flagged(
    ledger: Ledger,
) -> None:
    await ledger.add_claims([claim_for(1, claim_id="clm-0911"), claim_for(2, claim_id="clm-0912")])
    await ledger.post(remit_835([paid("clm-0911", "ICN-911")], trace="EFT-A"))
    posted = await ledger.post(
        remit_835([paid("clm-0912", "ICN-912")], trace="EFT-B", plb=[Plb("WO", "150.00", "ICN-911")])
    )
    assert posted.outcome.exceptions == ["recoupment_exceeds_claim_payment"]
    assert (await ledger.claim("clm-0911")).paid == D("110.00")
    (row,) = await ledger.rows(t.provider_adjustment)
    assert (row.kind, row.claim_id, row.named_claim_id) == ("recoupment", None, "clm-0911")
    (flag,) = await ledger.rows(t.remit_exception)
    assert flag.detail["claim_id"] == "clm-0911" and flag.detail["claim_paid"] == "110.00"
    assert "more than its payments" in flag.message
    # a WO the claim's payment covers is still a recoupment from it
    again = await ledger.post(remit_835([], trace="EFT-C", plb=[Plb("WO", "40.00", "ICN-911")]))
    assert again.outcome.exceptions == []
    assert (await ledger.claim("clm-0911")).paid == D("70.00")


def test_a_deferral_pairs_with_its_recovery_by_the_claim_either_number_names() -> None:
    claims = {"ICN-1": "clm-1", "ICN-1B": "clm-1", "ICN-2": "clm-2"}
    deferral = ProviderAdjustment("1234567893", "WO", D("-60.00"), "ICN-1B")
    recovery = ProviderAdjustment("1234567893", "WO", D("60.00"), "ICN-1")
    other = ProviderAdjustment("1234567893", "WO", D("10.00"), "ICN-2")
    applied = apply_provider_adjustments([deferral, recovery, other], claims)
    assert [(a.kind, a.claim_id, a.named_claim_id) for a in applied] == [
        (PlbKind.DEFERRAL, None, "clm-1"),
        (PlbKind.RECOVERY, None, "clm-1"),
        (PlbKind.RECOUPMENT, "clm-2", "clm-2"),  # nothing deferred for that claim
    ]
    # a deferral recorded earlier, keyed by the claim
    (later,) = apply_provider_adjustments([recovery], claims, {"claim:clm-1": D("60.00")})
    assert (later.kind, later.claim_id) == (PlbKind.RECOVERY, None)
