"""Behavioral-health care management: a month's tally for a patient, billed once a calendar month.

Psychiatric collaborative care (CoCM) by the CPT time rule as CMS applies it: 99492 in the
episode's first month from 36 minutes, 99493 in a later month from 31, +99494 per further 30
minutes from 16 into them; Medicare's G2214 from 16 minutes under those thresholds. General BHI
99484 from 20 minutes. No telehealth POS or modifiers, +90785 or 96127 on a month's tally; one
claim of a program a month for a patient; 99484 not in a collaborative care month of the same
practitioner.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from claims_direct import apply, handlers, rows
from claims_world import DOS, at, reference
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine
from test_edits import BILLING, COVERAGE, ELIGIBLE, RENDERING, make_context, make_session

from rcm.claims.adapters import session_of
from rcm.claims.domain.claim import ClaimDraft, build_claim
from rcm.claims.domain.coding import CodedSession, NotBillable, code_session
from rcm.claims.domain.common import Credential
from rcm.claims.domain.edits import ScrubContext, Severity, scrub
from rcm.claims.domain.edits.bundling import add_ons_have_primary
from rcm.claims.domain.edits.care_management import care_management_program_of, care_management_programs_apart
from rcm.claims.domain.edits.filing import not_a_duplicate
from rcm.claims.domain.edits.units import units_fit_the_code
from rcm.claims.domain.fee_schedule import FeeSchedule, FeeScheduleRate
from rcm.claims.domain.history import BilledService
from rcm.claims.domain.payer_rules import PayerRules, TelehealthRules
from rcm.claims.domain.session import Session
from rcm.claims.store import claim
from rcm.events import testing as f
from rcm.events.models import ProviderUpdated

MONTH_END = date(2025, 3, 31)
MEDICARE = PayerRules(medicare=True)
COMMERCIAL = PayerRules()
RATES = {"99492": "160.00", "99493": "130.00", "99494": "65.00", "G2214": "60.00", "99484": "45.00"}
FEES = FeeSchedule(
    rates=tuple(FeeScheduleRate(procedure_code=c, amount=Decimal(a)) for c, a in RATES.items())
)


def month(
    minutes: int, program: str = "collaborative_care", initial: bool | None = True, **more: Any
) -> Session:
    """A care-management month's tally of ``minutes``, dated the month's last day."""
    fields: dict[str, Any] = {
        "service_kind": "care_management",
        "care_management_program": program,
        "initial_month": initial if program == "collaborative_care" else None,
        "minutes": minutes,
        "date_of_service": MONTH_END,
        "diagnoses": ["F33.1"],
    }
    return make_session(**{**fields, **more})


def context(**more: Any) -> ScrubContext:
    """The edits' context a few days after the month's end, its eligibility checked for that day."""
    fields = {
        "today": MONTH_END + timedelta(days=3),
        "eligibility": (ELIGIBLE.model_copy(update={"service_date": MONTH_END}),),
    }
    return make_context(**{**fields, **more})


def codes(
    session: Session, rules: PayerRules = COMMERCIAL, credential: Credential = Credential.MD
) -> list[str] | str:
    coded = code_session(session, credential=credential, rules=rules, fee_schedule=FEES)
    if isinstance(coded, NotBillable):
        return coded.reason.value
    return [f"{line.code}x{line.units}" for line in coded.lines]


# ---------------------------------------------------------------- coding: thresholds


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (35, "under_minimum_time"),
        (36, ["99492x1"]),
        (85, ["99492x1"]),
        (86, ["99492x1", "99494x1"]),
        (115, ["99492x1", "99494x1"]),
        (116, ["99492x1", "99494x2"]),
        (146, ["99492x1", "99494x3"]),
    ],
)
def test_a_first_month_of_collaborative_care_is_99492_from_36_minutes(minutes: int, expected: Any) -> None:
    assert codes(month(minutes, initial=True)) == expected


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (30, "under_minimum_time"),
        (31, ["99493x1"]),
        (75, ["99493x1"]),
        (76, ["99493x1", "99494x1"]),
        (105, ["99493x1", "99494x1"]),
        (106, ["99493x1", "99494x2"]),
    ],
)
def test_a_later_month_of_collaborative_care_is_99493_from_31_minutes(minutes: int, expected: Any) -> None:
    assert codes(month(minutes, initial=False)) == expected


@pytest.mark.parametrize(
    ("initial", "minutes", "expected"),
    [
        (True, 15, "under_minimum_time"),
        (True, 16, ["G2214x1"]),
        (True, 35, ["G2214x1"]),
        (True, 36, ["99492x1"]),
        (False, 15, "under_minimum_time"),
        (False, 16, ["G2214x1"]),
        (False, 30, ["G2214x1"]),
        (False, 31, ["99493x1"]),
    ],
)
def test_medicare_bills_g2214_under_the_cpt_thresholds_from_16_minutes(
    initial: bool, minutes: int, expected: Any
) -> None:
    assert codes(month(minutes, initial=initial), MEDICARE) == expected


@pytest.mark.parametrize(("initial", "minutes"), [(True, 16), (True, 35), (False, 16), (False, 30)])
def test_another_payer_pays_nothing_under_the_cpt_thresholds(initial: bool, minutes: int) -> None:
    result = code_session(month(minutes, initial=initial), credential=Credential.MD, rules=COMMERCIAL)
    assert isinstance(result, NotBillable)
    assert result.reason.value == "under_minimum_time"
    assert "G2214" in result.message and "not Medicare" in result.message


def test_under_16_minutes_nobody_pays() -> None:
    result = code_session(month(15), credential=Credential.MD, rules=MEDICARE)
    assert isinstance(result, NotBillable)
    assert "under the 16 minutes of Medicare's G2214" in result.message


@pytest.mark.parametrize("rules", [COMMERCIAL, MEDICARE])
@pytest.mark.parametrize(
    ("minutes", "expected"), [(19, "under_minimum_time"), (20, ["99484x1"]), (90, ["99484x1"])]
)
def test_general_bhi_is_one_99484_from_20_minutes(minutes: int, expected: Any, rules: PayerRules) -> None:
    assert codes(month(minutes, program="general_bhi"), rules) == expected


@pytest.mark.parametrize("credential", [Credential.LCSW, Credential.PSYD, Credential.LMFT, Credential.LPC])
@pytest.mark.parametrize(("minutes", "expected"), [(19, "under_minimum_time"), (20, ["G0323x1"])])
def test_medicare_general_bhi_by_a_therapist_is_g0323(
    credential: Credential, minutes: int, expected: Any
) -> None:
    month_of_bhi = month(minutes, program="general_bhi")
    assert codes(month_of_bhi, MEDICARE, credential) == expected
    # another payer keeps the CPT code, and a prescriber bills Medicare 99484
    assert codes(month_of_bhi, COMMERCIAL, credential) == (["99484x1"] if minutes >= 20 else expected)
    assert codes(month_of_bhi, MEDICARE, Credential.NP) == (["99484x1"] if minutes >= 20 else expected)


@pytest.mark.parametrize("credential", [Credential.LCSW, Credential.PHD, Credential.ASSOCIATE])
def test_collaborative_care_is_billed_by_a_practitioner_who_bills_e_m(credential: Credential) -> None:
    for rules in (COMMERCIAL, MEDICARE):
        assert codes(month(90), rules, credential) == "not_permitted_for_credential"
    assert codes(month(90), MEDICARE, Credential.PA) == ["99492x1", "99494x1"]


def test_g0323_and_collaborative_care_are_apart_in_a_month_as_99484_is() -> None:
    assert care_management_program_of("G0323") == care_management_program_of("99484") == "general BHI"


def test_each_line_says_the_rule_behind_it() -> None:
    coded = code_session(month(90), credential=Credential.MD, fee_schedule=FEES)
    assert isinstance(coded, CodedSession)
    base, add_on = coded.lines
    assert "36+ min -> 99492" in base.rule and "CPT time rule as CMS applies it" in base.rule
    assert "+99494 x1" in add_on.rule and "first at 86 min" in add_on.rule and add_on.add_on
    assert coded.date_of_service == MONTH_END  # the session's date as sent


# ---------------------------------------------------------------- coding: no visit extras


def test_a_month_by_video_is_billed_at_the_office_without_telehealth_modifiers() -> None:
    rules = PayerRules(telehealth=TelehealthRules(video_modifiers=("95",)))
    session = month(
        40, modality="video", place_of_service="02", patient_location={"state": "NY", "at_home": True}
    )
    coded = code_session(session, credential=Credential.MD, rules=rules, fee_schedule=FEES)
    assert isinstance(coded, CodedSession)
    assert [(line.code, line.place_of_service, line.modifiers) for line in coded.lines] == [
        ("99492", "11", ())
    ]
    assert "not as telehealth" in coded.lines[0].modifier_rules[0]
    claim = build_claim(session, coded, coverage=COVERAGE, billing=BILLING, rendering=RENDERING, rules=rules)
    result = scrub(claim, context(rules=rules))
    assert [f.code for f in result.holds] == []


def test_a_place_of_service_the_session_gives_is_kept() -> None:
    coded = code_session(month(40, place_of_service="22"), credential=Credential.MD)
    assert isinstance(coded, CodedSession) and coded.place_of_service == "22"


def test_audio_only_contacts_bill_the_month_even_where_the_payer_pays_no_audio_only_visit() -> None:
    rules = PayerRules(telehealth=TelehealthRules(audio_only_allowed=False))
    assert codes(month(40, modality="audio_only"), rules) == ["99492x1"]


def test_instruments_and_interactive_complexity_on_a_tally_are_noted_not_billed() -> None:
    coded = code_session(
        month(40, screening_instruments=2, interactive_complexity=True), credential=Credential.MD
    )
    assert isinstance(coded, CodedSession)
    assert [line.code for line in coded.lines] == ["99492"]
    assert any(note.startswith("96127: 2 instruments") for note in coded.notes)
    assert any("+90785 is not billable with 99492" in note for note in coded.notes)


# ---------------------------------------------------------------- the session


def test_a_care_management_session_names_its_program() -> None:
    with pytest.raises(ValidationError, match="care_management_program"):
        make_session(service_kind="care_management", minutes=40)
    with pytest.raises(ValidationError, match="care_management_program"):
        make_session(care_management_program="general_bhi")
    with pytest.raises(ValidationError, match="initial_month"):
        make_session(service_kind="care_management", care_management_program="collaborative_care")
    with pytest.raises(ValidationError, match="initial_month"):
        make_session(initial_month=True)


def test_the_event_adapts_with_its_program_first_month_and_minutes() -> None:
    event = f.session_completed(
        1,
        minutes=88,
        service_kind="care_management",
        care_management_program="collaborative_care",
        initial_month=False,
    )
    session = session_of(event)
    assert (session.care_management_program, session.initial_month, session.minutes) == (
        "collaborative_care",
        False,
        88,
    )
    assert codes(session) == ["99493x1", "99494x1"]


# ---------------------------------------------------------------- edits


def made(session: Session, rules: PayerRules = COMMERCIAL) -> ClaimDraft:
    coded = code_session(session, credential=Credential.MD, rules=rules, fee_schedule=FEES)
    assert isinstance(coded, CodedSession), coded
    return build_claim(session, coded, coverage=COVERAGE, billing=BILLING, rendering=RENDERING, rules=rules)


def billed(code: str, day: date = date(2025, 3, 10), **more: Any) -> BilledService:
    fields: dict[str, Any] = {
        "claim_key": "CLMEARLIER",
        "session_id": "ses_earlier",
        "patient_id": "pat_test_1",
        "rendering_provider_id": "prv_other",
        "date_of_service": day,
        "code": code,
    }
    return BilledService(**{**fields, **more})


def holds(edit: Any, claim: ClaimDraft, *history: BilledService) -> set[str]:
    return {f.code for f in edit(claim, make_context(history=history)) if f.severity is Severity.HOLD}


def test_a_second_tally_of_a_program_for_the_month_is_a_duplicate_whoever_billed_the_first() -> None:
    claim = made(month(40, initial=False))
    assert holds(not_a_duplicate, claim, billed("99493")) == {"duplicate.month"}
    assert holds(not_a_duplicate, claim, billed("G2214")) == {"duplicate.month"}  # the same program
    (finding,) = not_a_duplicate(claim, make_context(history=(billed("99492"),)))
    assert "once a calendar month" in finding.message and "2025-03" in finding.message
    assert "session-corrected" in finding.fix


@pytest.mark.parametrize(
    "earlier",
    [
        billed("99493", date(2025, 2, 28)),  # another month
        billed("99493", voided=True),  # voided
        billed("99493", session_id="ses_test_1"),  # the same session's claim (to another payer)
        billed("99484"),  # another program, by another practitioner
    ],
)
def test_other_months_voided_claims_and_the_sessions_own_are_not_duplicates(earlier: BilledService) -> None:
    assert holds(not_a_duplicate, made(month(40, initial=False)), earlier) == set()


def test_a_general_bhi_month_is_a_duplicate_of_an_earlier_one() -> None:
    assert holds(not_a_duplicate, made(month(30, program="general_bhi")), billed("99484")) == {
        "duplicate.month"
    }


def test_99484_is_not_billed_in_a_month_of_collaborative_care_by_the_same_practitioner() -> None:
    bhi = made(month(30, program="general_bhi"))
    same = {"rendering_provider_id": RENDERING.provider_id}
    for cocm in ("99492", "99493", "G2214"):
        assert holds(care_management_programs_apart, bhi, billed(cocm, **same)) == {
            "code.care_management_same_month"
        }
    (finding,) = care_management_programs_apart(bhi, make_context(history=(billed("99492", **same),)))
    assert "99484 (general BHI) with 99492 on claim CLMEARLIER in 2025-03" in finding.message
    # the other way round: collaborative care after the month's 99484
    cocm = made(month(40))
    assert holds(care_management_programs_apart, cocm, billed("99484", **same)) == {
        "code.care_management_same_month"
    }


def test_99484_beside_another_practitioners_or_another_months_collaborative_care_passes() -> None:
    bhi = made(month(30, program="general_bhi"))
    assert holds(care_management_programs_apart, bhi, billed("99492")) == set()
    same = {"rendering_provider_id": RENDERING.provider_id}
    assert holds(care_management_programs_apart, bhi, billed("99492", date(2025, 4, 1), **same)) == set()


def test_a_clean_month_passes_every_edit() -> None:
    claim = made(month(120, initial=False))
    assert claim.codes == ("99493", "99494")
    assert [(line.units, line.charge) for line in claim.lines] == [
        (1, Decimal("130.00")),
        (2, Decimal("130.00")),
    ]
    assert scrub(claim, context()).findings == ()
    medicare = made(month(20, initial=False), MEDICARE)
    assert medicare.codes == ("G2214",)
    assert scrub(medicare, context(rules=MEDICARE)).findings == ()


def test_the_month_codes_are_one_unit_and_99494_needs_its_primary() -> None:
    claim = made(month(120, initial=False))
    base, add_on = claim.lines
    two = claim.model_copy(update={"lines": (base.model_copy(update={"units": 2}), add_on)})
    findings = units_fit_the_code(two, make_context())
    assert [(f.code, "at most 1 a month" in f.message) for f in findings] == [("units.too_many", True)]
    alone = claim.model_copy(update={"lines": (add_on.model_copy(update={"line_number": 1}),)})
    assert holds(add_ons_have_primary, alone) == {"add_on.no_primary"}


# ---------------------------------------------------------------- through the claims handlers


def _tally(
    session_id: str, day: date, minutes: int, *, factory: Any = f.session_completed, **more: Any
) -> Any:
    """Patient 1's collaborative care month (the episode's first) as the clinical system sends it."""
    start = at(day)
    return factory(
        1,
        session_id=session_id,
        minutes=minutes,
        start=start,
        end=start + timedelta(minutes=minutes),
        service_kind="care_management",
        care_management_program="collaborative_care",
        initial_month=True,
        modality="video",
        patient_location={"state": "NY", "at_home": True},
        screening_instruments=1,
        note_signed_at=start + timedelta(minutes=minutes + 60),
        **more,
    )


async def test_a_month_tally_is_coded_and_a_second_one_for_the_month_held_as_a_duplicate(
    engine: AsyncEngine,
) -> None:
    h = handlers()
    charge_master = f.fee_schedule_updated(
        1,
        kind="charge_master",
        payer_id=None,
        effective={"start": "2024-01-01"},
        rates=[{"procedure_code": c, "amount": a} for c, a in RATES.items()],
    )
    refs = [
        charge_master if e.__class__ is charge_master.__class__ else e
        for e in reference(1, electronic_payer_id="EVRGRN", member_id="EVG100000001")
    ]
    # collaborative care is billed by the treating practitioner who bills E/M: a psychiatric NP
    refs = [
        ProviderUpdated.model_validate(
            {
                **e.model_dump(),
                "credential": "NP",
                "licenses": [{**lic.model_dump(), "license_type": "NP"} for lic in e.licenses],
            }
        )
        if isinstance(e, ProviderUpdated)
        else e
        for e in refs
    ]
    first = _tally("ses-0001", DOS, 90)
    await apply(engine, h, *refs, first)
    (made_claim,) = await rows(engine, claim.c.session_id == "ses-0001")
    assert made_claim.state == "ready", made_claim.hold_reasons
    lines = [
        (ln["code"], ln["units"], ln["place_of_service"], ln["modifiers"]) for ln in made_claim.draft["lines"]
    ]
    assert lines == [("99492", 1, "11", []), ("99494", 1, "11", [])]  # no 95, no POS 10, no 96127

    # the month's tally corrected (more minutes): the session's own claim is no duplicate of it
    await apply(engine, h, _tally("ses-0001", DOS, 120, factory=f.session_corrected, diagnoses=["F33.1"]))
    live = [r for r in await rows(engine, claim.c.session_id == "ses-0001") if r.state != "voided"]
    assert [(r.state, [(ln["code"], ln["units"]) for ln in r.draft["lines"]]) for r in live] == [
        ("ready", [("99492", 1), ("99494", 2)])
    ]

    # a second tally for the same calendar month, from another session: held as a duplicate
    other_day = DOS - timedelta(days=1) if DOS.day > 1 else DOS + timedelta(days=1)
    await apply(engine, h, _tally("ses-0001-b", other_day, 40))
    (second,) = await rows(engine, claim.c.session_id == "ses-0001-b")
    assert second.state == "held"
    assert [r["message"].split(":")[0] for r in second.hold_reasons] == ["duplicate.month"]
