"""Which benefits of a 271 (005010X279A1) speak for the visit checked, on synthetic 271s: Medicare
Part B's, not Part A's; a mental-health visit's, not substance use's; the office's, not another
place's; the date of service's; and the plan's own when another payer is only ahead of it (COB).

Every identifier, name and date here is invented.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from rcm.eligibility.domain import DEFAULT_INQUIRY, FALLBACK_ORDER, order_for
from rcm.eligibility.domain.service_types import SUBSTANCE_USE_ORDER
from rcm.eligibility.settings import PayerPolicy
from rcm.events.models import CoveragePriority, EligibilityStatus

from .test_271_rules import PLAN, _request, bare_checker, read, x271

pytestmark = pytest.mark.unit


# ------------------------------------------------------------------ Medicare Part A and Part B

MEDICARE = ("EB*1**30*MA", "EB*1**30*MB")


def test_the_office_visit_pays_part_b_s_deductible_and_coinsurance_never_part_a_s() -> None:
    summary = read(
        *MEDICARE,
        "EB*C**30*MA**26*1676",  # Part A: per benefit period, a hospital stay's
        "EB*C**30*MA**29*1676",
        "EB*C**30*MB**23*257",
        "EB*C**30*MB**29*57",
        "EB*A**30*MA**27**0",
        "EB*A**30*MB**27**.2",
    )
    net = summary.in_network
    assert net is not None
    assert (net.deductible, net.deductible_remaining, net.coinsurance_percent) == (
        Decimal("257"),
        Decimal("57"),
        Decimal("20"),
    )
    assert (summary.status, summary.covered) == (EligibilityStatus.ACTIVE, True)


def test_part_a_s_remaining_never_counts_down_part_b_s_deductible() -> None:
    summary = read(*MEDICARE, "EB*C**30*MA**29*1676", "EB*C**30*MB**23*257")
    net = summary.in_network
    assert net is not None and (net.deductible, net.deductible_remaining) == (Decimal("257"), None)


def test_a_plan_that_does_not_split_medicare_parts_keeps_its_figures() -> None:
    # a Medicare Advantage HMO (EB04 HN): no Part A beside a Part B, nothing to set apart
    summary = read("EB*1**30*HN", "EB*C**30*HN**23*500", "EB*C**30*HN**29*200")
    net = summary.in_network
    assert net is not None and (net.deductible, net.deductible_remaining) == (Decimal("500"), Decimal("200"))


# ------------------------------------------------------------------ substance use and mental health

SUD_VENDOR = ("EB*U*IND*AI^AJ^AK", "LS*2120", "NM1*VN*2*SYNTHETIC SUD VENDOR", "LE*2120")


def test_a_substance_use_carve_out_leaves_the_mental_health_visit_with_the_payer() -> None:
    summary = read(*PLAN, "EB*B*IND*30***27*25*****Y", *SUD_VENDOR)
    assert summary.service_type_code == "30"
    assert summary.carve_out is None
    assert summary.in_network is not None and summary.in_network.copay == Decimal("25.00")
    # the vendor is still reported, with the benefit that names it
    assert [(e.entity_code, e.service_types) for e in summary.related_entities] == [
        ("VN", ["AI", "AJ", "AK"])
    ]


def test_a_substance_use_copay_is_not_the_mental_health_visit_s() -> None:
    summary = read(*PLAN, "EB*B*IND*30***27*25*****Y", "EB*B*IND*AI***27*0*****Y")
    assert summary.service_type_code == "30"
    assert summary.in_network is not None and summary.in_network.copay == Decimal("25.00")


@pytest.mark.parametrize(
    ("asked", "order"),
    [
        (DEFAULT_INQUIRY, FALLBACK_ORDER),  # MH, AI, 30: a mental-health visit's
        (("MH", "30"), FALLBACK_ORDER),
        (("30",), FALLBACK_ORDER),
        (("AI", "30"), SUBSTANCE_USE_ORDER),
        (("AJ", "AK"), SUBSTANCE_USE_ORDER),
        (("AI", "98", "30"), SUBSTANCE_USE_ORDER),
    ],
)
def test_the_order_follows_the_service_the_check_asks_about(
    asked: tuple[str, ...], order: tuple[str, ...]
) -> None:
    assert order_for(asked) == order


def test_a_check_asking_about_substance_use_only_reads_its_benefits() -> None:
    text = x271(*PLAN, "EB*B*IND*30***27*25*****Y", "EB*B*IND*AI***27*0*****Y", *SUD_VENDOR)
    checker = bare_checker()
    substance_use = replace(_request(), service_types=("AI", "30"))
    summary = checker._answered(text, substance_use, PayerPolicy(), attempts=1).summary
    assert summary.service_type_code == "AI"
    assert summary.in_network is not None and summary.in_network.copay == Decimal("0")
    assert summary.carve_out is not None and summary.carve_out.name == "SYNTHETIC SUD VENDOR"
    # the same answer to the default (mental-health) check
    summary = checker._answered(text, _request(), PayerPolicy(), attempts=1).summary
    assert summary.service_type_code == "30" and summary.carve_out is None


def test_a_payer_s_own_fallback_order_wins_over_the_service_asked_about() -> None:
    text = x271(*PLAN, "EB*B*IND*30***27*25*****Y", "EB*B*IND*AI***27*0*****Y")
    policy = PayerPolicy(fallback_order=SUBSTANCE_USE_ORDER)
    summary = bare_checker()._answered(text, _request(), policy, attempts=1).summary
    assert summary.service_type_code == "AI"


# ------------------------------------------------------------------ dates of a service type's coverage


def test_an_out_of_date_mental_health_row_leaves_the_status_to_the_plan_s() -> None:
    summary = read(
        "DTP*346*D8*20200101",
        "EB*1*IND*30",
        "DTP*291*RD8*20250101-20251231",
        "EB*1*IND*MH",
        "DTP*291*RD8*20240101-20241231",  # last year's
        "EB*B*IND*30***27*25*****Y",
    )
    assert summary.status is EligibilityStatus.ACTIVE
    assert summary.in_network is not None and summary.in_network.copay == Decimal("25.00")


def test_an_out_of_date_mental_health_row_and_an_ended_plan_are_inactive() -> None:
    summary = read(
        "EB*6*IND*30",
        "DTP*291*RD8*20250101-20251231",
        "EB*1*IND*MH",
        "DTP*291*RD8*20240101-20241231",
    )
    assert summary.status is EligibilityStatus.INACTIVE


# ------------------------------------------------------------------ place of service (III*ZZ)


def test_a_service_not_covered_at_another_place_leaves_the_office_visit_covered() -> None:
    # residential treatment (56) not covered: says nothing of the office visit
    summary = read(*PLAN, "EB*I*IND*MH", "III*ZZ*56", "EB*B*IND*MH***27*30*****Y")
    assert summary.covered is None
    assert summary.in_network is not None and summary.in_network.copay == Decimal("30.00")
    summary = read(*PLAN, "EB*I*IND*MH", "III*ZZ*21", "EB*1*IND*MH")
    assert summary.covered is True


def test_an_inpatient_visit_limit_is_not_the_office_visit_s() -> None:
    assert read(*PLAN, "EB*F*IND*MH***23***VS*10**Y", "III*ZZ*21").visit_limit is None
    summary = read(*PLAN, "EB*F*IND*MH***23***VS*10**Y", "III*ZZ*21", "EB*F*IND*MH***23***VS*30**Y")
    assert summary.visit_limit is not None and summary.visit_limit.allowed == 30


def test_an_inpatient_authorization_rule_is_not_the_office_visit_s() -> None:
    summary = read(
        *PLAN,
        "EB*1*IND*MH********Y*Y",  # precertification of an inpatient stay
        "III*ZZ*21",
        "EB*B*IND*MH***27*30****N*Y",
        "III*ZZ*11",
    )
    assert summary.auth_required is False


TELEHEALTH_VENDOR = ("LS*2120", "NM1*VN*2*SYNTHETIC TELEHEALTH VENDOR", "LE*2120")


@pytest.mark.parametrize("places", [("III*ZZ*02", "III*ZZ*10"), ("III*ZZ*21",)])
def test_a_vendor_of_telehealth_or_another_place_is_not_the_office_visit_s_carve_out(
    places: tuple[str, ...],
) -> None:
    summary = read(*PLAN, "EB*B*IND*MH***27*30*****Y", "EB*1*IND*MH", *places, *TELEHEALTH_VENDOR)
    assert summary.carve_out is None
    assert summary.in_network is not None and summary.in_network.copay == Decimal("30.00")


def test_a_vendor_of_the_office_visit_is_its_carve_out() -> None:
    summary = read(*PLAN, "EB*1*IND*MH", "III*ZZ*11", *TELEHEALTH_VENDOR)
    assert summary.carve_out is not None and summary.carve_out.name == "SYNTHETIC TELEHEALTH VENDOR"


# ------------------------------------------------------------------ coordination of benefits


@pytest.mark.parametrize("service_types", ["30", "30^MH"])
def test_the_plan_s_primary_payer_leaves_this_plan_s_cost_share(service_types: str) -> None:
    """EB01 R naming a primary payer (PRP) for the plan is coordination of benefits, whether or
    not it lists MH beside 30: this plan, secondary, still pays at its own cost share."""
    summary = read(
        *PLAN,
        f"EB*R**{service_types}",
        "LS*2120",
        "NM1*PRP*2*SYNTHETIC PRIMARY PLAN",
        "LE*2120",
        "EB*C*IND*30***23*1500*****Y",
        "EB*C*IND*30***29*900*****Y",
        "EB*B*IND*30***27*25*****Y",
    )
    net = summary.in_network
    assert net is not None
    assert (net.copay, net.deductible, net.deductible_remaining) == (
        Decimal("25"),
        Decimal("1500"),
        Decimal("900"),
    )
    assert summary.other_payer is not None
    assert (summary.other_payer.name, summary.other_payer.priority) == (
        "SYNTHETIC PRIMARY PLAN",
        CoveragePriority.PRIMARY,
    )
    assert summary.carve_out is None
