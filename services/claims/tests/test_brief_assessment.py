"""96127, brief emotional/behavioral assessment, per standardized instrument (PHQ-9, GAD-7...).

A session names how many instruments were administered, scored and documented with it; each is a
unit of 96127 beside the session's service, at most three a day for the patient (the CMS MUE; a
payer's daily cap may say otherwise), counting what other claims billed that day."""

from __future__ import annotations

from decimal import Decimal

import pytest
from test_edits import BILLING, COVERAGE, DOS, RENDERING, make_context, make_session

from rcm.claims.domain.claim import build_claim
from rcm.claims.domain.coding import CodedSession, code_session
from rcm.claims.domain.common import Credential
from rcm.claims.domain.edits import Severity, scrub
from rcm.claims.domain.fee_schedule import FeeSchedule, FeeScheduleRate
from rcm.claims.domain.history import BilledService
from rcm.claims.domain.payer_rules import PayerRules, UnitRoundingRule

pytestmark = pytest.mark.unit

FEES = FeeSchedule(
    rates=(
        FeeScheduleRate(procedure_code="90834", amount=Decimal("130.00")),
        FeeScheduleRate(procedure_code="90791", amount=Decimal("200.00")),
        FeeScheduleRate(procedure_code="96127", amount=Decimal("8.00")),
    )
)


def coded(instruments: int, *, rules: PayerRules | None = None, **session: object) -> CodedSession:
    result = code_session(
        make_session(screening_instruments=instruments, **session),
        credential=Credential.LCSW,
        rules=rules,
        fee_schedule=FEES,
    )
    assert isinstance(result, CodedSession), result
    return result


def lines(result: CodedSession) -> list[tuple[str, int]]:
    return [(line.code, line.units) for line in result.lines]


def test_two_instruments_with_psychotherapy_are_two_units_of_96127() -> None:
    result = coded(2, minutes=45)
    assert lines(result) == [("90834", 1), ("96127", 2)]
    assert result.lines[1].charge == Decimal("16.00")


def test_none_scored_bills_no_96127() -> None:
    assert lines(coded(0, minutes=45)) == [("90834", 1)]


def test_more_instruments_than_the_mue_are_capped_with_a_note() -> None:
    result = coded(5, minutes=45)
    assert lines(result) == [("90834", 1), ("96127", 3)]
    assert any("5 instruments scored, 3 units a day" in note for note in result.notes)


def test_a_payers_daily_cap_takes_the_place_of_the_mue() -> None:
    rules = PayerRules(unit_rounding=UnitRoundingRule(daily_unit_caps={"96127": 4}))
    assert lines(coded(5, minutes=45, rules=rules)) == [("90834", 1), ("96127", 4)]


def test_units_billed_earlier_that_day_count_against_the_limit() -> None:
    earlier = BilledService(
        claim_key="clm-earlier",
        session_id="ses-earlier",
        patient_id="pat_test_1",
        rendering_provider_id="prv-other",
        date_of_service=DOS,
        code="96127",
        units=2,
    )
    session = make_session(screening_instruments=2, minutes=45)
    result = code_session(session, credential=Credential.LCSW, fee_schedule=FEES, same_day=[earlier])
    assert isinstance(result, CodedSession)
    assert lines(result) == [("90834", 1), ("96127", 1)]


def test_a_claim_with_96127_beside_an_intake_passes_the_edits() -> None:
    session = make_session(screening_instruments=2, service_kind="intake", minutes=60)
    result = code_session(session, credential=Credential.LCSW, fee_schedule=FEES)
    assert isinstance(result, CodedSession)
    assert lines(result) == [("90791", 1), ("96127", 2)]
    claim = build_claim(
        session, result, coverage=COVERAGE, billing=BILLING, rendering=RENDERING, rules=PayerRules()
    )
    holds = [f.code for f in scrub(claim, make_context()).findings if f.severity is Severity.HOLD]
    assert holds == []
