"""Crossover: the primary forwards the claim to the supplemental payer, which pays on the same claim.

The claim's ledger must hold, to the cent, charge = paid + contractual + patient share + forwarded
+ other + open balance, with the open balance what is really still owed, in either order of the
two 835s.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from rcm.remittance import store as t
from rcm.remittance.domain.posting import post_claim
from rcm.remittance.domain.remit import ZERO, Adjustment, ClaimRemit, ServiceRemit
from rcm.remittance.testing import Cas, Clp, Ledger, Svc, claim_for, remit_835

D = Decimal
DOS = date(2025, 3, 3)
PRIMARY_PAYER = "1999999999"
SUPPLEMENTAL_PAYER = "2888888888"
COLUMNS = ("paid", "contractual", "patient_responsibility", "forwarded", "other")


def primary(status: str = "19", rarcs: tuple[str, ...] = ()) -> Clp:
    """170.00 charged: 110.00 paid, CO-45 35.00, PR-2 25.00 (coinsurance the supplemental covers)."""
    return Clp(
        "clm-0001",
        status,
        "170.00",
        "110.00",
        "25.00",
        "MCR-1",
        services=[
            Svc("90837", "170.00", "110.00", [Cas("CO", "45", "35.00"), Cas("PR", "2", "25.00")], on=DOS)
        ],
        rarcs=rarcs,
    )


def supplemental(paid: str = "25.00", patient: str = "0") -> Clp:
    """The supplemental's 835: the whole charge, OA-23 for the primary's 145.00, the rest its own."""
    cas = [Cas("OA", "23", "145.00")]
    if patient != "0":
        cas.append(Cas("PR", "2", patient))
    return Clp(
        "clm-0001",
        "2",
        "170.00",
        paid,
        patient,
        "SUP-1",
        services=[Svc("90837", "170.00", paid, cas, on=DOS)],
    )


def balance(claim: Any) -> Decimal:
    return claim.total_charge - sum((getattr(claim, c) for c in COLUMNS), ZERO)


async def assert_lines_add_up(ledger: Ledger, claim: Any) -> None:
    """The claim's columns are the sum of what was posted line by line."""
    lines = await ledger.rows(t.posted_line, t.posted_line.c.claim_id == claim.claim_id)
    for column in COLUMNS:
        assert sum((getattr(ln, column) for ln in lines), ZERO) == getattr(claim, column), column


@pytest.mark.parametrize(
    "crossed",
    [primary("19"), primary("1", ("MA18",)), primary("1", ("N89",))],
    ids=["clp02-19", "ma18", "n89"],
)
async def test_the_supplementals_payment_replaces_what_the_primary_forwarded(
    ledger: Ledger, crossed: Clp
) -> None:
    await ledger.add_claims([claim_for(1, claim_id="clm-0001")])
    first = await ledger.post(remit_835([crossed], trace="MCR-EFT", payer_id=PRIMARY_PAYER))
    assert first.outcome.states == {"posted": 1} and first.outcome.exceptions == []
    claim = await ledger.claim("clm-0001")
    assert (claim.paid, claim.patient_responsibility, claim.forwarded) == (D("110.00"), D("0"), D("25.00"))
    assert (
        first.of("PatientBalanceChanged") == []
    )  # the coinsurance went to the supplemental, not the patient

    second = await ledger.post(remit_835([supplemental()], trace="SUP-EFT", payer_id=SUPPLEMENTAL_PAYER))
    assert second.outcome.states == {"posted": 1} and second.outcome.exceptions == []
    claim = await ledger.claim("clm-0001")
    assert [getattr(claim, c) for c in COLUMNS] == [D("135.00"), D("35.00"), D("0"), D("0.00"), D("0")]
    assert balance(claim) == D("0.00")
    await assert_lines_add_up(ledger, claim)
    (event,) = second.of("PaymentPosted")
    assert (event.paid, event.claim_balance) == (D("25.00"), D("0.00"))
    assert second.of("PatientBalanceChanged") == []
    # the prior payer's impact is kept as the payer wrote it, and travels on to the denials service
    adjustments = {(a.group_code, a.carc, a.amount) for a in await ledger.rows(t.posted_adjustment)}
    assert ("OA", "23", D("145.00")) in adjustments
    (remit,) = second.of("RemitReceived")
    assert [(a.group, a.carc, a.amount) for a in remit.lines[0].adjustments] == [("OA", "23", D("145.00"))]


