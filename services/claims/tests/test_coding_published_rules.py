"""Coding checked against the published rules it comes from, read as the rule itself:
HCPCS Level II descriptors ("per 15 minutes", "per hour") set the unit of a Medicaid/SUD
service, and pricing modifiers come before the others on a line.

Synthetic sessions only.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from rcm.claims.domain.coding import CodedSession, NotBillable, NotBillableReason, code_session
from rcm.claims.domain.common import Credential
from rcm.claims.domain.payer_rules import (
    LicensureModifierRule,
    PayerRules,
    TelehealthRules,
    UnitRounding,
    UnitRoundingRule,
)
from rcm.claims.domain.session import Session

pytestmark = pytest.mark.unit

DOS = date(2025, 3, 4)


def make_session(**overrides: Any) -> Session:
    fields: dict[str, Any] = {
        "session_id": "ses_rules_1",
        "patient_id": "pat_rules_1",
        "rendering_provider_id": "prv_rules_1",
        "date_of_service": DOS,
        "minutes": 50,
        "service_kind": "individual",
        "patient_location": {"state": "OH", "at_home": False},
        "diagnoses": ["F11.20"],
    }
    fields.update(overrides)
    return Session.model_validate(fields)


def hcpcs(code: str, minutes: int) -> Session:
    return make_session(service_kind="hcpcs_service", service_code=code, minutes=minutes)


def coded_lines(
    session: Session, rules: PayerRules | None = None, credential: Credential = Credential.LCSW
) -> list[str]:
    result = code_session(session, credential=credential, rules=rules)
    assert isinstance(result, CodedSession), result
    return [
        "-".join((f"{line.code}x{line.units}" if line.units > 1 else line.code, *line.modifiers))
        for line in result.lines
    ]


# ---------------------------------------------------------------- HCPCS units by descriptor


@pytest.mark.parametrize(
    ("rule", "code", "minutes", "lines"),
    [
        ("60 minutes of H2033 multisystemic therapy is four 15-minute units", "H2033", 60, ["H2033x4"]),
        ("8 minutes of H0050 SUD brief intervention is one unit", "H0050", 8, ["H0050"]),
        ("23 minutes of H0050 SUD brief intervention is two units", "H0050", 23, ["H0050x2"]),
        ("45 minutes of H2023 supported employment is three units", "H2023", 45, ["H2023x3"]),
        ("38 minutes of H2025 employment support is three units", "H2025", 38, ["H2025x3"]),
        ("53 minutes of H2030 clubhouse services is four units", "H2030", 53, ["H2030x4"]),
        ("30 minutes of H2032 activity therapy is two units", "H2032", 30, ["H2032x2"]),
        ("30 minutes of H2028 sexual offender treatment is two units", "H2028", 30, ["H2028x2"]),
        (
            "91 minutes of H2035 SUD treatment program (per hour) is two hourly units",
            "H2035",
            91,
            ["H2035x2"],
        ),
        ("60 minutes of S9484 crisis intervention (per hour) is one hourly unit", "S9484", 60, ["S9484"]),
        ("150 minutes of S9484 crisis intervention is two hourly units", "S9484", 150, ["S9484x2"]),
    ],
)
def test_a_timed_hcpcs_code_bills_units_of_its_descriptor(
    rule: str, code: str, minutes: int, lines: list[str]
) -> None:
    assert coded_lines(hcpcs(code, minutes)) == lines, rule


def test_30_minutes_of_an_hourly_code_is_less_than_a_unit() -> None:
    result = code_session(hcpcs("H2035", 30), credential=Credential.LCADC)
    assert isinstance(result, NotBillable)
    assert result.reason is NotBillableReason.UNDER_MINIMUM_TIME


def test_a_payer_table_naming_only_some_codes_still_times_the_others_by_descriptor() -> None:
    rules = PayerRules(timed_hcpcs_codes=("H0004",))
    assert coded_lines(hcpcs("H2019", 45), rules) == ["H2019x3"]


def test_the_payer_unit_length_for_a_code_beats_the_descriptor() -> None:
    rules = PayerRules(unit_rounding=UnitRoundingRule(minutes_per_unit_by_code={"H2033": 60}))
    assert coded_lines(hcpcs("H2033", 60), rules) == ["H2033"]


def test_full_unit_rounding_applies_to_descriptor_timed_codes() -> None:
    rules = PayerRules(unit_rounding=UnitRoundingRule(method=UnitRounding.FULL_UNIT))
    assert coded_lines(hcpcs("H2033", 59), rules) == ["H2033x3"]


def test_a_per_encounter_code_stays_one_unit() -> None:
    assert coded_lines(hcpcs("H0001", 90)) == ["H0001"]
    assert coded_lines(hcpcs("H0031", 90)) == ["H0031"]


# ---------------------------------------------------------------- modifier order: pricing first


MEDICAID_PRICED_BY_LICENSURE = PayerRules(
    modifier_25_on_em_with_psychotherapy=True,
    telehealth=TelehealthRules(video_modifiers=("95",)),
    licensure_modifiers=(
        LicensureModifierRule(credential=Credential.MD, modifiers=("AF",)),
        LicensureModifierRule(credential=Credential.LCSW, modifiers=("AJ",)),
    ),
)


def em_with_psychotherapy(**more: Any) -> Session:
    return make_session(
        service_kind="em_with_psychotherapy", em_code="99214", minutes=50, psychotherapy_minutes=30, **more
    )


def test_the_pricing_licensure_modifier_comes_before_25_on_the_em() -> None:
    lines = coded_lines(em_with_psychotherapy(), MEDICAID_PRICED_BY_LICENSURE, Credential.MD)
    assert lines == ["99214-AF-25", "90833-AF"]


def test_licensure_then_25_then_telehealth_on_a_video_em() -> None:
    session = em_with_psychotherapy(modality="video", patient_location={"state": "OH", "at_home": True})
    lines = coded_lines(session, MEDICAID_PRICED_BY_LICENSURE, Credential.MD)
    assert lines == ["99214-AF-25-95", "90833-AF-95"]


def test_the_modifier_reasons_follow_the_modifier_order() -> None:
    result = code_session(
        em_with_psychotherapy(), credential=Credential.MD, rules=MEDICAID_PRICED_BY_LICENSURE
    )
    assert isinstance(result, CodedSession)
    reasons = result.lines[0].modifier_rules
    assert reasons[0].startswith("AF") and reasons[1].startswith("25")
