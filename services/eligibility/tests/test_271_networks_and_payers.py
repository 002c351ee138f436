"""The 271 read against the 005010X279A1 rules: network tiers, other payers, visit limits and
AAA follow-ups, on synthetic 271s.

Every identifier, name and date here is invented.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from rcm.events.models import EligibilityStatus

from .test_271_rules import PLAN, read

pytestmark = pytest.mark.unit


# ------------------------------------------------------------------ EB01 I with EB12


def test_out_of_network_not_covered_leaves_the_in_network_service_covered() -> None:
    """EB01 I with EB12 N: only out-of-network providers are not covered (an HMO or EPO)."""
    summary = read(*PLAN, "EB*1*IND*MH", "EB*I*IND*MH*********N")
    assert summary.covered is True


def test_out_of_network_not_covered_alone_says_nothing_of_the_in_network_visit() -> None:
    summary = read(*PLAN, "EB*B*IND*MH*PR**27*25.00*****Y", "EB*I*IND*MH*********N")
    assert summary.covered is None
    assert summary.in_network is not None and summary.in_network.copay == Decimal("25.00")


@pytest.mark.parametrize("network", ["", "Y", "W"])
def test_not_covered_in_network_or_for_every_network_is_not_covered(network: str) -> None:
    summary = read(*PLAN, f"EB*I*IND*MH*********{network}")
    assert summary.covered is False


def test_out_of_network_telehealth_not_covered_leaves_in_network_telehealth_covered() -> None:
    summary = read(
        *PLAN,
        "EB*1*IND*MH",
        "EB*B*IND*MH*PR**27*0*****Y",
        "III*ZZ*02",
        "EB*I*IND*MH*********N",
        "III*ZZ*02",
    )
    assert summary.telehealth_covered is True
    assert summary.telehealth is not None and summary.telehealth.copay == Decimal("0")


def test_in_network_telehealth_not_covered() -> None:
    summary = read(*PLAN, "EB*1*IND*MH", "EB*I*IND*MH*********Y", "III*ZZ*10")
    assert (summary.covered, summary.telehealth_covered) == (True, False)


# ------------------------------------------------------------------ EB01 R / U: other payers


def _other_coverage(service_types: str) -> tuple[str, ...]:
    return (
        f"EB*R**{service_types}*OT",
        "LS*2120",
        "NM1*PR*2*SYNTHETIC OTHER PLAN*****PI*SYNOTH1",
        "LE*2120",
    )


@pytest.mark.parametrize("service_types", ["88", "35", "AL", "88^89"])
def test_a_pharmacy_dental_or_vision_only_payer_is_not_the_visit_s_other_payer(service_types: str) -> None:
    summary = read(*PLAN, "EB*B*IND*MH*PR**27*25.00*****Y", *_other_coverage(service_types))
    assert summary.other_payer is None and summary.other_payer_identifier is None
    assert [e.service_types for e in summary.related_entities] == [service_types.split("^")]


@pytest.mark.parametrize("service_types", ["30", "MH", "A8", "1^30^88", "AI^AK"])
def test_other_coverage_of_the_plan_or_a_behavioural_health_type_is_the_visit_s(service_types: str) -> None:
    summary = read(*PLAN, "EB*B*IND*MH*PR**27*25.00*****Y", *_other_coverage(service_types))
    assert summary.other_payer is not None and summary.other_payer.name == "SYNTHETIC OTHER PLAN"
    assert summary.other_payer_identifier == "SYNOTH1"


@pytest.mark.parametrize(
    "entity",
    [
        "NM1*PR*2*SYNTHETIC HEALTH PLAN*****PI*SYNP0001",
        "NM1*PR*2*Synthetic  Health Plan",
        "NM1*PR*2*SYNTHETIC HP CUSTOMER SERVICE*****PI*SYNP0001",
    ],
)
def test_contact_the_answering_payer_itself_is_not_another_payer(entity: str) -> None:
    """EB01 U naming the payer of 2100A gives where to call for more, not another coverage."""
    summary = read(
        *PLAN,
        "EB*U**MH*PR*SYNTHETIC PPO",
        "LS*2120",
        entity,
        "PER*IC**TE*5550100123",
        "LE*2120",
        "EB*B*IND*MH*PR**27*25.00*****Y",
        "EB*C*IND*30***23*1500.00*****Y",
    )
    assert summary.other_payer is None
    net = summary.in_network
    assert net is not None and (net.copay, net.deductible) == (Decimal("25.00"), Decimal("1500.00"))
    assert summary.related_entities[0].contact == "5550100123"


def test_contact_a_behavioural_health_plan_is_another_payer() -> None:
    summary = read(
        *PLAN,
        "EB*U**MH",
        "LS*2120",
        "NM1*Y2*2*SYNTHETIC BEHAVIORAL PARTNERS*****PI*SYNBH01",
        "LE*2120",
    )
    assert summary.other_payer is not None and summary.other_payer.name == "SYNTHETIC BEHAVIORAL PARTNERS"


def test_another_policy_with_the_same_payer_is_still_another_payer() -> None:
    """EB01 R says other or additional coverage, also when the same company holds it."""
    summary = read(
        *PLAN,
        "EB*R**30*C1",
        "LS*2120",
        "NM1*SEP*2*SYNTHETIC HEALTH PLAN*****PI*SYNP0001",
        "LE*2120",
    )
    assert summary.other_payer is not None and summary.other_payer.name == "SYNTHETIC HEALTH PLAN"


# ------------------------------------------------------------------ EB01 F, HSD: visit limits


def test_a_visits_per_day_rule_is_not_the_yearly_visit_limit() -> None:
    """HSD*VS*1***7*1 is one visit a day; the limit the remaining visits count from is the year's."""
    summary = read(*PLAN, "EB*F*IND*MH", "HSD*VS*1***7*1", "HSD*VS*30***23*1", "EB*F*IND*MH***29***VS*12")
    limit = summary.visit_limit
    assert limit is not None and (limit.allowed, limit.used, limit.remaining) == (30, 18, 12)


