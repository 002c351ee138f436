"""One contractual list: a CO adjustment the remittance service writes off (CO-45 fee schedule,
CO-253 sequestration, CO-246 reporting only... ``rcm.events.models.written_off_by_contract``) is
not a refusal here either, so it neither denies a line nor stays in the A/R balance, while a next
payer's 2320/2430 CAS still repeats every adjustment as the prior payer reported it."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, cast

import pytest
import sqlalchemy as sa
from claims_direct import apply, force, handlers, rows
from claims_world import reference, session
from sqlalchemy.ext.asyncio import AsyncEngine
from test_837p_batch_prior_payer import ENVELOPE
from test_secondary_adjudicated_again import secondary_coverage

from rcm.claims.domain.adjudication import is_refusal, written_off
from rcm.claims.domain.state import ClaimState
from rcm.claims.handlers import contract_write_off, remit_outcome, remit_part
from rcm.claims.store import claim
from rcm.claims.submission.batches import Batcher
from rcm.claims.submission.x837 import build_837p
from rcm.events import testing as f
from rcm.events.models import CONTRACTUAL_CARCS
from rcm.testing.validators import pyx12_errors
from rcm.x12 import read


def _cas(*cas: tuple[str, str, str]) -> list[dict[str, str]]:
    return [{"group": g, "carc": c, "amount": a} for g, c, a in cas]


def _line(key: str, code: str, charge: str, paid: str, *cas: tuple[str, str, str]) -> dict[str, Any]:
    return {
        "line_key": key,
        "procedure_code": code,
        "charge": charge,
        "paid": paid,
        "adjustments": _cas(*cas),
    }


MEDICARE_LINE = (("CO", "45", "41.43"), ("CO", "253", "2.06"), ("PR", "2", "25.71"))
"""90837 charged 170.00, allowed 128.57: CO-45 the rest, PR-2 20% coinsurance, and the 80% the
payer owes (102.86) less 2% sequestration (CO-253 2.06), paid 100.80."""


@pytest.mark.unit
@pytest.mark.parametrize("carc", sorted(CONTRACTUAL_CARCS))
def test_every_contractual_reason_under_co_is_written_off_not_refused(carc: str) -> None:
    assert written_off("CO", carc, Decimal("5.00"))
    assert not is_refusal("CO", carc, Decimal("5.00"))


@pytest.mark.unit
@pytest.mark.parametrize(
    ("group", "carc"),
    [("CO", "197"), ("CO", "50"), ("CO", "96"), ("CO", "16"), ("OA", "253"), ("PI", "197")],
)
def test_other_reasons_or_groups_are_refused(group: str, carc: str) -> None:
    assert not written_off(group, carc, Decimal("5.00"))
    assert is_refusal(group, carc, Decimal("5.00"))


@pytest.mark.unit
@pytest.mark.parametrize(
    ("group", "carc"), [("PI", "45"), ("PI", "253"), ("CO", "42"), ("CO", "A2"), ("co", "a2")]
)
def test_pi_reads_as_co_and_deactivated_contractual_reasons_as_45(group: str, carc: str) -> None:
    # as the denials playbook reads them (group fallback PI -> CO; 41/42/A2 deactivated, read as 45)
    assert written_off(group, carc, Decimal("5.00"))
    assert not is_refusal(group, carc, Decimal("5.00"))


@pytest.mark.unit
def test_the_patient_s_share_is_neither_written_off_nor_refused() -> None:
    assert not written_off("PR", "2", Decimal("5.00"))
    assert not is_refusal("PR", "2", Decimal("5.00"))


@pytest.mark.unit
def test_a_co_that_raises_the_payment_refuses_nothing() -> None:
    """CO-94 processed in excess of charges, a negative amount: posted as contractual by remittance."""
    assert written_off("CO", "94", Decimal("-10.00"))
    assert not is_refusal("CO", "94", Decimal("-10.00"))


@pytest.mark.unit
def test_a_medicare_remit_with_sequestration_is_paid_and_writes_off_the_sequestration() -> None:
    remit = f.remit_received(
        1,
        status="1",
        paid="100.80",
        patient_responsibility="25.71",
        lines=[_line("L1", "90837", "170.00", "100.80", *MEDICARE_LINE)],
    )
    assert remit_outcome(remit) is ClaimState.PAID
    part = remit_part(remit)
    assert part.contractual == contract_write_off(remit) == Decimal("43.49")  # CO-45 + CO-253
    assert part.refused == Decimal("0")
    assert [(line.contractual, line.refused) for line in part.lines] == [(Decimal("43.49"), Decimal("0"))]


@pytest.mark.unit
def test_a_reporting_only_line_beside_a_paid_one_leaves_the_claim_paid() -> None:
    """A quality-reporting code at one cent, adjusted CO-246 (non-payable, for reporting only),
    paid nothing: it is not a denied line, so the claim is paid, not partially paid."""
    remit = f.remit_received(
        1,
        status="1",
        charge="170.01",
        paid="100.80",
        patient_responsibility="25.71",
        lines=[
            _line("L1", "90837", "170.00", "100.80", *MEDICARE_LINE),
            _line("L2", "G8431", "0.01", "0.00", ("CO", "246", "0.01")),
        ],
    )
    assert remit_outcome(remit) is ClaimState.PAID


@pytest.mark.unit
def test_a_refused_line_beside_a_sequestered_one_still_makes_it_partially_paid() -> None:
    remit = f.remit_received(
        1,
        status="1",
        charge="195.00",
        paid="100.80",
        patient_responsibility="25.71",
        lines=[
            _line("L1", "90837", "170.00", "100.80", *MEDICARE_LINE),
            _line("L2", "90785", "25.00", "0.00", ("CO", "197", "25.00")),
        ],
    )
    assert remit_outcome(remit) is ClaimState.PARTIALLY_PAID
    part = remit_part(remit)
    assert part.contractual == Decimal("43.49")  # the refused CO-197 stays open: not contractual
    assert [line.refused for line in part.lines] == [Decimal("0"), Decimal("25.00")]


@pytest.mark.unit
def test_a_claim_level_sequestration_on_a_claim_the_patient_owes_is_paid_at_zero() -> None:
    """Nothing paid, the deductible is the patient's, and a claim-level CO-253 (of an earlier
    payment's adjustment): not a refusal, so the claim is paid at zero, not denied."""
    remit = f.remit_received(
        1,
        status="1",
        paid="0.00",
        patient_responsibility="128.57",
        claim_adjustments=_cas(("CO", "253", "0.50")),
        lines=[_line("L1", "90837", "170.00", "0.00", ("CO", "45", "40.93"), ("PR", "1", "128.57"))],
    )
    assert remit_outcome(remit) is ClaimState.PAID
    assert remit_part(remit).refused == Decimal("0")