async def test_the_supplementals_patient_share_becomes_the_patients(ledger: Ledger) -> None:
    await ledger.add_claims([claim_for(1, claim_id="clm-0001")])
    await ledger.post(remit_835([primary()], trace="MCR-EFT", payer_id=PRIMARY_PAYER))
    second = await ledger.post(
        remit_835([supplemental(paid="20.00", patient="5.00")], trace="SUP-EFT", payer_id=SUPPLEMENTAL_PAYER)
    )
    assert second.outcome.exceptions == []
    claim = await ledger.claim("clm-0001")
    assert [getattr(claim, c) for c in COLUMNS] == [D("130.00"), D("35.00"), D("5.00"), D("0.00"), D("0")]
    assert balance(claim) == D("0.00")
    (change,) = second.of("PatientBalanceChanged")
    assert (change.previous_balance, change.balance) == (D("0"), D("5.00"))


async def test_the_supplementals_835_may_come_first(ledger: Ledger) -> None:
    await ledger.add_claims([claim_for(1, claim_id="clm-0001")])
    early = await ledger.post(remit_835([supplemental()], trace="SUP-EFT", payer_id=SUPPLEMENTAL_PAYER))
    assert early.outcome.states == {"posted": 1} and early.outcome.exceptions == []
    claim = await ledger.claim("clm-0001")
    # the primary's 145.00 and the 25.00 it will forward are still open; 25.00 came already
    assert (claim.paid, claim.forwarded, claim.other) == (D("25.00"), D("-25.00"), D("0"))
    assert balance(claim) == D("170.00")
    (event,) = early.of("PaymentPosted")
    assert event.claim_balance == D("170.00")

    late = await ledger.post(remit_835([primary()], trace="MCR-EFT", payer_id=PRIMARY_PAYER))
    assert late.outcome.states == {"posted": 1} and late.outcome.exceptions == []
    claim = await ledger.claim("clm-0001")
    assert [getattr(claim, c) for c in COLUMNS] == [D("135.00"), D("35.00"), D("0"), D("0.00"), D("0")]
    assert balance(claim) == D("0.00")
    await assert_lines_add_up(ledger, claim)


async def test_reversing_the_supplementals_payment_gives_the_forwarded_amount_back(ledger: Ledger) -> None:
    await ledger.add_claims([claim_for(1, claim_id="clm-0001")])
    await ledger.post(remit_835([primary()], trace="MCR-EFT", payer_id=PRIMARY_PAYER))
    await ledger.post(remit_835([supplemental()], trace="SUP-EFT", payer_id=SUPPLEMENTAL_PAYER))
    taken_back = Clp(
        "clm-0001",
        "22",
        "-170.00",
        "-25.00",
        "0",
        "SUP-1",
        services=[Svc("90837", "-170.00", "-25.00", [Cas("OA", "23", "-145.00")], on=DOS)],
    )
    reversal = await ledger.post(remit_835([taken_back], trace="SUP-EFT-2", payer_id=SUPPLEMENTAL_PAYER))
    assert reversal.outcome.states == {"posted": 1} and reversal.outcome.exceptions == []
    claim = await ledger.claim("clm-0001")
    assert [getattr(claim, c) for c in COLUMNS] == [D("110.00"), D("35.00"), D("0"), D("25.00"), D("0")]
    assert balance(claim) == D("0.00")


async def test_a_supplemental_paying_a_share_the_primary_did_not_forward_is_flagged(ledger: Ledger) -> None:
    await ledger.add_claims([claim_for(1, claim_id="clm-0001")])
    await ledger.post(remit_835([primary("1")], trace="MCR-EFT", payer_id=PRIMARY_PAYER))
    claim = await ledger.claim("clm-0001")
    assert (claim.patient_responsibility, claim.forwarded) == (D("25.00"), D("0"))

    second = await ledger.post(remit_835([supplemental()], trace="SUP-EFT", payer_id=SUPPLEMENTAL_PAYER))
    assert second.outcome.states == {"posted": 1}
    assert second.outcome.exceptions == ["crossover_mismatch"]
    claim = await ledger.claim("clm-0001")
    assert (claim.paid, claim.forwarded) == (D("135.00"), D("-25.00"))
    assert balance(claim) == D("0.00")  # never the -170.00 of counting the primary's share twice
    (flag,) = await ledger.rows(t.remit_exception)
    assert flag.detail == {"claim_id": "clm-0001", "forwarded": "-25.00"}


