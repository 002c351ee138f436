"""The coding rules as a table: each row is a rule, a session and the lines it must code.

Lines are written ``code[xUNITS][-MODIFIER...]``, e.g. ``90840x2`` or ``90837-AJ-95``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest

from rcm.claims.domain.coding import CodedLine, CodedSession, NotBillable, NotBillableReason, code_session
from rcm.claims.domain.common import Credential, Program
from rcm.claims.domain.history import BilledService
from rcm.claims.domain.payer_rules import (
    DistinctServiceModifierStyle,
    LicensureModifierRule,
    PayerRules,
    TelehealthRules,
    UnitRounding,
    UnitRoundingRule,
)
from rcm.claims.domain.session import Session

pytestmark = pytest.mark.unit

DOS = date(2025, 3, 4)

MEDICARE_STYLE = PayerRules()
MEDICARE = PayerRules(medicare=True)
IN_PERSON_POS_AND_95 = PayerRules(telehealth=TelehealthRules(use_in_person_pos=True, video_modifiers=("95",)))
POS_AND_95 = PayerRules(telehealth=TelehealthRules(video_modifiers=("95",)))
LEGACY_GT = PayerRules(telehealth=TelehealthRules(video_modifiers=("GT",)))
AUDIO_FQ = PayerRules(telehealth=TelehealthRules(audio_only_modifiers=("FQ",)))
NO_AUDIO_ONLY = PayerRules(telehealth=TelehealthRules(audio_only_allowed=False))
AUDIO_ONLY_AT_HOME = PayerRules(telehealth=TelehealthRules(audio_only_requires_patient_home=True))
MEDICAID_NY = PayerRules(
    telehealth=TelehealthRules(video_modifiers=("95",)),
    licensure_modifiers=(
        LicensureModifierRule(credential=Credential.LCSW, state="NY", modifiers=("AJ",)),
        LicensureModifierRule(credential=Credential.LMHC, modifiers=("HO",)),
        LicensureModifierRule(credential=Credential.PSYD, modifiers=("AH",)),
        LicensureModifierRule(program=Program.SUBSTANCE_USE, modifiers=("HF",)),
        LicensureModifierRule(procedure_codes=("90853",), modifiers=("HQ",)),
    ),
)
FULL_UNITS = PayerRules(unit_rounding=UnitRoundingRule(method=UnitRounding.FULL_UNIT))
CAPPED = PayerRules(unit_rounding=UnitRoundingRule(daily_unit_caps={"H0004": 12}))
PROLONGED_OPT_IN = PayerRules(prolonged_psychotherapy_as_two_units=True)
MODIFIER_59 = PayerRules(distinct_service_modifier=DistinctServiceModifierStyle.MODIFIER_59)
EM_WITH_25 = PayerRules(modifier_25_on_em_with_psychotherapy=True)

GROUP_EARLIER_TODAY = (
    BilledService(
        claim_key="GROUPCLAIMKEY0001",
        patient_id="pat_test_1",
        rendering_provider_id="prv_other",
        date_of_service=DOS,
        code="90853",
    ),
)
INTAKE_EARLIER_TODAY = (
    BilledService(
        claim_key="INTAKECLAIMKEY001",
        patient_id="pat_test_1",
        rendering_provider_id="prv_other",
        date_of_service=DOS,
        code="90791",
    ),
)
CRISIS_EARLIER_TODAY_SAME_CLINICIAN = (
    BilledService(
        claim_key="CRISISCLAIMKEY001",
        patient_id="pat_test_1",
        rendering_provider_id="prv_render",
        date_of_service=DOS,
        code="90839",
    ),
)
CRISIS_EARLIER_TODAY_OTHER_CLINICIAN = (
    CRISIS_EARLIER_TODAY_SAME_CLINICIAN[0].model_copy(update={"rendering_provider_id": "prv_other"}),
)
FAMILY_EARLIER_TODAY = (
    CRISIS_EARLIER_TODAY_SAME_CLINICIAN[0].model_copy(
        update={"claim_key": "FAMILYCLAIMKEY001", "code": "90847"}
    ),
)
GROUP_EARLIER_TODAY_SAME_CLINICIAN = (
    GROUP_EARLIER_TODAY[0].model_copy(update={"rendering_provider_id": "prv_render"}),
)
INTAKE_LAST_WEEK = (INTAKE_EARLIER_TODAY[0].model_copy(update={"date_of_service": date(2025, 2, 25)}),)
SEPARATE_ENCOUNTER = {"reason": "separate_encounter"}


def make_session(**overrides: Any) -> Session:
    """A 50-minute in-person individual session in NY, changed by ``overrides``."""
    fields: dict[str, Any] = {
        "session_id": "ses_test_1",
        "patient_id": "pat_test_1",
        "rendering_provider_id": "prv_render",
        "date_of_service": DOS,
        "minutes": 50,
        "service_kind": "individual",
        "patient_location": {"state": "NY", "at_home": False},
        "diagnoses": ["F41.1"],
    }
    fields.update(overrides)
    return Session.model_validate(fields)


@dataclass(frozen=True)
class Case:
    rule: str
    session: dict[str, Any]
    lines: tuple[str, ...] | NotBillableReason
    credential: Credential = Credential.LCSW
    rules: PayerRules = MEDICARE_STYLE
    pos: str | None = None
    same_day: tuple[BilledService, ...] = field(default=())


def individual(minutes: int, **more: Any) -> dict[str, Any]:
    return {"service_kind": "individual", "minutes": minutes, **more}


def em(psychotherapy: int, code: str = "99214", **more: Any) -> dict[str, Any]:
    return {
        "service_kind": "em_with_psychotherapy",
        "em_code": code,
        "minutes": psychotherapy + 20,
        "psychotherapy_minutes": psychotherapy,
        **more,
    }


def crisis(minutes: int, **more: Any) -> dict[str, Any]:
    return {"service_kind": "crisis", "minutes": minutes, **more}


def service(kind: str, code: str, minutes: int, **more: Any) -> dict[str, Any]:
    return {"service_kind": kind, "service_code": code, "minutes": minutes, **more}


def telehealth(modality: str, *, at_home: bool, minutes: int = 55) -> dict[str, Any]:
    return {"minutes": minutes, "modality": modality, "patient_location": {"state": "NY", "at_home": at_home}}


UNDER = NotBillableReason.UNDER_MINIMUM_TIME
MD, NP, PHD, PSYD, LMHC = Credential.MD, Credential.NP, Credential.PHD, Credential.PSYD, Credential.LMHC

CASES: tuple[Case, ...] = (
    # --- individual psychotherapy, CPT midpoint rule
    Case("a 0-minute session is not billable", individual(0), UNDER),
    Case("a 15-minute session is not billable as psychotherapy", individual(15), UNDER),
    Case("a 16-minute session codes 90832", individual(16), ("90832",)),
    Case("a 37-minute session codes 90832", individual(37), ("90832",)),
    Case("a 38-minute session codes 90834", individual(38), ("90834",)),
    Case("a 45-minute session codes 90834", individual(45), ("90834",)),
    Case("a 52-minute session codes 90834", individual(52), ("90834",)),
    Case("a 53-minute session codes 90837", individual(53), ("90837",)),
    Case("a 60-minute session codes 90837", individual(60), ("90837",)),
    Case("a 120-minute session codes one 90837 (no prolonged code since 2023)", individual(120), ("90837",)),
    Case(
        "with the opt-in, a 90-minute session codes 2 units of 90834",
        individual(90),
        ("90834x2",),
        rules=PROLONGED_OPT_IN,
    ),
    Case(
        "with the opt-in, an 89-minute session still codes 90837",
        individual(89),
        ("90837",),
        rules=PROLONGED_OPT_IN,
    ),
    Case("without the opt-in, a 90-minute session codes 90837", individual(90), ("90837",)),
    Case(
        "an opt-in from 60 minutes still needs 76 (38 per unit of 90834)",
        individual(70),
        ("90837",),
        rules=PayerRules(prolonged_psychotherapy_as_two_units=True, prolonged_psychotherapy_from_minutes=60),
    ),
    Case(
        "an opt-in from 60 minutes bills 2 x 90834 at 76",
        individual(76),
        ("90834x2",),
        rules=PayerRules(prolonged_psychotherapy_as_two_units=True, prolonged_psychotherapy_from_minutes=60),
    ),
    Case(
        "interactive complexity adds +90785 to 90834",
        individual(45, interactive_complexity=True),
        ("90834", "90785"),
    ),
    # --- E/M with psychotherapy
    Case("E/M with 15 psychotherapy minutes codes the E/M alone", em(15), ("99214",), credential=MD),
    Case("E/M with 16 psychotherapy minutes adds +90833", em(16), ("99214", "90833"), credential=MD),
    Case("E/M with 37 psychotherapy minutes adds +90833", em(37), ("99214", "90833"), credential=MD),
    Case("E/M with 38 psychotherapy minutes adds +90836", em(38), ("99214", "90836"), credential=MD),
    Case("E/M with 52 psychotherapy minutes adds +90836", em(52), ("99214", "90836"), credential=MD),
    Case("E/M with 53 psychotherapy minutes adds +90838", em(53), ("99214", "90838"), credential=MD),
    Case(
        "an NP's E/M 99213 with 30 psychotherapy minutes adds +90833",
        em(30, "99213"),
        ("99213", "90833"),
        credential=NP,
    ),
    Case(
        "an LCSW cannot bill E/M with psychotherapy", em(30), NotBillableReason.NOT_PERMITTED_FOR_CREDENTIAL
    ),
    Case(
        "a non-E/M code is refused as the E/M of an add-on",
        em(30, "90837"),
        NotBillableReason.UNKNOWN_SERVICE_CODE,
        credential=MD,
    ),
    Case(
        "interactive complexity goes with the psychotherapy add-on",
        em(30, interactive_complexity=True),
        ("99214", "90833", "90785"),
        credential=MD,
    ),
    Case(
        "interactive complexity is not billed with an E/M alone",
        em(10, interactive_complexity=True),
        ("99214",),
        credential=MD,
    ),
    Case(
        "an inpatient follow-up E/M 99232 with 40 psychotherapy minutes adds +90836",
        em(40, "99232"),
        ("99232", "90836"),
        credential=MD,
    ),
    Case(
        "an office consultation 99243 with 20 psychotherapy minutes adds +90833",
        em(20, "99243"),
        ("99243", "90833"),
        credential=MD,
    ),
    Case(
        "a nursing-facility discharge E/M 99316 with 53 psychotherapy minutes adds +90838",
        em(53, "99316"),
        ("99316", "90838"),
        credential=MD,
    ),
    Case(
        "a deleted E/M code (99241, gone since 2023) is refused as the E/M of an add-on",
        em(30, "99241"),
        NotBillableReason.UNKNOWN_SERVICE_CODE,
        credential=MD,
    ),
    Case(
        "E/M with a psychotherapy add-on carries no 25 by default (CPT/CMS do not ask for it)",
        em(30),
        ("99214", "90833"),
        credential=MD,
    ),
    Case(
        "a payer wanting 25 gets it on the E/M, not on the add-on",
        em(45),
        ("99214-25", "90836"),
        credential=MD,
        rules=EM_WITH_25,
    ),
    Case(
        "an E/M without a psychotherapy add-on gets no 25 even where the payer wants it",
        em(15),
        ("99214",),
        credential=MD,
        rules=EM_WITH_25,
    ),
    Case(
        "25 comes before the telehealth modifier on the E/M",
        em(30, modality="video", patient_location={"state": "NY", "at_home": True}),
        ("99214-25-95", "90833-95"),
        credential=MD,
        rules=EM_WITH_25.model_copy(update={"telehealth": TelehealthRules(video_modifiers=("95",))}),
    ),
    # --- crisis
    Case("a 15-minute crisis session is not billable", crisis(15), UNDER),
    Case("a 16-minute crisis session codes 90832", crisis(16), ("90832",)),
    Case("a 29-minute crisis session codes 90832", crisis(29), ("90832",)),
    Case("a 30-minute crisis session codes 90839", crisis(30), ("90839",)),
    Case("a 74-minute crisis session codes 90839", crisis(74), ("90839",)),
    Case("a 75-minute crisis session codes 90839 and one +90840", crisis(75), ("90839", "90840")),
    Case("a 104-minute crisis session codes 90839 and one +90840", crisis(104), ("90839", "90840")),
    Case("a 105-minute crisis session codes 90839 and two +90840", crisis(105), ("90839", "90840x2")),
    Case("a 134-minute crisis session codes 90839 and two +90840", crisis(134), ("90839", "90840x2")),
    Case("a 135-minute crisis session codes 90839 and three +90840", crisis(135), ("90839", "90840x3")),
    Case("a 164-minute crisis session codes 90839 and three +90840", crisis(164), ("90839", "90840x3")),
    Case("a 165-minute crisis session codes 90839 and four +90840", crisis(165), ("90839", "90840x4")),
    Case(
        "a second crisis session the same day by the same clinician is added to the first claim",
        crisis(40),
        NotBillableReason.ALREADY_BILLED_TODAY,
        same_day=CRISIS_EARLIER_TODAY_SAME_CLINICIAN,
    ),
    Case(
        "a crisis session after another clinician's crisis session codes its own 90839",
        crisis(40),
        ("90839",),
        same_day=CRISIS_EARLIER_TODAY_OTHER_CLINICIAN,
    ),
    Case(
        "interactive complexity is not billed with 90839", crisis(60, interactive_complexity=True), ("90839",)
    ),
    Case(
        "Medicare: crisis in person at the patient's home codes G0017",
        crisis(60, place_of_service="12"),
        ("G0017",),
        rules=MEDICARE,
        pos="12",
    ),
    Case(
        "Medicare: 75 minutes of crisis in a mobile unit codes G0017 and one +G0018",
        crisis(75, place_of_service="15"),
        ("G0017", "G0018"),
        rules=MEDICARE,
        pos="15",
    ),
    Case(
        "Medicare: 105 minutes of crisis at a school codes G0017 and two +G0018",
        crisis(105, place_of_service="03"),
        ("G0017", "G0018x2"),
        rules=MEDICARE,
    ),
    Case(
        "Medicare: crisis at the patient's home before 2024 codes 90839 (G0017 is valid from 2024)",
        crisis(60, place_of_service="12", date_of_service=date(2023, 12, 31)),
        ("90839",),
        rules=MEDICARE,
        pos="12",
    ),
    Case(
        "Medicare: crisis at the patient's home on the first day of 2024 codes G0017",
        crisis(60, place_of_service="12", date_of_service=date(2024, 1, 1)),
        ("G0017",),
        rules=MEDICARE,
        pos="12",
    ),
    Case("Medicare: crisis in the office stays 90839", crisis(60), ("90839",), rules=MEDICARE, pos="11"),
    Case(
        "Medicare: crisis in a facility (inpatient psychiatric, POS 51) stays 90839",
        crisis(60, place_of_service="51"),
        ("90839",),
        rules=MEDICARE,
    ),
    Case(
        "Medicare: crisis by video with the patient at home stays 90839 (G0017 is for care given there)",
        crisis(60, modality="video", patient_location={"state": "NY", "at_home": True}),
        ("90839",),
        rules=MEDICARE,
        pos="10",
    ),
    Case(
        "Medicare: crisis under 30 minutes at home codes the psychotherapy code",
        crisis(25, place_of_service="12"),
        ("90832",),
        rules=MEDICARE,
    ),
    Case(
        "another payer: crisis at the patient's home codes 90839",
        crisis(60, place_of_service="12"),
        ("90839",),
    ),
    Case(
        "a payer that opts in to G0017 outside the office codes it at home",
        crisis(60, place_of_service="12"),
        ("G0017",),
        rules=PayerRules(crisis_outside_office_codes=True),
    ),
    Case(
        "a Medicare plan that opts out keeps 90839 at home",
        crisis(60, place_of_service="12"),
        ("90839",),
        rules=PayerRules(medicare=True, crisis_outside_office_codes=False),
    ),
    Case(
        "Medicare: a second crisis session the same day after a G0017 is added to the first claim",
        crisis(40, place_of_service="12"),
        NotBillableReason.ALREADY_BILLED_TODAY,
        rules=MEDICARE,
        same_day=(CRISIS_EARLIER_TODAY_SAME_CLINICIAN[0].model_copy(update={"code": "G0017"}),),
    ),
    Case(
        "a 20-minute crisis coded 90832 may carry +90785",
        crisis(20, interactive_complexity=True),
        ("90832", "90785"),
    ),
    # --- family and group
    Case(
        "25 minutes of family therapy is not billable",
        {"service_kind": "family_with_patient", "minutes": 25},
        UNDER,
    ),
    Case(
        "26 minutes of family therapy with the patient codes 90847",
        {"service_kind": "family_with_patient", "minutes": 26},
        ("90847",),
    ),
    Case(
        "90 minutes of family therapy is still one unit of 90847",
        {"service_kind": "family_with_patient", "minutes": 90},
        ("90847",),
    ),
    Case(
        "26 minutes of family therapy without the patient codes 90846",
        {"service_kind": "family_without_patient", "minutes": 26},
        ("90846",),
    ),
    Case(
        "interactive complexity is not billed with 90846",
        {"service_kind": "family_without_patient", "minutes": 50, "interactive_complexity": True},
        ("90846",),
    ),
    Case(
        "group psychotherapy codes one 90853 for the patient",
        {"service_kind": "group", "minutes": 90, "group_size": 8},
        ("90853",),
    ),
    Case(
        "interactive complexity adds +90785 to 90853",
        {"service_kind": "group", "minutes": 60, "interactive_complexity": True},
        ("90853", "90785"),
    ),
    Case(
        "individual therapy after family therapy the same day, documented separate, carries XE",
        individual(45, distinct_service=SEPARATE_ENCOUNTER),
        ("90834-XE",),
        same_day=FAMILY_EARLIER_TODAY,
    ),
    Case(
        "without documentation, individual after family therapy gets no XE",
        individual(45),
        ("90834",),
        same_day=FAMILY_EARLIER_TODAY,
    ),
    Case(
        "multiple-family group after group the same day, documented separate, carries XE on 90849",
        {"service_kind": "multiple_family_group", "minutes": 60, "distinct_service": SEPARATE_ENCOUNTER},
        ("90849-XE",),
        same_day=GROUP_EARLIER_TODAY_SAME_CLINICIAN,
    ),
    Case(
        "interactive complexity is not billed with 90849",
        {"service_kind": "multiple_family_group", "minutes": 60, "interactive_complexity": True},
        ("90849",),
    ),
    Case(
        "interactive complexity is not billed with 90847",
        {"service_kind": "family_with_patient", "minutes": 50, "interactive_complexity": True},
        ("90847",),
    ),
    Case(
        "multiple-family group codes 90849",
        {"service_kind": "multiple_family_group", "minutes": 60},
        ("90849",),
    ),
    # --- intake
    Case(
        "an LCSW's diagnostic evaluation codes 90791", {"service_kind": "intake", "minutes": 60}, ("90791",)
    ),
    Case(
        "a psychologist's diagnostic evaluation codes 90791",
        {"service_kind": "intake", "minutes": 60},
        ("90791",),
        credential=PHD,
    ),
    Case(
        "an MD's diagnostic evaluation codes 90792",
        {"service_kind": "intake", "minutes": 60},
        ("90792",),
        credential=MD,
    ),
    Case(
        "an NP's diagnostic evaluation codes 90792",
        {"service_kind": "intake", "minutes": 60},
        ("90792",),
        credential=NP,
    ),
    Case(
        "interactive complexity adds +90785 to 90791",
        {"service_kind": "intake", "minutes": 60, "interactive_complexity": True},
        ("90791", "90785"),
    ),
    Case(
        "an MD's evaluation documented without medical services codes 90791",
        {"service_kind": "intake", "minutes": 60, "service_code": "90791"},
        ("90791",),
        credential=MD,
    ),
    Case(
        "an LCSW's evaluation documented as 90792 is refused (medical services need a prescriber)",
        {"service_kind": "intake", "minutes": 60, "service_code": "90792"},
        NotBillableReason.NOT_PERMITTED_FOR_CREDENTIAL,
    ),
    Case(
        "a psychologist's evaluation documented as 90792 is refused",
        {"service_kind": "intake", "minutes": 60, "service_code": "90792"},
        NotBillableReason.NOT_PERMITTED_FOR_CREDENTIAL,
        credential=PHD,
    ),
    Case(
        "an intake naming a psychotherapy code is refused",
        {"service_kind": "intake", "minutes": 60, "service_code": "90837"},
        NotBillableReason.UNKNOWN_SERVICE_CODE,
    ),
    Case(
        "a second diagnostic evaluation by the same clinician the same day is not billable",
        {"service_kind": "intake", "minutes": 60},
        NotBillableReason.ALREADY_BILLED_TODAY,
        same_day=(INTAKE_EARLIER_TODAY[0].model_copy(update={"rendering_provider_id": "prv_render"}),),
    ),
    Case(
        "another clinician's evaluation the same day leaves this one billable (MUE per provider)",
        {"service_kind": "intake", "minutes": 60},
        ("90792",),
        same_day=INTAKE_EARLIER_TODAY,
        credential=MD,
    ),
    Case(
        "a diagnostic evaluation a week after another codes 90791",
        {"service_kind": "intake", "minutes": 60},
        ("90791",),
        same_day=INTAKE_LAST_WEEK,
    ),
    # --- 15-minute HCPCS units
    Case("7 minutes of H0004 is less than a unit", service("hcpcs_service", "H0004", 7), UNDER),
    Case(
        "8 minutes of H0004 is one unit by the 8-minute convention",
        service("hcpcs_service", "H0004", 8),
        ("H0004",),
    ),
    Case("22 minutes of H0004 is one unit", service("hcpcs_service", "H0004", 22), ("H0004",)),
    Case("23 minutes of H0004 is two units", service("hcpcs_service", "H0004", 23), ("H0004x2",)),
    Case("60 minutes of H0004 is four units", service("hcpcs_service", "H0004", 60), ("H0004x4",)),
    Case("45 minutes of H2019 is three units", service("hcpcs_service", "H2019", 45), ("H2019x3",)),
    Case(
        "14 minutes of H0004 is no unit where full units are required",
        service("hcpcs_service", "H0004", 14),
        UNDER,
        rules=FULL_UNITS,
    ),
    Case(
        "15 minutes of H0004 is one full unit",
        service("hcpcs_service", "H0004", 15),
        ("H0004",),
        rules=FULL_UNITS,
    ),
    Case(
        "29 minutes of H2011 is one full unit",
        service("hcpcs_service", "H2011", 29),
        ("H2011",),
        rules=FULL_UNITS,
    ),
    Case(
        "30 minutes of H0038 is two full units",
        service("hcpcs_service", "H0038", 30),
        ("H0038x2",),
        rules=FULL_UNITS,
    ),
    Case(
        "240 minutes of H0004 is capped at 12 units a day",
        service("hcpcs_service", "H0004", 240),
        ("H0004x12",),
        rules=CAPPED,
    ),
    Case("H0001 is billed per encounter", service("hcpcs_service", "H0001", 75), ("H0001",)),
    Case("H0031 is billed per encounter", service("hcpcs_service", "H0031", 50), ("H0031",)),
    Case("37 minutes of H2011 is two units", service("hcpcs_service", "H2011", 37), ("H2011x2",)),
    Case("38 minutes of H2011 is three units", service("hcpcs_service", "H2011", 38), ("H2011x3",)),
    Case("52 minutes of H2019 is three units", service("hcpcs_service", "H2019", 52), ("H2019x3",)),
    Case("53 minutes of H2019 is four units", service("hcpcs_service", "H2019", 53), ("H2019x4",)),
    Case("30 minutes of H2015 is two units", service("hcpcs_service", "H2015", 30), ("H2015x2",)),
    Case(
        "23 minutes of T1016 case management is two units",
        service("hcpcs_service", "T1016", 23),
        ("T1016x2",),
    ),
    Case(
        "30 minutes of H2012 day treatment (per hour) is less than a unit",
        service("hcpcs_service", "H2012", 30),
        UNDER,
    ),
    Case(
        "31 minutes of H2012 day treatment is one hourly unit",
        service("hcpcs_service", "H2012", 31),
        ("H2012",),
    ),
    Case(
        "91 minutes of H2012 day treatment is two hourly units",
        service("hcpcs_service", "H2012", 91),
        ("H2012x2",),
    ),
    Case(
        "a CPT psychotherapy code cannot be billed as a per-encounter HCPCS service",
        service("hcpcs_service", "90837", 20),
        NotBillableReason.UNKNOWN_SERVICE_CODE,
    ),
    # --- psychological testing and health behavior
    Case("30 minutes of testing evaluation is not billable", service("testing", "96130", 30), UNDER),
    Case("31 minutes of testing evaluation codes 96130", service("testing", "96130", 31), ("96130",)),
    Case("90 minutes of testing evaluation codes 96130 alone", service("testing", "96130", 90), ("96130",)),
    Case("91 minutes of testing evaluation adds +96131", service("testing", "96130", 91), ("96130", "96131")),
    Case(
        "151 minutes of testing evaluation adds two +96131",
        service("testing", "96130", 151),
        ("96130", "96131x2"),
    ),
    Case("16 minutes of test administration codes 96136", service("testing", "96136", 16), ("96136",)),
    Case("45 minutes of test administration codes 96136 alone", service("testing", "96136", 45), ("96136",)),
    Case(
        "46 minutes of test administration adds +96137", service("testing", "96136", 46), ("96136", "96137")
    ),
    Case(
        "76 minutes of technician testing adds two +96139",
        service("testing", "96138", 76),
        ("96138", "96139x2"),
    ),
    Case(
        "a non-base testing code is refused",
        service("testing", "96131", 60),
        NotBillableReason.UNKNOWN_SERVICE_CODE,
    ),
    Case("a health behavior assessment codes 96156", service("health_behavior", "96156", 60), ("96156",)),
    Case(
        "37 minutes of health behavior intervention codes 96158",
        service("health_behavior", "96158", 37),
        ("96158",),
    ),
    Case(
        "38 minutes of health behavior intervention adds +96159",
        service("health_behavior", "96158", 38),
        ("96158", "96159"),
    ),
    # --- telehealth: POS by where the patient is, modifiers by payer
    Case(
        "video with the patient at home bills POS 10 and no modifier (Medicare since 2024)",
        telehealth("video", at_home=True),
        ("90837",),
        pos="10",
    ),
    Case(
        "video with the patient away from home bills POS 02",
        telehealth("video", at_home=False),
        ("90837",),
        pos="02",
    ),
    Case(
        "a payer wanting in-person POS and 95 gets POS 11 with 95",
        telehealth("video", at_home=True),
        ("90837-95",),
        rules=IN_PERSON_POS_AND_95,
        pos="11",
    ),
    Case(
        "a payer wanting 95 with telehealth POS gets POS 10 with 95",
        telehealth("video", at_home=True),
        ("90837-95",),
        rules=POS_AND_95,
        pos="10",
    ),
    Case(
        "a legacy payer gets GT", telehealth("video", at_home=False), ("90837-GT",), rules=LEGACY_GT, pos="02"
    ),
    Case(
        "audio-only at home bills POS 10 with 93",
        telehealth("audio_only", at_home=True),
        ("90837-93",),
        pos="10",
    ),
    Case(
        "audio-only with the patient away from home bills POS 02 with 93 where the payer allows it",
        telehealth("audio_only", at_home=False),
        ("90837-93",),
        pos="02",
    ),
    Case(
        "a 95 payer gets POS 02 with 95 for a patient at another site",
        telehealth("video", at_home=False, minutes=38),
        ("90834-95",),
        rules=POS_AND_95,
        pos="02",
    ),
    Case(
        "audio-only for a 95 payer carries 93, not 95",
        telehealth("audio_only", at_home=True),
        ("90837-93",),
        rules=POS_AND_95,
        pos="10",
    ),
    Case(
        "a telehealth crisis session carries the payer's video modifier on both lines",
        {**telehealth("video", at_home=True, minutes=80), "service_kind": "crisis"},
        ("90839-95", "90840-95"),
        rules=POS_AND_95,
        pos="10",
    ),
    Case(
        "audio-only for an FQHC payer carries FQ",
        telehealth("audio_only", at_home=True),
        ("90837-FQ",),
        rules=AUDIO_FQ,
    ),
    Case(
        "audio-only is not billable where the payer does not pay it",
        telehealth("audio_only", at_home=True),
        NotBillableReason.AUDIO_ONLY_NOT_COVERED,
        rules=NO_AUDIO_ONLY,
    ),
    Case(
        "audio-only away from home is not billable where the payer requires home",
        telehealth("audio_only", at_home=False),
        NotBillableReason.AUDIO_ONLY_NOT_COVERED,
        rules=AUDIO_ONLY_AT_HOME,
    ),
    Case(
        "Medicare: audio-only away from home is not billable (42 CFR 410.78: the patient at home)",
        telehealth("audio_only", at_home=False),
        NotBillableReason.AUDIO_ONLY_NOT_COVERED,
        rules=MEDICARE,
    ),
    Case(
        "Medicare: audio-only with the patient at home bills POS 10 with 93",
        telehealth("audio_only", at_home=True),
        ("90837-93",),
        rules=MEDICARE,
        pos="10",
    ),
    Case(
        "telehealth modifiers go on the add-on line too",
        {**telehealth("video", at_home=True), "interactive_complexity": True},
        ("90837-95", "90785-95"),
        rules=POS_AND_95,
    ),
    Case("in person bills the session's POS without modifiers", individual(55), ("90837",), pos="11"),
    Case(
        "in person at a community mental health center bills POS 53",
        individual(55, place_of_service="53"),
        ("90837",),
        pos="53",
    ),
    # --- licensure and program modifiers, by payer table
    Case("an LCSW in NY gets AJ from the Medicaid table", individual(55), ("90837-AJ",), rules=MEDICAID_NY),
    Case("an LMHC gets HO in any state", individual(55), ("90837-HO",), credential=LMHC, rules=MEDICAID_NY),
    Case("a PsyD gets AH", individual(45), ("90834-AH",), credential=PSYD, rules=MEDICAID_NY),
    Case(
        "an LCSW in NJ gets no AJ from a NY-only row",
        individual(55, patient_location={"state": "NJ", "at_home": False}),
        ("90837",),
        rules=MEDICAID_NY,
    ),
    Case("a commercial payer without a table adds no licensure modifier", individual(55), ("90837",)),
    Case(
        "a substance-use program adds HF after the licensure modifier",
        individual(55, program="substance_use"),
        ("90837-AJ-HF",),
        rules=MEDICAID_NY,
    ),
    Case(
        "a code-specific row adds HQ to group only",
        {"service_kind": "group", "minutes": 60},
        ("90853-AJ-HQ",),
        rules=MEDICAID_NY,
    ),
    Case(
        "licensure modifiers come before telehealth modifiers",
        telehealth("video", at_home=True),
        ("90837-AJ-95",),
        rules=MEDICAID_NY,
    ),
    # --- distinct services (59 / XE)
    Case(
        "individual therapy after the clinician's group the same day, documented separate, carries XE",
        individual(55, distinct_service=SEPARATE_ENCOUNTER),
        ("90837-XE",),
        same_day=GROUP_EARLIER_TODAY_SAME_CLINICIAN,
    ),
    Case(
        "a payer preferring 59 gets 59 instead of XE",
        individual(55, distinct_service=SEPARATE_ENCOUNTER),
        ("90837-59",),
        rules=MODIFIER_59,
        same_day=GROUP_EARLIER_TODAY_SAME_CLINICIAN,
    ),
    Case(
        "without documentation, individual after group gets no 59/XE",
        individual(55),
        ("90837",),
        same_day=GROUP_EARLIER_TODAY_SAME_CLINICIAN,
    ),
    Case(
        "another clinician's group the same day asks no XE: pair edits are one provider's (NCCI)",
        individual(55, distinct_service=SEPARATE_ENCOUNTER),
        ("90837",),
        same_day=GROUP_EARLIER_TODAY,
    ),
    Case(
        "a documented distinct service with no same-day group adds no modifier",
        individual(55, distinct_service=SEPARATE_ENCOUNTER),
        ("90837",),
    ),
)


def render(line: CodedLine) -> str:
    units = f"x{line.units}" if line.units > 1 else ""
    return line.code + units + "".join(f"-{m}" for m in line.modifiers)


def test_the_table_has_at_least_sixty_cases() -> None:
    assert len(CASES) >= 60


@pytest.mark.parametrize("case", CASES, ids=[case.rule for case in CASES])
def test_coding_rule(case: Case) -> None:
    session = make_session(**case.session)
    result = code_session(session, credential=case.credential, rules=case.rules, same_day=case.same_day)
    if isinstance(case.lines, NotBillableReason):
        assert isinstance(result, NotBillable), result
        assert result.reason is case.lines
        assert result.message
        return
    assert isinstance(result, CodedSession), result
    assert tuple(render(line) for line in result.lines) == case.lines
    assert all(line.rule for line in result.lines)
    if case.pos is not None:
        assert result.place_of_service == case.pos
        assert {line.place_of_service for line in result.lines} == {case.pos}