def test_a_monthly_visit_rule_given_first_is_not_the_yearly_limit() -> None:
    summary = read(*PLAN, "EB*F*IND*MH***34***VS*4", "EB*F*IND*MH***22***VS*20", "EB*F*IND*MH***24***VS*5")
    limit = summary.visit_limit
    assert limit is not None and (limit.allowed, limit.used, limit.remaining) == (20, 5, 15)


def test_a_yearly_limit_counts_down_with_the_year_s_remaining_not_the_lifetime_s() -> None:
    summary = read(
        *PLAN,
        "EB*F*IND*MH***32***VS*200",
        "EB*F*IND*MH***33***VS*150",
        "EB*F*IND*MH***23***VS*30",
        "EB*F*IND*MH***29***VS*8",
    )
    limit = summary.visit_limit
    assert limit is not None and (limit.allowed, limit.remaining) == (30, 8)
    assert summary.visits_remaining == 8


# ------------------------------------------------------------------ EB11 with EB13


def test_authorization_for_one_procedure_does_not_make_every_visit_need_it() -> None:
    summary = read(*PLAN, "EB*1*IND*MH********N", "EB*1*IND*MH********Y**HC:96130")
    assert summary.auth_required is False


def test_authorization_for_the_only_procedure_named_is_kept() -> None:
    summary = read(*PLAN, "EB*1*IND*MH", "EB*1*IND*MH********Y**HC:90837")
    assert summary.auth_required is True


# ------------------------------------------------------------------ plan-wide cost share under 30


_MEDICARE_PART_B = (
    "EB*1**30^98^A4^A6^A8^AI^UC*MB",
    "DTP*291*D8*20200101",
    "EB*C**30*MB**23*257.00",
    "EB*C**30*MB**29*100.00",
    "EB*A**30*MB**27**.2",
)


def test_the_plan_s_coinsurance_applies_to_a_type_with_no_cost_share_of_its_own() -> None:
    """Medicare Part B: psychotherapy (A6) is listed as covered, its 20 % coinsurance and the
    deductible are the plan's, under 30."""
    summary = read(*_MEDICARE_PART_B)
    net = summary.in_network
    assert summary.service_type_code == "A6"
    assert net is not None and (net.copay, net.coinsurance_percent, net.deductible) == (
        None,
        Decimal("20"),
        Decimal("257.00"),
    )