async def test_a_secondary_payment_on_the_claim_billed_to_the_secondary_closes_it_by_its_oa_23(
    ledger: Ledger,
) -> None:
    # our own COB claim (not a crossover): the secondary's OA-23 is what closes it
    await ledger.add_claims([claim_for(2, claim_id="clm-0002", payer_responsibility="secondary")])
    cob = Clp(
        "clm-0002",
        "2",
        "170.00",
        "25.00",
        "0",
        "SUP-2",
        services=[Svc("90837", "170.00", "25.00", [Cas("OA", "23", "145.00")], on=DOS)],
    )
    posted = await ledger.post(remit_835([cob], payer_id=SUPPLEMENTAL_PAYER))
    assert posted.outcome.exceptions == []
    claim = await ledger.claim("clm-0002")
    assert [getattr(claim, c) for c in COLUMNS] == [D("25.00"), D("0"), D("0"), D("0"), D("145.00")]
    assert balance(claim) == D("0.00")


def test_a_later_payers_posting_moves_the_balance_only_by_what_it_denies() -> None:
    remit = ClaimRemit(
        "clm-0001",
        "2",
        D("170.00"),
        D("10.00"),
        services=(
            ServiceRemit(
                "90837",
                D("170.00"),
                D("10.00"),
                adjustments=(
                    Adjustment("OA", "23", D("145.00")),
                    Adjustment("CO", "45", D("5.00")),
                    Adjustment("CO", "96", D("10.00")),
                ),
            ),
        ),
    )
    posting = post_claim(remit, claim_id="clm-0001", line_keys=["k"], claim_payer_order=1)
    (line,) = posting.lines
    assert (line.other, line.forwarded) == (ZERO, D("-25.00"))
    moved = line.paid + line.contractual + line.patient_responsibility + line.forwarded + line.other
    # a CO-96 on a paying claim is a denial, not a write-off: the balance reopens by it alone
    assert (line.contractual, line.denied, moved) == (D("5.00"), D("10.00"), D("-10.00"))

    same_claim_billed_to_it = post_claim(remit, claim_id="clm-0001", line_keys=["k"], claim_payer_order=2)
    (line,) = same_claim_billed_to_it.lines
    assert (line.other, line.forwarded) == (D("145.00"), ZERO)


async def test_a_qmb_patients_coinsurance_is_never_put_on_the_patients_balance(ledger: Ledger) -> None:
    # Medicare processed as primary without crossing over, and says the patient is a QMB (N782):
    # the coinsurance waits for Medicaid (or a write-off), the patient owes nothing, and the
    # claim still balances; a reversal takes the forwarded amount back, not a patient balance
    await ledger.add_claims([claim_for(1, claim_id="clm-0001")])
    posted = await ledger.post(remit_835([primary("1", ("N782",))], trace="MCR-EFT", payer_id=PRIMARY_PAYER))
    assert posted.outcome.states == {"posted": 1} and posted.outcome.exceptions == []
    claim = await ledger.claim("clm-0001")
    assert [getattr(claim, c) for c in COLUMNS] == [D("110.00"), D("35.00"), D("0"), D("25.00"), D("0")]
    assert balance(claim) == D("0.00")
    assert posted.of("PatientBalanceChanged") == []
    (event,) = posted.of("PaymentPosted")
    assert event.patient_responsibility == D("0")
    (remit,) = posted.of("RemitReceived")
    assert remit.patient_responsibility == D("25.00") and "N782" in remit.rarcs  # as the payer wrote it

    reversed_ = Clp(
        "clm-0001",
        "22",
        "-170.00",
        "-110.00",
        "-25.00",
        "MCR-1",
        services=[
            Svc("90837", "-170.00", "-110.00", [Cas("CO", "45", "-35.00"), Cas("PR", "2", "-25.00")], on=DOS)
        ],
        rarcs=("N782",),
    )
    back = await ledger.post(remit_835([reversed_], trace="MCR-EFT2", payer_id=PRIMARY_PAYER))
    assert back.outcome.states == {"posted": 1}
    claim = await ledger.claim("clm-0001")
    assert [getattr(claim, c) for c in COLUMNS] == [D("0.00"), D("0.00"), D("0"), D("0.00"), D("0")]
    assert back.of("PatientBalanceChanged") == []
