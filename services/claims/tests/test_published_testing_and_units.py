"""Testing codes and units checked against the published rules, read as the rule itself:
CPT's neurobehavioral status exam (96116 first hour, +96121 each additional hour) and single
automated instrument (96146), CMS MUE 1 on the once-a-day testing and health behavior base
codes, and the HCPCS descriptor's unit for H-codes a payer names as timed.

Synthetic sessions and claims only.
"""

from __future__ import annotations

from typing import Any

import pytest
from test_coding_published_rules import coded_lines, hcpcs, make_session
from test_edits import held_by, line, make_claim, with_lines

from rcm.claims.domain.coding import NotBillable, NotBillableReason, code_session
from rcm.claims.domain.common import Credential
from rcm.claims.domain.edits.bundling import add_ons_have_primary
from rcm.claims.domain.edits.units import units_fit_the_code
from rcm.claims.domain.payer_rules import PayerRules, UnitRoundingRule
from rcm.claims.domain.session import Session

pytestmark = pytest.mark.unit


def exam(code: str, minutes: int, **more: Any) -> Session:
    return make_session(service_kind="testing", service_code=code, minutes=minutes, **more)


# ---------------------------------------------------------------- 96116/+96121, 96146


@pytest.mark.parametrize(
    ("rule", "minutes", "lines"),
    [
        ("a 31-minute neurobehavioral status exam codes 96116 (first hour, midpoint passed)", 31, ["96116"]),
        ("a 90-minute neurobehavioral status exam is still only 96116", 90, ["96116"]),
        ("a 91-minute neurobehavioral status exam codes 96116 and +96121", 91, ["96116", "96121"]),
        ("a 151-minute neurobehavioral status exam codes 96116 and +96121 x2", 151, ["96116", "96121x2"]),
    ],
)
def test_the_neurobehavioral_status_exam_codes_by_the_hour(rule: str, minutes: int, lines: list[str]) -> None:
    assert coded_lines(exam("96116", minutes), credential=Credential.PHD) == lines, rule


def test_a_30_minute_neurobehavioral_status_exam_is_under_the_first_hour() -> None:
    result = code_session(exam("96116", 30), credential=Credential.PHD)
    assert isinstance(result, NotBillable)
    assert result.reason is NotBillableReason.UNDER_MINIMUM_TIME


def test_a_single_automated_instrument_codes_96146_once_however_long() -> None:
    assert coded_lines(exam("96146", 40), credential=Credential.PHD) == ["96146"]


def test_96121_without_96116_is_held() -> None:
    claim = with_lines(make_claim(), line("96121"))
    assert held_by(add_ons_have_primary, claim) == {"add_on.no_primary"}


def test_96121_with_96116_passes() -> None:
    claim = with_lines(make_claim(), line("96116"), line("96121", 2))
    assert held_by(add_ons_have_primary, claim) == set()


# ---------------------------------------------------------------- MUE 1 on the base codes


@pytest.mark.parametrize("code", ["96130", "96132", "96136", "96138", "96116", "96146", "96158", "96167"])
def test_two_units_of_a_once_a_day_testing_or_health_behavior_base_code_are_held(code: str) -> None:
    claim = with_lines(make_claim(), line(code, units=2))
    assert held_by(units_fit_the_code, claim) == {"units.too_many"}


@pytest.mark.parametrize("code", ["96131", "96137", "96121", "96159"])
def test_several_units_of_a_testing_or_health_behavior_add_on_pass(code: str) -> None:
    claim = with_lines(make_claim(), line(code, units=3))
    assert held_by(units_fit_the_code, claim) == set()


# ---------------------------------------------------------------- HCPCS descriptor units


def test_30_minutes_of_h2037_developmental_delay_prevention_is_two_15_minute_units() -> None:
    assert coded_lines(hcpcs("H2037", 30)) == ["H2037x2"]


def test_an_hourly_code_the_payer_names_as_timed_keeps_its_hourly_unit() -> None:
    rules = PayerRules(timed_hcpcs_codes=("H0004", "H2035", "S9484"))
    assert coded_lines(hcpcs("H2035", 91), rules) == ["H2035x2"]
    assert coded_lines(hcpcs("S9484", 60), rules) == ["S9484"]


def test_a_code_the_payer_names_without_a_descriptor_unit_uses_the_payers_unit() -> None:
    rules = PayerRules(timed_hcpcs_codes=("H0031",), unit_rounding=UnitRoundingRule(minutes_per_unit=30))
    assert coded_lines(hcpcs("H0031", 60), rules) == ["H0031x2"]