@pytest.mark.unit
def test_a_claim_level_refusal_with_nothing_paid_is_still_denied() -> None:
    remit = f.remit_received(
        1,
        status="1",
        paid="0.00",
        patient_responsibility="128.57",
        claim_adjustments=_cas(("CO", "197", "0.50")),
        lines=[_line("L1", "90837", "170.00", "0.00", ("CO", "45", "40.93"), ("PR", "1", "128.57"))],
    )
    assert remit_outcome(remit) is ClaimState.DENIED


def _sequestered_primary_remit(primary: Any) -> Any:
    line = primary.draft["lines"][0]
    return f.remit_received(
        1,
        remit_id="rmt-medicare",
        claim_id=primary.claim_id,
        payer_claim_number="ICN0001",
        charge=Decimal("170.00"),
        paid=Decimal("100.80"),
        patient_responsibility=Decimal("25.71"),
        lines=[
            {
                "line_key": line["line_key"],
                "procedure_code": line["code"],
                "modifiers": line["modifiers"],
                "service_date": line["date_of_service"],
                "charge": "170.00",
                "paid": "100.80",
                "units_paid": 1,
                "adjustments": _cas(*MEDICARE_LINE),
            }
        ],
    )


async def test_a_sequestered_primary_is_paid_its_write_off_counted_and_the_secondary_repeats_each_cas(
    engine: AsyncEngine,
) -> None:
    h = handlers()
    await apply(
        engine,
        h,
        *reference(1, electronic_payer_id="EVRGRN", member_id="EVG100000001"),
        *secondary_coverage(),
        session(1),
    )
    (primary,) = await rows(engine, claim.c.session_id == "ses-0001")
    await force(engine, primary.claim_id, state="accepted", payer_claim_number="ICN0001")
    await apply(engine, h, _sequestered_primary_remit(primary))

    primary, secondary = await rows(engine, claim.c.session_id == "ses-0001")
    assert primary.state == ClaimState.PAID.value
    assert primary.remit_contractual == Decimal("43.49")  # A/R leaves the sequestration out too
    (prior_line,) = secondary.cob["lines"]
    reported = [(a["group"], a["carc"], Decimal(a["amount"])) for a in prior_line["adjustments"]]
    assert reported == [(g, c, Decimal(a)) for g, c, a in MEDICARE_LINE]

    batcher = Batcher(
        cast(Any, None), envelope=cast(Any, None), policy=cast(Any, None), metrics=cast(Any, None)
    )
    async with engine.connect() as conn:
        loaded = (await conn.execute(sa.select(claim).where(claim.c.claim_id == secondary.claim_id))).all()
        (item,) = await batcher._items(conn, loaded)
    text = build_837p(
        [item], envelope=ENVELOPE, control=1, reference="bat-1", created=datetime.now(UTC)
    ).decode()
    # 2430: the prior payer's line CAS as it reported it, sequestration included
    assert "~CAS*CO*45*41.43**253*2.06~CAS*PR*2*25.71~" in text
    assert [str(e) for e in read(text).errors] == [] and pyx12_errors(text) == []
