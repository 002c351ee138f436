"""A claim for a service the payer's 271 says it does not cover, or whose behavioural-health
benefit another entity administers (a carve-out), is held before it is billed.

All data is synthetic.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from claims_direct import apply, apply_batch, handlers, rows
from claims_world import DOS, reference, session
from sqlalchemy.ext.asyncio import AsyncEngine
from test_edits import COVERAGE, ELIGIBLE, PAYER, held_by, make_claim, make_context, make_session

from rcm.claims import adapters as ad
from rcm.claims.domain.coverage import CarveOut, CoveragePriority, EligibilityStatus
from rcm.claims.domain.edits.coverage import coverage_active
from rcm.claims.handlers import hold_reasons_of
from rcm.claims.store import claim as claim_table
from rcm.events import testing as f
from rcm.events.models import HoldReasonCode

unit = pytest.mark.unit

VENDOR = CarveOut(name="SYNTHETIC MIND VENDOR", payer_id="pay_mind", identifier="SYNVN01")


def _held(**result: Any) -> list[tuple[HoldReasonCode, str]]:
    """The claim-held reasons of the default claim when its latest eligibility result has ``result``."""
    claim = make_claim()
    context = make_context(eligibility=(ELIGIBLE.model_copy(update=result),))
    findings = list(coverage_active(claim, context))
    return [(r.code, r.message) for r in hold_reasons_of(claim, findings)]


@unit
def test_a_service_the_payer_does_not_cover_is_held() -> None:
    (reason,) = _held(covered=False, service_type_code="MH")
    assert reason[0] is HoldReasonCode.SERVICE_NOT_COVERED
    assert "service type MH is not covered on 2025-03-04" in reason[1]


@pytest.mark.parametrize("covered", [True, None])
@unit
def test_a_covered_service_or_one_the_271_says_nothing_about_is_not_held(covered: bool | None) -> None:
    assert _held(covered=covered) == []


@unit
def test_a_benefit_carved_out_to_another_entity_is_held_for_its_payer() -> None:
    (reason,) = _held(carve_out=VENDOR, covered=True)
    assert reason == (
        HoldReasonCode.BENEFIT_CARVED_OUT,
        "eligibility.carved_out: benefit administered by SYNTHETIC MIND VENDOR: bill the carve-out payer",
    )


@unit
def test_a_carve_out_the_271_does_not_name_is_held_all_the_same() -> None:
    (reason,) = _held(carve_out=CarveOut())
    assert reason[0] is HoldReasonCode.BENEFIT_CARVED_OUT
    assert "benefit administered by another entity (unnamed in the 271)" in reason[1]


@unit
def test_a_carve_out_not_matched_to_one_of_our_payers_is_named_by_its_id() -> None:
    (reason,) = _held(carve_out=CarveOut(identifier="SYNVN01"))
    assert "benefit administered by SYNVN01:" in reason[1]


@unit
def test_a_later_payers_271_naming_the_payer_before_it_is_coordination_of_benefits_not_a_hold() -> None:
    first = COVERAGE.model_copy(update={"coverage_id": "cov_first", "payer_id": "pay_first"})
    later = COVERAGE.model_copy(update={"priority": CoveragePriority.SECONDARY})
    named_first = ELIGIBLE.model_copy(
        update={"carve_out": CarveOut(name="SYNTHETIC FIRST", payer_id="pay_first")}
    )
    secondary_claim = make_claim().model_copy(update={"payer_order": CoveragePriority.SECONDARY})
    context = make_context(coverages=(first, later), eligibility=(named_first,))
    assert held_by(coverage_active, secondary_claim, context) == set()
    # the same answer on the first payer's turn (the claim goes to this payer first) is a hold
    primary_context = make_context(eligibility=(named_first,))
    assert held_by(coverage_active, make_claim(), primary_context) == {"eligibility.carved_out"}


@unit
def test_a_claim_to_the_carve_out_payer_itself_is_not_held() -> None:
    assert _held(carve_out=VENDOR.model_copy(update={"payer_id": PAYER})) == []


@unit
def test_a_carve_out_of_another_behavioural_health_type_than_the_one_checked_holds_nothing() -> None:
    substance_use = VENDOR.model_copy(update={"service_types": ("AI", "AK")})
    assert _held(carve_out=substance_use, service_type_code="MH") == []


@pytest.mark.parametrize("checked", ["MH", "30", None])
@unit
def test_a_carve_out_of_the_type_checked_or_of_the_plan_s_answer_is_held(checked: str | None) -> None:
    mental_health = VENDOR.model_copy(update={"service_types": ("MH", "A6")})
    (reason,) = _held(carve_out=mental_health, service_type_code=checked)
    assert reason[0] is HoldReasonCode.BENEFIT_CARVED_OUT


@unit
def test_a_later_check_without_the_carve_out_releases_the_claim() -> None:
    carved = ELIGIBLE.model_copy(update={"carve_out": VENDOR})
    later = ELIGIBLE.model_copy(update={"checked_at": datetime(2025, 3, 2, 9, tzinfo=UTC)})
    assert held_by(coverage_active, make_claim(), make_context(eligibility=(carved, later))) == set()
    assert held_by(
        coverage_active,
        make_claim(),
        make_context(
            eligibility=(later, carved.model_copy(update={"checked_at": datetime(2025, 3, 3, 9, tzinfo=UTC)}))
        ),
    ) == {"eligibility.carved_out"}


@unit
def test_an_inactive_coverage_is_held_as_inactive_first() -> None:
    (reason,) = _held(status=EligibilityStatus.INACTIVE, covered=False, carve_out=VENDOR)
    assert reason[0] is HoldReasonCode.ELIGIBILITY_INACTIVE


@unit
def test_an_eligibility_checked_without_the_new_fields_reads_as_not_stated() -> None:
    body = f.eligibility_checked(1).model_dump(mode="json")
    for key in ("covered", "carve_out"):
        body.pop(key, None)
    result = ad.eligibility_of(body)
    assert (result.covered, result.carve_out, result.service_type_code) == (None, None, "MH")


@unit
def test_an_eligibility_checked_with_the_new_fields_reads_them() -> None:
    event = f.eligibility_checked(
        1,
        covered=False,
        carve_out={
            "name": "SYNTHETIC MIND VENDOR",
            "role": "vendor",
            "entity_code": "VN",
            "id_qualifier": "PI",
            "identifier": "SYNVN01",
            "payer_id": "payer-0009",
            "benefit_code": "1",
            "service_types": ["MH"],
        },
    )
    result = ad.eligibility_of(event.model_dump(mode="json"))
    assert result.covered is False
    assert result.carve_out == CarveOut(
        name="SYNTHETIC MIND VENDOR", payer_id="payer-0009", identifier="SYNVN01", service_types=("MH",)
    )


# ---------------------------------------------------------------- through the handlers


async def test_the_published_answer_holds_or_passes_each_patient_s_claim(engine: AsyncEngine) -> None:
    """eligibility-checked as the eligibility service publishes it, then the session: held when
    the service is not covered or carved out to another payer; billed when the claim goes to the
    carve-out payer or the check says neither (an event from before the fields existed)."""
    h = handlers()
    patients = (1, 2, 3, 4)
    await apply(
        engine,
        h,
        *[
            e
            for n in patients
            for e in reference(n, electronic_payer_id=f"SYNP{n}", member_id=f"SYN00000000{n}")
            if type(e).__name__ != "EligibilityChecked"
        ],
    )

    def check(n: int, **fields: Any) -> Any:
        return f.eligibility_checked(
            n,
            service_date=DOS,
            plan_period={"start": "2024-01-01", "end": "2030-12-31"},
            checked_at=datetime(2025, 3, 1, 9, tzinfo=UTC),
            **fields,
        )

    def carve_out(payer_id: str | None) -> dict[str, Any]:
        return {
            "name": "SYNTHETIC MIND VENDOR",
            "role": "vendor",
            "entity_code": "VN",
            "id_qualifier": "PI",
            "identifier": "SYNVN01",
            "payer_id": payer_id,
            "benefit_code": "1",
            "service_types": ["MH", "A6"],
        }

    old = check(4).model_dump(mode="json")
    assert "covered" in old and old["covered"] is None  # None: the 271 did not say
    await apply_batch(
        engine,
        h,
        check(1, covered=False),
        check(2, covered=True, carve_out=carve_out(None)),
        check(3, covered=True, carve_out=carve_out(f.ids(3)["payer_id"])),
        check(4),
        *[session(n) for n in patients],
    )
    states = {}
    for n in patients:
        (row,) = await rows(engine, claim_table.c.session_id == f"ses-{n:04d}")
        states[n] = (row.state, [(r["code"], r["message"]) for r in row.hold_reasons or []])
    assert states[1][0] == "held"
    assert [code for code, _ in states[1][1]] == ["service_not_covered"]
    assert "service type MH is not covered" in states[1][1][0][1]
    assert states[2] == (
        "held",
        [
            (
                "benefit_carved_out",
                "eligibility.carved_out: benefit administered by SYNTHETIC MIND VENDOR: bill the carve-out payer",
            )
        ],
    )
    assert states[3] == ("ready", [])
    assert states[4] == ("ready", [])


@pytest.mark.parametrize("modality", ["video", "audio_only"])
@unit
def test_a_telehealth_visit_the_payer_does_not_cover_by_telehealth_passes_with_a_warning(
    modality: str,
) -> None:
    # the 271 does not say which telehealth place it excludes: a warning kept with the claim
    claim = make_claim(make_session(modality=modality, patient_location={"state": "NY", "at_home": True}))
    context = make_context(eligibility=(ELIGIBLE.model_copy(update={"telehealth_covered": False}),))
    (finding,) = coverage_active(claim, context)
    assert (finding.code, finding.severity.value) == ("eligibility.telehealth_not_covered", "warn")
    assert "not covered by telehealth" in finding.message


@pytest.mark.parametrize("telehealth_covered", [False, None, True])
@unit
def test_an_office_visit_or_telehealth_the_271_allows_is_not_held(telehealth_covered: bool | None) -> None:
    office = make_claim()
    context = make_context(
        eligibility=(ELIGIBLE.model_copy(update={"telehealth_covered": telehealth_covered}),)
    )
    assert list(coverage_active(office, context)) == []
    if telehealth_covered is not False:
        video = make_claim(make_session(modality="video", patient_location={"state": "NY", "at_home": True}))
        assert list(coverage_active(video, context)) == []


@unit
def test_the_published_telehealth_coverage_reaches_the_claims_eligibility_result() -> None:
    checked = f.eligibility_checked(1, telehealth_covered=False).model_dump(mode="json")
    assert ad.eligibility_of(checked).telehealth_covered is False


@unit
def test_a_benefit_with_no_visits_left_is_a_warning_not_a_hold() -> None:
    claim = make_claim()
    exhausted = make_context(eligibility=(ELIGIBLE.model_copy(update={"visits_remaining": 0}),))
    (finding,) = coverage_active(claim, exhausted)
    # a warning: the scrub passes the claim and keeps it with its warnings
    assert (finding.code, finding.severity.value) == ("eligibility.visit_limit_reached", "warn")
    left = make_context(eligibility=(ELIGIBLE.model_copy(update={"visits_remaining": 3}),))
    assert list(coverage_active(claim, left)) == []


@pytest.mark.parametrize(
    ("fields", "remaining"),
    [
        ({"visits_remaining": 0}, 0),
        ({"visit_limit": {"allowed": 20, "used": 20}}, 0),
        ({"visit_limit": {"allowed": 20, "remaining": 5}}, 5),
        ({"visit_limit": None}, None),
    ],
)
@unit
def test_the_visits_left_reach_the_claims_eligibility_result(
    fields: dict[str, Any], remaining: int | None
) -> None:
    checked = f.eligibility_checked(1, **fields).model_dump(mode="json")
    assert ad.eligibility_of(checked).visits_remaining == remaining
