"""SBIRT, tobacco cessation and the other psychiatric services (90875-90889).

SBIRT is 99408 at 15-30 minutes and 99409 over 30; Medicare pays G2011 (5-14), G0396 (15-30) and
G0397 (over 30) instead. Tobacco cessation is 99406 over 3 up to 10 minutes, 99407 over 10.
Biofeedback psychotherapy is 90875 from 16 psychotherapy minutes and 90876 from 38 (CPT time rule);
90880-90889 are untimed and named by the session. One code of a family a day, an E/M beside SBIRT or
tobacco cessation with 25, hypnotherapy not with psychotherapy or E/M, one unit a day; Medicare holds
what its fee schedule does not pay (status N, B, I). Any licensed clinician may bill them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError
from test_edits import (
    BILLING,
    COVERAGE,
    DOS,
    RENDERING,
    held_by,
    make_context,
    make_session,
)

from rcm.claims.adapters import session_of
from rcm.claims.domain.claim import ClaimDraft, build_claim
from rcm.claims.domain.coding import CodedSession, NotBillable, code_session
from rcm.claims.domain.common import Credential
from rcm.claims.domain.edits import Severity, scrub
from rcm.claims.domain.edits.bundling import em_marked_beside_behavior_change, same_day_pairs
from rcm.claims.domain.edits.credentials import rendering_may_bill_codes
from rcm.claims.domain.edits.medicare_status import medicare_pays_the_code
from rcm.claims.domain.edits.units import units_fit_the_code
from rcm.claims.domain.fee_schedule import FeeSchedule, FeeScheduleRate
from rcm.claims.domain.history import BilledService
from rcm.claims.domain.payer_rules import PayerRules
from rcm.claims.domain.session import Session
from rcm.claims.handlers import hold_reasons_of
from rcm.events import testing as f
from rcm.events.models import HoldReasonCode

pytestmark = pytest.mark.unit

MEDICARE = PayerRules(medicare=True)
COMMERCIAL = PayerRules()
CODES = ("99406", "99407", "99408", "99409", "G2011", "G0396", "G0397", "90875", "90876", "99214")
FEES = FeeSchedule(
    rates=tuple(
        FeeScheduleRate(procedure_code=code, amount=Decimal("50.00"))
        for code in (*CODES, "90880", "90882", "90885", "90887", "90889")
    )
)


def session(kind: str, minutes: int = 20, **more: Any) -> Session:
    return make_session(service_kind=kind, minutes=minutes, **more)


def codes(
    sess: Session, rules: PayerRules = COMMERCIAL, credential: Credential = Credential.LCSW
) -> list[str] | str:
    coded = code_session(sess, credential=credential, rules=rules, fee_schedule=FEES)
    if isinstance(coded, NotBillable):
        return coded.reason.value
    return [f"{line.code}x{line.units}" for line in coded.lines]


def made(
    sess: Session, rules: PayerRules = COMMERCIAL, credential: Credential = Credential.LCSW
) -> ClaimDraft:
    coded = code_session(sess, credential=credential, rules=rules, fee_schedule=FEES)
    assert isinstance(coded, CodedSession), coded
    rendering = RENDERING.model_copy(update={"credential": credential})
    return build_claim(sess, coded, coverage=COVERAGE, billing=BILLING, rendering=rendering, rules=rules)


def billed(code: str, **more: Any) -> BilledService:
    """A service the same clinician billed the patient the same day, on another claim."""
    fields: dict[str, Any] = {
        "claim_key": "CLMEARLIER",
        "session_id": "ses_earlier",
        "patient_id": "pat_test_1",
        "rendering_provider_id": RENDERING.provider_id,
        "date_of_service": DOS,
        "code": code,
    }
    return BilledService(**{**fields, **more})


# ---------------------------------------------------------------- SBIRT


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (4, "under_minimum_time"),
        (14, "under_minimum_time"),
        (15, ["99408x1"]),
        (30, ["99408x1"]),
        (31, ["99409x1"]),
        (90, ["99409x1"]),
    ],
)
def test_sbirt_is_99408_at_15_to_30_minutes_and_99409_over_30(minutes: int, expected: Any) -> None:
    assert codes(session("sbirt", minutes)) == expected


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (4, "under_minimum_time"),
        (5, ["G2011x1"]),
        (14, ["G2011x1"]),
        (15, ["G0396x1"]),
        (30, ["G0396x1"]),
        (31, ["G0397x1"]),
        (90, ["G0397x1"]),
    ],
)
def test_medicare_sbirt_is_g2011_from_5_minutes_g0396_from_15_g0397_over_30(
    minutes: int, expected: Any
) -> None:
    assert codes(session("sbirt", minutes), MEDICARE) == expected


def test_sbirt_under_its_minimum_says_why_and_each_line_its_rule() -> None:
    short = code_session(session("sbirt", 14), credential=Credential.LCSW)
    assert isinstance(short, NotBillable)
    assert "under the 15 minutes of 99408" in short.message and "not separately billable" in short.message
    coded = code_session(session("sbirt", 12), credential=Credential.LCSW, rules=MEDICARE)
    assert isinstance(coded, CodedSession)
    assert "5-14 min -> G2011" in coded.lines[0].rule and "pays no 99408/99409" in coded.lines[0].rule


# ---------------------------------------------------------------- tobacco cessation


@pytest.mark.parametrize("rules", [COMMERCIAL, MEDICARE])
@pytest.mark.parametrize(
    ("minutes", "expected"),
    [(3, "under_minimum_time"), (4, ["99406x1"]), (10, ["99406x1"]), (11, ["99407x1"]), (40, ["99407x1"])],
)
def test_tobacco_cessation_is_99406_over_3_up_to_10_minutes_and_99407_over_10(
    minutes: int, expected: Any, rules: PayerRules
) -> None:
    assert codes(session("tobacco_cessation", minutes), rules) == expected


# ---------------------------------------------------------------- biofeedback and other psychiatric


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [(15, "under_minimum_time"), (16, ["90875x1"]), (37, ["90875x1"]), (38, ["90876x1"]), (75, ["90876x1"])],
)
def test_biofeedback_psychotherapy_is_90875_from_16_minutes_and_90876_from_38(
    minutes: int, expected: Any
) -> None:
    assert codes(session("biofeedback_psychotherapy", minutes)) == expected


def test_biofeedback_psychotherapy_is_coded_on_its_psychotherapy_minutes() -> None:
    assert codes(session("biofeedback_psychotherapy", 50, psychotherapy_minutes=30)) == ["90875x1"]


@pytest.mark.parametrize("code", ["90880", "90882", "90885", "90887", "90889"])
def test_an_other_psychiatric_session_bills_the_untimed_code_it_names(code: str) -> None:
    assert codes(session("other_psychiatric", 5, service_code=code)) == [f"{code}x1"]
    assert codes(session("other_psychiatric", 120, service_code=code)) == [f"{code}x1"]


@pytest.mark.parametrize("code", ["90875", "90834", "H0004"])
def test_an_other_psychiatric_session_naming_another_code_is_not_billed(code: str) -> None:
    assert codes(session("other_psychiatric", service_code=code)) == "unknown_service_code"


def test_an_other_psychiatric_session_names_its_code() -> None:
    with pytest.raises(ValidationError, match="service_code"):
        session("other_psychiatric")


def test_interactive_complexity_is_not_added_to_these_codes() -> None:
    coded = code_session(
        session("biofeedback_psychotherapy", 40, interactive_complexity=True), credential=Credential.LCSW
    )
    assert isinstance(coded, CodedSession)
    assert [line.code for line in coded.lines] == ["90876"]
    assert any("+90785 is not billable with 90876" in note for note in coded.notes)


def test_the_event_kinds_adapt_and_code_from_the_minutes() -> None:
    event = f.session_completed(1, minutes=35, service_kind="sbirt")
    assert codes(session_of(event)) == ["99409x1"]
    event = f.session_completed(1, minutes=8, service_kind="tobacco_cessation")
    assert codes(session_of(event)) == ["99406x1"]
    event = f.session_completed(1, minutes=30, service_kind="other_psychiatric", service_code="90887")
    assert codes(session_of(event)) == ["90887x1"]


# ---------------------------------------------------------------- same day


@pytest.mark.parametrize(
    ("kind", "minutes", "rules", "earlier"),
    [
        ("sbirt", 40, COMMERCIAL, "99408"),  # 99409 after 99408
        ("sbirt", 20, COMMERCIAL, "99409"),
        ("sbirt", 20, MEDICARE, "G2011"),  # G0396 after G2011
        ("sbirt", 40, MEDICARE, "G0396"),
        ("sbirt", 20, COMMERCIAL, "G0396"),  # the CPT code and Medicare's for one service
        ("tobacco_cessation", 15, COMMERCIAL, "99406"),
        ("tobacco_cessation", 5, COMMERCIAL, "99407"),
        ("biofeedback_psychotherapy", 45, COMMERCIAL, "90875"),
        ("biofeedback_psychotherapy", 30, COMMERCIAL, "90837"),  # it includes the psychotherapy
        ("biofeedback_psychotherapy", 30, COMMERCIAL, "90901"),  # and the biofeedback training
    ],
)
def test_one_code_of_a_family_a_day_by_a_clinician(
    kind: str, minutes: int, rules: PayerRules, earlier: str
) -> None:
    claim = made(session(kind, minutes), rules)
    assert held_by(same_day_pairs, claim, make_context(rules=rules, history=(billed(earlier),))) == {
        "bundling.same_day_pair"
    }
    # another clinician's service that day is theirs
    other = billed(earlier, rendering_provider_id="prv_other")
    assert held_by(same_day_pairs, claim, make_context(rules=rules, history=(other,))) == set()


@pytest.mark.parametrize("earlier", ["90832", "90834", "90837", "90833", "99214"])
def test_hypnotherapy_is_not_billed_with_psychotherapy_or_an_em_the_same_day(earlier: str) -> None:
    claim = made(session("other_psychiatric", service_code="90880"))
    (finding,) = same_day_pairs(claim, make_context(history=(billed(earlier),)))
    assert "NCCI: 90880 column one, modifier indicator 0" in finding.message
    assert finding.fix == f"bill only one of 90880 and {earlier}"


@pytest.mark.parametrize("earlier", ["90839", "96158"])
def test_crisis_and_health_behavior_are_not_billed_the_day_of_these_psychiatric_codes(earlier: str) -> None:
    for claim in (
        made(session("other_psychiatric", service_code="90885")),
        made(session("biofeedback_psychotherapy", 30)),
    ):
        assert held_by(same_day_pairs, claim, make_context(history=(billed(earlier),))) == {
            "bundling.same_day_pair"
        }


@pytest.mark.parametrize("earlier", ["99406", "99408", "G0397"])
def test_an_em_the_day_of_sbirt_or_tobacco_cessation_carries_25(earlier: str) -> None:
    visit = make_session(
        service_kind="em_with_psychotherapy", em_code="99214", minutes=45, psychotherapy_minutes=20
    )
    coded = code_session(visit, credential=Credential.MD, fee_schedule=FEES, same_day=(billed(earlier),))
    assert isinstance(coded, CodedSession)
    em, add_on = coded.lines
    assert (em.code, em.modifiers, add_on.modifiers) == ("99214", ("25",), ())
    assert any(f"separately identifiable from {earlier}" in rule for rule in em.modifier_rules)
    # without the intervention, or beside another clinician's, the E/M has no 25
    alone = code_session(visit, credential=Credential.MD, fee_schedule=FEES)
    theirs = code_session(
        visit,
        credential=Credential.MD,
        fee_schedule=FEES,
        same_day=(billed(earlier, rendering_provider_id="prv_other"),),
    )
    assert isinstance(alone, CodedSession) and isinstance(theirs, CodedSession)
    assert alone.lines[0].modifiers == theirs.lines[0].modifiers == ()


def test_sbirt_after_an_em_billed_without_25_notes_the_correction_it_needs() -> None:
    coded = code_session(session("sbirt", 20), credential=Credential.MD, same_day=(billed("99214"),))
    assert isinstance(coded, CodedSession)
    assert any(
        "99214 already billed today (claim CLMEARLIER) needs 25 beside 99408" in n for n in coded.notes
    )
    marked = code_session(
        session("sbirt", 20), credential=Credential.MD, same_day=(billed("99214", modifiers=("25",)),)
    )
    assert isinstance(marked, CodedSession) and not any("needs 25" in n for n in marked.notes)


def test_an_em_claim_without_25_the_day_of_the_clinicians_intervention_is_held() -> None:
    visit = make_session(
        service_kind="em_with_psychotherapy", em_code="99214", minutes=45, psychotherapy_minutes=20
    )
    claim = made(visit, credential=Credential.MD)
    assert claim.lines[0].modifiers == ()
    assert held_by(em_marked_beside_behavior_change, claim, make_context(history=(billed("99407"),))) == {
        "modifier.em_without_25"
    }
    assert held_by(em_marked_beside_behavior_change, claim, make_context()) == set()
    other = billed("99407", rendering_provider_id="prv_other")
    assert held_by(em_marked_beside_behavior_change, claim, make_context(history=(other,))) == set()
    marked = claim.model_copy(
        update={"lines": (claim.lines[0].model_copy(update={"modifiers": ("25",)}), claim.lines[1])}
    )
    assert (
        held_by(em_marked_beside_behavior_change, marked, make_context(history=(billed("99407"),))) == set()
    )


# ---------------------------------------------------------------- units


@pytest.mark.parametrize(
    ("kind", "minutes", "code"),
    [
        ("sbirt", 20, None),
        ("tobacco_cessation", 20, None),
        ("biofeedback_psychotherapy", 40, None),
        ("other_psychiatric", 20, "90880"),
        ("other_psychiatric", 20, "90889"),
    ],
)
def test_these_codes_are_one_unit_a_day(kind: str, minutes: int, code: str | None) -> None:
    claim = made(session(kind, minutes, service_code=code))
    two = claim.model_copy(update={"lines": (claim.lines[0].model_copy(update={"units": 2}),)})
    assert held_by(units_fit_the_code, two) == {"units.too_many"}
    assert held_by(units_fit_the_code, claim) == set()


# ---------------------------------------------------------------- Medicare's fee schedule status


@pytest.mark.parametrize(
    ("kind", "minutes", "code", "finding"),
    [
        ("biofeedback_psychotherapy", 20, None, "code.medicare_not_covered"),  # 90875: status N
        ("biofeedback_psychotherapy", 45, None, "code.medicare_not_covered"),  # 90876
        ("other_psychiatric", 20, "90882", "code.medicare_not_covered"),
        ("other_psychiatric", 20, "90885", "code.medicare_bundled"),  # status B
        ("other_psychiatric", 20, "90887", "code.medicare_bundled"),
        ("other_psychiatric", 20, "90889", "code.medicare_bundled"),
    ],
)
def test_medicare_holds_what_its_fee_schedule_does_not_pay(
    kind: str, minutes: int, code: str | None, finding: str
) -> None:
    sess = session(kind, minutes, service_code=code)
    assert held_by(medicare_pays_the_code, made(sess, MEDICARE), make_context(rules=MEDICARE)) == {finding}
    # another payer pays it: no finding
    assert held_by(medicare_pays_the_code, made(sess), make_context()) == set()


def test_medicare_pays_hypnotherapy_tobacco_cessation_and_its_sbirt_codes() -> None:
    for sess in (
        session("other_psychiatric", service_code="90880"),
        session("tobacco_cessation", 8),
        session("sbirt", 10),
        session("sbirt", 20),
        session("sbirt", 40),
    ):
        assert medicare_pays_the_code(made(sess, MEDICARE), make_context(rules=MEDICARE)) == []


def test_a_cpt_sbirt_code_on_a_medicare_claim_is_held_with_medicares_code_to_bill() -> None:
    claim = made(session("sbirt", 20))  # coded for another payer, then sent to Medicare
    (finding,) = medicare_pays_the_code(claim, make_context(rules=MEDICARE))
    assert finding.code == "code.medicare_not_valid" and "G0396" in finding.fix


def test_a_medicare_hold_is_a_code_not_billable_reason_on_the_claim() -> None:
    claim = made(session("other_psychiatric", service_code="90885"), MEDICARE)
    findings = medicare_pays_the_code(claim, make_context(rules=MEDICARE))
    (reason,) = hold_reasons_of(claim, findings)
    assert reason.code is HoldReasonCode.CODE_NOT_BILLABLE and reason.line_key == claim.lines[0].line_key


# ---------------------------------------------------------------- who may bill them


@pytest.mark.parametrize(
    "credential",
    [
        Credential.LCSW,
        Credential.LPC,
        Credential.LMFT,
        Credential.LCADC,
        Credential.PSYD,
        Credential.MD,
        Credential.NP,
    ],
)
def test_any_licensed_clinician_may_bill_sbirt_tobacco_and_the_other_psychiatric_codes(
    credential: Credential,
) -> None:
    for sess in (
        session("sbirt", 20),
        session("tobacco_cessation", 8),
        session("biofeedback_psychotherapy", 30),
        session("other_psychiatric", service_code="90880"),
    ):
        claim = made(sess, credential=credential)
        assert held_by(rendering_may_bill_codes, claim) == set()


@pytest.mark.parametrize(
    ("sess", "rules"),
    [
        (session("sbirt", 20, diagnoses=["F10.10"]), COMMERCIAL),
        (session("sbirt", 20, diagnoses=["F10.10"]), MEDICARE),
        (session("tobacco_cessation", 12, diagnoses=["F17.210"]), COMMERCIAL),
        (session("other_psychiatric", service_code="90880"), COMMERCIAL),
    ],
)
def test_a_clean_claim_passes_every_edit(sess: Session, rules: PayerRules) -> None:
    result = scrub(made(sess, rules), make_context(rules=rules))
    assert [f.code for f in result.findings if f.severity is Severity.HOLD] == []