def test_the_plan_s_copay_applies_to_a_type_with_no_cost_share_of_its_own() -> None:
    summary = read(*PLAN, "EB*1**MH", "EB*B*IND*30***27*25.00*****Y")
    assert summary.in_network is not None and summary.in_network.copay == Decimal("25.00")


def test_a_type_with_no_cost_share_of_its_own_takes_the_next_behavioural_health_type_s_first() -> None:
    """Mental health listed only as covered: the psychiatric outpatient copay (A8) is the visit's,
    not the plan's general one."""
    summary = read(*PLAN, "EB*1**MH", "EB*B*IND*30***27*40.00*****Y", "EB*B*IND*A8***27*25.00*****Y")
    assert summary.service_type_code == "MH"
    assert summary.in_network is not None and summary.in_network.copay == Decimal("25.00")


@pytest.mark.parametrize("elsewhere", ["EB*B*IND*A8***27*25.00*****Y", "EB*B*IND*30***27*25.00*****Y"])
def test_a_type_the_payer_does_not_cover_borrows_no_cost_share(elsewhere: str) -> None:
    summary = read(*PLAN, "EB*I**MH", "EB*C*IND*30***23*1500.00*****Y", elsewhere)
    assert summary.covered is False
    assert summary.in_network is None


def test_a_type_with_a_copay_of_its_own_is_not_also_charged_the_plan_s_coinsurance() -> None:
    summary = read(*PLAN, "EB*A*IND*30***27**.2****Y", "EB*B*IND*MH***27*35.00*****Y")
    net = summary.in_network
    assert net is not None and (net.copay, net.coinsurance_percent) == (Decimal("35.00"), None)


def test_the_plan_s_out_of_network_coinsurance_applies_when_the_type_has_none_out_of_network() -> None:
    summary = read(*PLAN, "EB*B*IND*MH***27*30.00*****Y", "EB*A*IND*30***27**.4****N")
    assert summary.out_of_network is not None
    assert summary.out_of_network.coinsurance_percent == Decimal("40")


def test_a_carved_out_type_pays_none_of_the_plan_s_cost_share() -> None:
    summary = read(
        *PLAN, "EB*A*IND*30***27**.2****Y", "EB*MC**MH", "LS*2120", "NM1*Y2*2*SYNTHETIC MBHO", "LE*2120"
    )
    assert summary.in_network is None


# ------------------------------------------------------------------ visit frequency rules alone


@pytest.mark.parametrize(
    "limit",
    [
        ("EB*F*IND*MH***34***VS*4",),  # four a month
        ("EB*F*IND*MH***35***VS*2",),  # two a week
        ("EB*F*IND*MH***27***VS*1",),  # one per visit
        ("EB*F*IND*MH", "HSD*VS*1***7*1"),  # one a day
        ("EB*F*IND*MH***31***VS*10",),  # not exceeded
    ],
)
def test_a_visit_frequency_rule_alone_is_not_a_visit_limit(limit: tuple[str, ...]) -> None:
    assert read(*PLAN, *limit).visit_limit is None


def test_a_visit_limit_per_episode_is_kept() -> None:
    summary = read(*PLAN, "EB*F*IND*MH***26***VS*6")
    assert summary.visit_limit is not None and summary.visit_limit.allowed == 6


# ------------------------------------------------------------------ Medicare Part A and Part B


def test_a_part_a_only_medicare_beneficiary_s_office_visit_is_not_covered() -> None:
    """EB04 MA (hospital insurance) pays no office visit: with Part B (MB) ended, the outpatient
    psychotherapy visit is not covered though Medicare is active."""
    summary = read(
        "EB*1**30^A7^48*MA",
        "DTP*307*D8*20150101",
        "EB*6**30*MB",
        "DTP*307*RD8*20150101-20241231",
    )
    assert summary.status is EligibilityStatus.ACTIVE
    assert summary.covered is False


def test_an_active_part_b_covers_the_office_visit() -> None:
    summary = read("EB*1**30^A7^48*MA", "EB*6**30*MB", "DTP*307*RD8*20150101-20201231", *_MEDICARE_PART_B)
    assert summary.covered is True
    assert summary.in_network is not None and summary.in_network.coinsurance_percent == Decimal("20")
