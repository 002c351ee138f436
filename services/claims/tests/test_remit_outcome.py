"""Where a claim stands after its remit: paid, partly paid or denied, by what the payer refused."""

from __future__ import annotations

import pytest

from rcm.claims.domain.state import ClaimState
from rcm.claims.handlers import remit_outcome
from rcm.events.testing import remit_received

pytestmark = pytest.mark.unit


def _line(paid: str, *cas: tuple[str, str, str]) -> dict[str, object]:
    return {
        "line_key": "L1",
        "procedure_code": "90837",
        "charge": "190.00",
        "paid": paid,
        "adjustments": [{"group": g, "carc": c, "amount": a} for g, c, a in cas],
    }


def test_a_claim_paid_in_full_is_paid() -> None:
    remit = remit_received(1, status="1", paid="120.00", patient_responsibility="0.00",
                           lines=[_line("120.00", ("CO", "45", "70.00"))])  # fmt: skip
    assert remit_outcome(remit) is ClaimState.PAID


def test_zero_paid_because_the_deductible_is_not_a_denial() -> None:
    remit = remit_received(1, status="1", paid="0.00", patient_responsibility="120.00",
                           lines=[_line("0.00", ("CO", "45", "70.00"), ("PR", "1", "120.00"))])  # fmt: skip
    assert remit_outcome(remit) is ClaimState.PAID


def test_zero_paid_with_a_refusal_is_denied() -> None:
    remit = remit_received(1, status="1", paid="0.00", patient_responsibility="0.00",
                           lines=[_line("0.00", ("CO", "4", "190.00"))])  # fmt: skip
    assert remit_outcome(remit) is ClaimState.DENIED


def test_status_4_is_denied() -> None:
    remit = remit_received(1, status="4", paid="0.00", patient_responsibility="0.00",
                           lines=[_line("0.00", ("CO", "197", "190.00"))])  # fmt: skip
    assert remit_outcome(remit) is ClaimState.DENIED


def test_one_line_refused_one_paid_is_partially_paid() -> None:
    refused = {
        **_line("0.00", ("CO", "97", "25.00")),
        "line_key": "L2",
        "procedure_code": "90785",
        "charge": "25.00",
    }
    remit = remit_received(1, status="1", paid="120.00", patient_responsibility="0.00",
                           lines=[_line("120.00", ("CO", "45", "70.00")), refused])  # fmt: skip
    assert remit_outcome(remit) is ClaimState.PARTIALLY_PAID


def test_the_contract_write_off_is_a_contractual_co_at_claim_and_line_level_and_nothing_else() -> None:
    from decimal import Decimal

    from rcm.claims.handlers import contract_write_off

    assert contract_write_off(remit_received(1)) == Decimal("35.00")  # the line's CO-45
    remit = remit_received(
        1,
        claim_adjustments=[
            {"group": "CO", "carc": "45", "amount": "10.00"},
            {"group": "CO", "carc": "197", "amount": "40.00"},  # refused: still disputed
            {"group": "PR", "carc": "1", "amount": "5.00"},  # the patient's
            {"group": "OA", "carc": "45", "amount": "7.00"},  # not the contract's group
        ],
    )
    assert contract_write_off(remit) == Decimal("45.00")
