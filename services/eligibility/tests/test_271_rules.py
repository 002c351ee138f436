"""The 271 read against the 005010X279A1 rules, one rule a test, on synthetic 271s.

Every identifier, name and date here is invented.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from rcm.eligibility.checker import Checker, read_271, read_271_leniently
from rcm.eligibility.domain import AaaAction, decide, summarize
from rcm.eligibility.domain.benefits import BenefitSummary
from rcm.eligibility.domain.inquiry import InquiryRequest, Person
from rcm.eligibility.settings import PayerPolicy
from rcm.events.models import CoveragePriority, EligibilityStatus
from rcm.x12.convert import read_interchanges
from rcm.x12.errors import X12Error

pytestmark = pytest.mark.unit

DOS = date(2025, 3, 3)
PLAN = ("REF*6P*GRP00001*SYNTHETIC PPO GROUP", "DTP*346*D8*20250101", "EB*1*IND*30*PR*SYNTHETIC PPO")


def x271(
    *subscriber: str,
    dependent: tuple[str, ...] | None = None,
    source: tuple[str, ...] = (),
    payer: tuple[str, ...] = (),
    receiver: tuple[str, ...] = (),
) -> str:
    """A synthetic 271: ``source`` after HL*20 (2000A), ``payer`` after its NM1 (2100A), ``receiver``
    after the provider's NM1 (2100B), ``subscriber`` after NM1*IL (2100C/2110C), ``dependent`` after
    NM1*03 (2100D/2110D)."""
    body = [
        "BHT*0022*11*TRACE1*20250301*1200",
        "HL*1**20*1",
        *source,
        "NM1*PR*2*SYNTHETIC HEALTH PLAN*****PI*SYNP0001",
        *payer,
        "HL*2*1*21*1",
        "NM1*1P*2*SYNTHETIC COUNSELING GROUP*****XX*1000000004",
        *receiver,
        f"HL*3*2*22*{1 if dependent is not None else 0}",
        "TRN*2*elig-1*9990000001",
        "NM1*IL*1*PATIENT 0001*TEST****MI*SYN000001",
        *subscriber,
    ]
    if dependent is not None:
        body += ["HL*4*3*23*0", "TRN*2*elig-1*9990000001", "NM1*03*1*PATIENT 0001*CHILD", *dependent]
    segments = ["ST*271*0001*005010X279A1", *body, f"SE*{len(body) + 2}*0001"]
    return "~".join(
        [
            "ISA*00*          *00*          *ZZ*SYNPAYER       *ZZ*PRACTICE01     *250301*1200*^*00501*000000001*0*T*:",
            "GS*HB*SYNPAYER*PRACTICE01*20250301*1200*1*X*005010X279A1",
            *segments,
            "GE*1*1",
            "IEA*1*000000001",
            "",
        ]
    )


def read(*subscriber: str, on: date = DOS, **kwargs: tuple[str, ...] | None) -> BenefitSummary:
    return summarize(read_271(x271(*subscriber, **kwargs))[0], service_date=on)  # type: ignore[arg-type]


# ------------------------------------------------------------------ EB01: coverage kinds


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("1", EligibilityStatus.ACTIVE),
        ("2", EligibilityStatus.ACTIVE),
        ("3", EligibilityStatus.ACTIVE),
        ("4", EligibilityStatus.ACTIVE),
        ("5", EligibilityStatus.ACTIVE),
        ("6", EligibilityStatus.INACTIVE),
        ("7", EligibilityStatus.INACTIVE),
        ("8", EligibilityStatus.INACTIVE),
    ],
)
def test_eb01_one_to_five_are_active_and_six_to_eight_inactive(code: str, status: EligibilityStatus) -> None:
    assert read(f"EB*{code}*IND*30*PR*SYNTHETIC PPO").status is status


def test_a_service_type_the_payer_cannot_process_is_not_where_benefits_come_from() -> None:
    summary = read(*PLAN, "EB*V*IND*MH", "EB*B*IND*A8*PR**27*30.00*****Y")
    assert summary.service_type_code == "A8"
    assert summary.in_network is not None and summary.in_network.copay == Decimal("30.00")


def test_psychiatric_a4_comes_before_substance_use_and_the_office_visit() -> None:
    summary = read(*PLAN, "EB*B*IND*A4*PR**27*35.00*****Y", "EB*B*IND*AI^98*PR**27*50.00*****Y")
    assert summary.service_type_code == "A4"
    assert summary.in_network is not None and summary.in_network.copay == Decimal("35.00")


def test_repeated_service_types_in_one_eb_each_count() -> None:
    summary = read(*PLAN, "EB*B*IND*A8^MH^CF*PR**27*20.00*****Y")
    assert summary.service_type_code == "MH"
    assert summary.in_network is not None and summary.in_network.copay == Decimal("20.00")


def test_a_non_covered_service_type_is_not_covered_while_the_plan_is_active() -> None:
    summary = read(*PLAN, "EB*I*IND*MH")
    assert summary.status is EligibilityStatus.ACTIVE
    assert summary.covered is False


# ------------------------------------------------------------------ EB07 / EB08: amounts and percents


@pytest.mark.parametrize(
    ("eb08", "percent"), [(".2", "20"), ("0.15", "15"), ("0", "0"), ("1", "100"), ("30", "30")]
)
def test_coinsurance_is_a_fraction_of_one(eb08: str, percent: str) -> None:
    summary = read(*PLAN, f"EB*A*IND*MH*PR**27**{eb08}****Y")
    assert summary.in_network is not None
    assert summary.in_network.coinsurance_percent == Decimal(percent)


def test_a_zero_copay_is_a_copay() -> None:
    summary = read(*PLAN, "EB*B*IND*MH*PR**27*0*****Y", "EB*B*IND*MH*PR**7*15.00*****Y")
    assert summary.in_network is not None and summary.in_network.copay == Decimal("0")


def test_a_percent_on_a_copay_is_not_an_amount() -> None:
    summary = read(*PLAN, "EB*B*IND*MH*PR**27**0.1****Y", "EB*B*IND*MH*PR**27*25.00*****Y")
    assert summary.in_network is not None and summary.in_network.copay == Decimal("25.00")


# ------------------------------------------------------------------ EB02: coverage level


def test_the_individual_figures_win_over_the_family_ones_whatever_their_order() -> None:
    summary = read(
        *PLAN,
        "EB*C*FAM*MH***23*3000.00*****Y",
        "EB*C*FAM*MH***29*1200.00*****Y",
        "EB*C*IND*MH***23*1000.00*****Y",
        "EB*C*IND*MH***29*400.00*****Y",
    )
    net = summary.in_network
    assert net is not None
    assert (net.deductible, net.deductible_remaining) == (Decimal("1000.00"), Decimal("400.00"))


def test_a_family_remaining_amount_is_never_paired_with_an_individual_deductible() -> None:
    summary = read(*PLAN, "EB*C*IND*MH***23*1000.00*****Y", "EB*C*FAM*MH***29*2500.00*****Y")
    net = summary.in_network
    assert net is not None
    assert (net.deductible, net.deductible_remaining) == (Decimal("1000.00"), None)


def test_employee_only_coverage_is_the_individual_figure() -> None:
    summary = read(*PLAN, "EB*G*FAM*MH***23*9000.00*****Y", "EB*G*EMP*MH***23*4500.00*****Y")
    assert summary.in_network is not None and summary.in_network.out_of_pocket_max == Decimal("4500.00")


def test_a_family_only_deductible_is_the_one_that_applies() -> None:
    summary = read(*PLAN, "EB*C*FAM*MH***23*2000.00*****Y", "EB*C*FAM*MH***29*800.00*****Y")
    net = summary.in_network
    assert net is not None and (net.deductible, net.deductible_remaining) == (
        Decimal("2000.00"),
        Decimal("800.00"),
    )


# ------------------------------------------------------------------ EB06: time periods


def test_the_calendar_year_deductible_wins_over_a_lifetime_one() -> None:
    summary = read(
        *PLAN,
        "EB*C*IND*MH***32*10000.00*****Y",
        "EB*C*IND*MH***33*9000.00*****Y",
        "EB*C*IND*MH***23*750.00*****Y",
        "EB*C*IND*MH***29*250.00*****Y",
    )
    net = summary.in_network
    assert net is not None
    assert (net.deductible, net.deductible_remaining) == (Decimal("750.00"), Decimal("250.00"))


@pytest.mark.parametrize("period", ["22", "25"])
def test_a_service_or_contract_year_amount_is_the_plan_year_amount(period: str) -> None:
    summary = read(*PLAN, "EB*C*IND*MH***32*9000.00*****Y", f"EB*C*IND*MH***{period}*600.00*****Y")
    assert summary.in_network is not None and summary.in_network.deductible == Decimal("600.00")


def test_out_of_pocket_met_to_date_gives_what_remains() -> None:
    summary = read(*PLAN, "EB*G*IND*MH***23*4000.00*****Y", "EB*G*IND*MH***24*1500.00*****Y")
    net = summary.in_network
    assert net is not None and net.out_of_pocket_remaining == Decimal("2500.00")


def test_a_per_visit_copay_wins_over_a_per_day_one() -> None:
    summary = read(*PLAN, "EB*B*IND*MH*PR**7*100.00*****Y", "EB*B*IND*MH*PR**27*30.00*****Y")
    assert summary.in_network is not None and summary.in_network.copay == Decimal("30.00")


# ------------------------------------------------------------------ EB09 / EB10 and HSD: visit limits


def test_visits_allowed_and_remaining() -> None:
    summary = read(*PLAN, "EB*F*IND*MH***23***VS*30", "EB*F*IND*MH***29***VS*18")
    limit = summary.visit_limit
    assert limit is not None and (limit.allowed, limit.used, limit.remaining) == (30, 12, 18)
    assert summary.visits_remaining == 18


def test_visits_used_eb09_99() -> None:
    summary = read(*PLAN, "EB*F*IND*MH***23***VS*20", "EB*F*IND*MH***23***99*5")
    limit = summary.visit_limit
    assert limit is not None and (limit.allowed, limit.used, limit.remaining) == (20, 5, 15)


def test_a_visit_limit_given_by_hsd() -> None:
    summary = read(*PLAN, "EB*F*IND*MH", "HSD*VS*24***23*1", "EB*F*IND*MH", "HSD*VS*10***29")
    limit = summary.visit_limit
    assert limit is not None and (limit.allowed, limit.remaining) == (24, 10)


def test_days_and_hours_are_not_visits() -> None:
    summary = read(*PLAN, "EB*F*IND*MH***23***DY*30", "EB*F*IND*MH***23***HS*40", "HSD*DY*30")
    assert summary.visit_limit is None


def test_remaining_visits_without_the_number_allowed_are_kept() -> None:
    summary = read(*PLAN, "EB*F*IND*MH***29***VS*7")
    assert summary.visit_limit is None
    assert summary.visits_remaining == 7


def test_an_out_of_network_visit_limit_is_not_the_in_network_one() -> None:
    summary = read(*PLAN, "EB*F*IND*MH***23***VS*10**N", "EB*F*IND*MH***23***VS*52**Y")
    assert summary.visit_limit is not None and summary.visit_limit.allowed == 52


def test_a_visit_limit_keeps_its_benefit_period() -> None:
    summary = read(*PLAN, "EB*F*IND*MH***22***VS*20", "DTP*292*RD8*20240701-20250630")
    limit = summary.visit_limit
    assert limit is not None and limit.period is not None
    assert (limit.period.start, limit.period.end) == (date(2024, 7, 1), date(2025, 6, 30))


# ------------------------------------------------------------------ EB11: authorization


@pytest.mark.parametrize(("flag", "required"), [("Y", True), ("N", False), ("U", None)])
def test_authorization_yes_no_unknown(flag: str, required: bool | None) -> None:
    assert read(*PLAN, f"EB*1*IND*MH********{flag}").auth_required is required


def test_the_in_network_authorization_flag_decides() -> None:
    summary = read(*PLAN, "EB*B*IND*MH*PR**27*60.00****Y*N", "EB*B*IND*MH*PR**27*25.00****N*Y")
    assert summary.auth_required is False


# ------------------------------------------------------------------ EB12: network


def test_an_explicit_in_network_figure_wins_over_an_unflagged_one() -> None:
    summary = read(*PLAN, "EB*B*IND*MH*PR**27*45.00", "EB*B*IND*MH*PR**27*20.00*****Y")
    assert summary.in_network is not None and summary.in_network.copay == Decimal("20.00")


def test_not_applicable_network_applies_to_both_tiers_and_unknown_to_none_out_of_network() -> None:
    summary = read(*PLAN, "EB*C*IND*MH***23*500.00*****W", "EB*B*IND*MH*PR**27*30.00*****U")
    assert summary.in_network is not None and summary.out_of_network is not None
    assert summary.in_network.deductible == summary.out_of_network.deductible == Decimal("500.00")
    assert summary.in_network.copay == Decimal("30.00")
    assert summary.out_of_network.copay is None


# ------------------------------------------------------------------ plan-wide figures under 30


def test_a_plan_wide_deductible_under_30_applies_to_mental_health() -> None:
    summary = read(
        *PLAN,
        "EB*C*IND*30***23*1500.00*****Y",
        "EB*C*IND*30***29*900.00*****Y",
        "EB*B*IND*MH*PR**27*25.00*****Y",
    )
    net = summary.in_network
    assert summary.service_type_code == "MH"
    assert net is not None and (net.copay, net.deductible, net.deductible_remaining) == (
        Decimal("25.00"),
        Decimal("1500.00"),
        Decimal("900.00"),
    )


def test_mental_health_s_own_deductible_wins_over_the_plan_s() -> None:
    summary = read(*PLAN, "EB*C*IND*30***23*1500.00*****Y", "EB*C*IND*MH***23*250.00*****Y")
    assert summary.in_network is not None and summary.in_network.deductible == Decimal("250.00")


def test_a_carved_out_service_type_takes_nothing_from_the_medical_plan() -> None:
    summary = read(
        *PLAN,
        "EB*C*IND*30***23*1500.00*****Y",
        "EB*U*IND*MH",
        "MSG*CALL THE BEHAVIORAL HEALTH PLAN",
        "LS*2120",
        "NM1*Y2*2*SYNTHETIC BEHAVIORAL PARTNERS*****PI*SYNBH01",
        "PER*IC**TE*5550100999",
        "LE*2120",
    )
    assert summary.in_network is None
    assert summary.other_payer is not None and summary.other_payer.name == "SYNTHETIC BEHAVIORAL PARTNERS"
    assert summary.other_payer_identifier == "SYNBH01"
    assert summary.messages == ["CALL THE BEHAVIORAL HEALTH PLAN"]
    assert summary.related_entities[0].contact == "5550100999"


# ------------------------------------------------------------------ MSG


def test_a_message_is_kept_and_never_read_as_a_rule() -> None:
    summary = read(*PLAN, "EB*B*IND*MH*PR**27*40.00*****Y", "MSG*COPAY WAIVED FOR FIRST VISIT")
    assert summary.messages == ["COPAY WAIVED FOR FIRST VISIT"]
    assert summary.in_network is not None and summary.in_network.copay == Decimal("40.00")


# ------------------------------------------------------------------ III: place of service, telehealth


def test_telehealth_benefits_are_apart_from_the_office_ones() -> None:
    summary = read(
        *PLAN,
        "EB*B*IND*MH*PR**27*0*****Y",
        "III*ZZ*02",
        "EB*B*IND*MH*PR**27*35.00*****Y",
        "III*ZZ*11",
        "EB*B*IND*MH*PR**27*90.00*****Y",
        "III*ZZ*22",
    )
    assert summary.in_network is not None and summary.in_network.copay == Decimal("35.00")
    assert summary.telehealth is not None and summary.telehealth.copay == Decimal("0")
    assert summary.telehealth_covered is True


def test_telehealth_not_covered() -> None:
    summary = read(*PLAN, "EB*1*IND*MH", "EB*I*IND*MH", "III*ZZ*10")
    assert summary.covered is True
    assert summary.telehealth_covered is False


def test_a_procedure_specific_copay_comes_after_the_general_one() -> None:
    summary = read(*PLAN, "EB*B*IND*MH*PR**27*75.00*****Y*HC:90837", "EB*B*IND*MH*PR**27*25.00*****Y")
    assert summary.in_network is not None and summary.in_network.copay == Decimal("25.00")


# ------------------------------------------------------------------ LS/LE: 2120 related entities


def test_the_other_payer_of_an_eb_r_with_its_name_id_and_order() -> None:
    summary = read(
        *PLAN,
        "EB*R*IND*30*MB",
        "REF*IG*SYNPOLICY01",
        "LS*2120",
        "NM1*PRP*2*SYNTHETIC MEDICARE CONTRACTOR*****PI*SYNMCR1",
        "LE*2120",
    )
    assert summary.other_payer is not None
    assert summary.other_payer.name == "SYNTHETIC MEDICARE CONTRACTOR"
    assert summary.other_payer.priority is CoveragePriority.PRIMARY
    assert summary.other_payer_identifier == "SYNMCR1"


def test_an_other_payer_identified_by_something_else_than_a_payer_id_is_not_looked_up() -> None:
    summary = read(
        *PLAN, "EB*R*IND*30", "LS*2120", "NM1*SEP*2*SYNTHETIC SECONDARY*****FI*990000001", "LE*2120"
    )
    assert summary.other_payer is not None and summary.other_payer.priority is CoveragePriority.SECONDARY
    assert summary.other_payer_identifier is None


def test_other_coverage_that_ended_before_the_visit_is_not_another_payer() -> None:
    summary = read(
        *PLAN,
        "EB*R*IND*30",
        "DTP*290*D8*20230101",
        "DTP*347*D8*20241231",
        "LS*2120",
        "NM1*PRP*2*SYNTHETIC FORMER PLAN*****PI*SYNOLD1",
        "LE*2120",
    )
    assert summary.other_payer is None


def test_a_primary_care_provider_is_kept_and_is_not_another_payer() -> None:
    summary = read(
        *PLAN,
        "EB*L*IND*30",
        "LS*2120",
        "NM1*P3*1*DOCTOR*SYNTHETIC****XX*1000000012",
        "LE*2120",
        "EB*N*IND*MH",
        "LS*2120",
        "NM1*1P*2*SYNTHETIC NETWORK CLINIC*****XX*1000000020",
        "LE*2120",
    )
    assert summary.other_payer is None
    assert [(e.benefit, e.entity_code, e.identifier) for e in summary.related_entities] == [
        ("L", "P3", "1000000012"),
        ("N", "1P", "1000000020"),
    ]


# ------------------------------------------------------------------ AAA


def test_a_payer_level_aaa_at_2000a_is_an_error_to_retry() -> None:
    for reason, follow_up in (("42", "C"), ("80", "C"), ("79", "R"), ("79", "")):
        summary = read(source=(f"AAA*N**{reason}*{follow_up}".rstrip("*"),))
        assert summary.status is EligibilityStatus.ERROR
        assert summary.aaa_loops == ["2000A"]
        decision = decide(summary.aaa_errors, summary.aaa_loops)
        assert decision is not None and decision.action is AaaAction.RETRY, reason


def test_79_from_the_payer_asking_for_a_correction_names_the_payer_identification() -> None:
    # 2100A 79 "invalid participant identification" with C "please correct and resubmit": the payer
    # id the 270 was sent with is wrong; the same request would be rejected again
    summary = read(source=("AAA*N**79*C",))
    decision = decide(summary.aaa_errors, summary.aaa_loops)
    assert decision is not None and decision.action is AaaAction.CORRECT
    assert decision.corrections == ("payer",)


def test_79_from_the_provider_s_loop_asks_to_correct_the_provider() -> None:
    summary = read(receiver=("AAA*N**79*C",))
    assert summary.status is EligibilityStatus.ERROR
    decision = decide(summary.aaa_errors, summary.aaa_loops)
    assert decision is not None and decision.action is AaaAction.CORRECT
    assert decision.corrections == ("provider",)


@pytest.mark.parametrize(
    ("reason", "fields"),
    [
        ("72", ("member_id",)),
        ("75", ("member_id", "name", "birth_date")),
        ("73", ("name",)),
        ("71", ("birth_date",)),
    ],
)
def test_a_subscriber_rejection_is_not_found_and_says_what_to_correct(
    reason: str, fields: tuple[str, ...]
) -> None:
    summary = read(f"AAA*N**{reason}*C")
    assert summary.status is EligibilityStatus.NOT_FOUND
    assert summary.aaa_loops == ["2100C"]
    decision = decide(summary.aaa_errors, summary.aaa_loops)
    assert decision is not None and decision.action is AaaAction.CORRECT and decision.corrections == fields


def test_a_subscriber_level_42_is_an_error_to_retry_not_a_missing_member() -> None:
    summary = read("AAA*Y**42*R")
    assert summary.status is EligibilityStatus.ERROR
    decision = decide(summary.aaa_errors, summary.aaa_loops)
    assert decision is not None and decision.action is AaaAction.RETRY


def test_42_with_a_wait_follow_up_waits() -> None:
    decision = decide(read("AAA*N**42*X").aaa_errors, ["2100C"])
    assert decision is not None and decision.action is AaaAction.WAIT and decision.wait is not None
    assert decision.wait.days == 10


def test_a_dependent_not_found_under_a_found_subscriber() -> None:
    summary = read("DTP*346*D8*20250101", dependent=("AAA*N**77*C",))
    assert summary.status is EligibilityStatus.NOT_FOUND
    assert summary.aaa_loops == ["2100D"]
    assert summary.aaa_errors[0].description == "Subscriber found, patient not found"
    decision = decide(summary.aaa_errors, summary.aaa_loops)
    assert decision is not None and decision.action is AaaAction.CORRECT


def _request() -> InquiryRequest:
    return InquiryRequest(
        trace="elig-1",
        payer_name="SYNTHETIC HEALTH PLAN",
        payer_electronic_id="SYNP0001",
        provider_name="SYNTHETIC COUNSELING GROUP",
        provider_npi="1000000004",
        member_id="SYN000001",
        subscriber=Person("TEST", "PATIENT 0001", date(1990, 1, 2), "U"),
        service_date=DOS,
    )


def bare_checker() -> Checker:
    """A checker that only reads answers (no clearinghouse), on a fixed day."""
    checker = Checker.__new__(Checker)
    checker.now = lambda: datetime(2026, 3, 6, 12, tzinfo=UTC)
    return checker


def test_a_benefit_level_aaa_does_not_turn_an_answered_check_into_a_rejection() -> None:
    text = x271(*PLAN, "EB*B*IND*MH*PR**27*30.00*****Y", "EB*1*IND*A7", "AAA*N**53*N")
    checker = bare_checker()
    outcome = checker._rejected(text, _request(), PayerPolicy(), retry=False)
    assert outcome.summary.status is EligibilityStatus.ACTIVE
    assert outcome.summary.aaa_loops == ["2110C"]
    assert outcome.decision is None and not outcome.retry_later
    assert outcome.summary.in_network is not None and outcome.summary.in_network.copay == Decimal("30.00")


def test_a_rejected_42_is_checked_again_later() -> None:
    checker = bare_checker()
    outcome = checker._rejected(x271(source=("AAA*N**42*N",)), _request(), PayerPolicy(), retry=False)
    assert outcome.summary.status is EligibilityStatus.ERROR
    assert outcome.decision is not None and outcome.decision.action is AaaAction.STOP  # N: do not resubmit
    outcome = checker._rejected(x271(source=("AAA*Y**42*R",)), _request(), PayerPolicy(), retry=True)
    assert outcome.decision is not None and outcome.decision.action is AaaAction.RETRY and outcome.retry_later


# ------------------------------------------------------------------ 2000D: dependents


def test_a_dependent_s_own_benefits_and_dates_are_used() -> None:
    summary = read(
        *PLAN,
        "EB*B*IND*MH*PR**27*50.00*****Y",
        dependent=(
            "INS*N*19",
            "DTP*356*D8*20250201",
            "EB*1*IND*30",
            "EB*B*IND*MH*PR**27*15.00*****Y",
        ),
    )
    assert summary.status is EligibilityStatus.ACTIVE
    assert summary.relationship == "19"
    assert summary.plan_period is not None and summary.plan_period.start == date(2025, 2, 1)
    assert summary.in_network is not None and summary.in_network.copay == Decimal("15.00")


def test_a_dependent_not_yet_eligible_on_the_visit_date_is_inactive() -> None:
    summary = read(*PLAN, dependent=("DTP*356*D8*20250401", "EB*1*IND*30"))
    assert summary.status is EligibilityStatus.INACTIVE


def test_a_dependent_without_benefits_of_its_own_has_the_subscriber_s() -> None:
    summary = read(*PLAN, "EB*B*IND*MH*PR**27*20.00*****Y", dependent=("INS*N*01",))
    assert summary.status is EligibilityStatus.ACTIVE
    assert summary.plan_period is not None and summary.plan_period.start == date(2025, 1, 1)
    assert summary.in_network is not None and summary.in_network.copay == Decimal("20.00")


# ------------------------------------------------------------------ DTP: plan and eligibility dates


def test_eligibility_dates_win_over_plan_dates() -> None:
    summary = read("DTP*346*D8*20200101", "DTP*356*D8*20240601", "DTP*357*D8*20251231", "EB*1*IND*30")
    assert summary.plan_period is not None
    assert (summary.plan_period.start, summary.plan_period.end) == (date(2024, 6, 1), date(2025, 12, 31))
    assert summary.status is EligibilityStatus.ACTIVE


def test_eligibility_that_ended_before_the_visit_is_inactive() -> None:
    summary = read("DTP*346*D8*20200101", "DTP*357*D8*20250228", "EB*1*IND*30")
    assert summary.status is EligibilityStatus.INACTIVE
    assert summary.plan_period is not None and summary.plan_period.end == date(2025, 2, 28)


def test_an_eligibility_range_307() -> None:
    summary = read("DTP*307*RD8*20250101-20250131", "EB*1*IND*30")
    assert summary.status is EligibilityStatus.INACTIVE


def test_a_plan_begin_date_sent_as_a_range_is_the_plan_period() -> None:
    # X279A1 allows D8 or RD8 for every 2100C/2110C DTP qualifier: a 346 (plan begin) as a
    # range gives the plan's first and last days
    summary = read("DTP*346*RD8*20250101-20250630", "EB*1*IND*30")
    assert summary.plan_period is not None
    assert (summary.plan_period.start, summary.plan_period.end) == (date(2025, 1, 1), date(2025, 6, 30))
    assert summary.status is EligibilityStatus.ACTIVE
    assert read("DTP*346*RD8*20250101-20250228", "EB*1*IND*30").status is EligibilityStatus.INACTIVE


def test_a_benefit_begin_date_sent_as_a_range_bounds_the_benefit() -> None:
    summary = read(
        *PLAN,
        "EB*B*IND*MH***27*25",
        "DTP*348*RD8*20240101-20241231",
        "EB*B*IND*MH***27*40",
        "DTP*348*RD8*20250101-20251231",
    )
    assert summary.in_network is not None and summary.in_network.copay == Decimal("40.00")


def test_a_single_plan_date_is_the_date_asked_about_not_a_bound() -> None:
    summary = read("DTP*291*D8*20250303", "EB*1*IND*30")
    assert summary.status is EligibilityStatus.ACTIVE
    assert summary.plan_period is None


def test_the_eb_of_the_visit_date_decides_among_dated_coverage() -> None:
    summary = read(
        "EB*1*IND*30*PR*SYNTHETIC OLD PLAN",
        "DTP*346*D8*20230101",
        "DTP*347*D8*20241231",
        "EB*1*IND*30*HM*SYNTHETIC NEW PLAN",
        "DTP*346*D8*20250101",
    )
    assert summary.status is EligibilityStatus.ACTIVE
    assert (summary.plan_name, summary.insurance_type) == ("SYNTHETIC NEW PLAN", "HM")
    assert summary.plan_period is not None and summary.plan_period.start == date(2025, 1, 1)


def test_active_coverage_that_ended_at_the_eb_level_is_inactive() -> None:
    summary = read("EB*1*IND*30", "DTP*291*RD8*20240101-20241231")
    assert summary.status is EligibilityStatus.INACTIVE


# ------------------------------------------------------------------ INS, REF


def test_a_member_data_change_is_reported_with_the_id_answered_for() -> None:
    summary = read("INS*Y*18*001*25", *PLAN)
    assert summary.member_data_changed is True
    assert (summary.member_id, summary.relationship) == ("SYN000001", "18")


def test_group_or_policy_number_and_plan_number_description() -> None:
    summary = read("REF*1L*SYNGRP0002", "REF*18*SYNPLAN7*SYNTHETIC HMO GOLD", "EB*1*IND*30")
    assert (summary.group_number, summary.plan_name) == ("SYNGRP0002", "SYNTHETIC HMO GOLD")


def test_a_valid_request_the_payer_could_not_answer_is_checked_again_later() -> None:
    # AAA01 Y: the transport does not reject it, the answer itself says to try again
    checker = bare_checker()
    outcome = checker._answered(x271("AAA*Y**42*R"), _request(), PayerPolicy(), attempts=1)
    assert outcome.summary.status is EligibilityStatus.ERROR
    assert outcome.decision is not None and outcome.decision.action is AaaAction.RETRY
    assert outcome.retry_later


def test_an_in_network_deductible_is_not_completed_by_an_unflagged_remaining_amount() -> None:
    summary = read(*PLAN, "EB*C*IND*MH***29*100.00", "EB*C*IND*MH****800.00*****Y")
    net = summary.in_network
    assert net is not None and (net.deductible, net.deductible_remaining) == (Decimal("800.00"), None)


def test_a_type_described_only_in_words_is_not_where_benefits_come_from() -> None:
    summary = read(
        *PLAN,
        "EB*CB*IND*MH",
        "MSG*SYNTHETIC COVERAGE BASIS TEXT",
        "EB*D*IND*MH",
        "EB*B*IND*CF*PR**27*45.00*****Y",
    )
    assert summary.service_type_code == "CF"
    assert summary.in_network is not None and summary.in_network.copay == Decimal("45.00")


def test_the_benefits_of_the_period_holding_the_visit_are_used() -> None:
    summary = read(
        *PLAN,
        "EB*C*IND*MH***23*400.00*****Y",
        "DTP*292*RD8*20240101-20241231",
        "EB*C*IND*MH***23*650.00*****Y",
        "DTP*292*RD8*20250101-20251231",
    )
    assert summary.in_network is not None and summary.in_network.deductible == Decimal("650.00")


# ------------------------------------------------------------------ malformed parts


@pytest.mark.parametrize(
    ("defect", "left_out"),
    [
        ("EB*B*IND*A6*PR**27*3O.00*****Y", 2),  # a letter O in the amount: the EB and its loop
        ("EB*A*IND*A6*PR***0.X*****Y", 2),  # a percent that is not a number
        ("EB*1*IND*A6**********:90837", 2),  # EB13 without its product qualifier
    ],
)
def test_one_malformed_benefit_leaves_the_rest_of_the_answer(defect: str, left_out: int) -> None:
    """A payer's 271 with one unreadable benefit still answers for the coverage and the other
    benefits: that benefit is left out and counted, not the whole answer lost."""
    text = x271(*PLAN, "EB*B*IND*MH*PR**27*30.00*****Y", defect, "EB*C*IND*MH*PR**23*500.00*****Y")
    with pytest.raises(X12Error):
        read_interchanges(text)  # strict reading: the whole interchange fails
    checker = bare_checker()
    outcome = checker._answered(text, _request(), PayerPolicy(), attempts=1)
    assert outcome.failure is None
    summary = outcome.summary
    assert summary.status is EligibilityStatus.ACTIVE and summary.unread_parts == left_out
    assert summary.in_network is not None and summary.in_network.copay == Decimal("30.00")
    assert summary.in_network.deductible == Decimal("500.00")


def test_a_malformed_date_of_birth_or_date_leaves_only_that_segment() -> None:
    text = x271(
        "DMG*D8*1990010*U", *PLAN[:1], "DTP*346*D8*20251301", *PLAN[2:], "EB*B*IND*MH*PR**27*30.00*****Y"
    )
    responses, unread = read_271_leniently(text)
    assert unread == 2  # DMG02 and DTP03: their segments only
    summary = summarize(responses[0], service_date=DOS)
    assert summary.status is EligibilityStatus.ACTIVE
    assert summary.in_network is not None and summary.in_network.copay == Decimal("30.00")


def test_an_answer_without_its_required_parts_is_still_unreadable() -> None:
    text = x271(*PLAN).replace("BHT*0022*11*TRACE1*20250301*1200~", "BHT*0022*11*TRACE1*20251301*1200~")
    checker = bare_checker()
    outcome = checker._answered(text, _request(), PayerPolicy(), attempts=1)
    assert outcome.failure == "Unreadable271" and outcome.summary.status is EligibilityStatus.ERROR


def test_a_4010_answer_is_unreadable_not_read_with_the_5010_rules() -> None:
    text = x271(*PLAN, "EB*B*IND*MH*PR**27*30.00*****Y").replace("*005010X279A1", "*004010X092A1")
    with pytest.raises(X12Error, match=r"not 005010|no typed model for transaction set 271 \(004010X092A1\)"):
        read_271(text)
    checker = bare_checker()
    outcome = checker._answered(text, _request(), PayerPolicy(), attempts=1)
    assert outcome.failure == "Unreadable271" and outcome.summary.status is EligibilityStatus.ERROR


@pytest.mark.parametrize(
    ("eb08", "written"), [(".2", "20"), ("1", "100"), (".125", "12.5"), ("0", "0"), ("50", "50")]
)
def test_the_coinsurance_percent_is_published_as_written_not_in_exponent_form(
    eb08: str, written: str
) -> None:
    summary = read(*PLAN, f"EB*A*IND*MH*PR**27**{eb08}****Y")
    assert summary.in_network is not None
    assert summary.in_network.model_dump(mode="json")["coinsurance_percent"] == written


# ------------------------------------------------------------------ review cases: entity roles, precedence


def test_a_utilization_management_organization_is_not_another_payer() -> None:
    # 2120 NM1*X3: where authorizations are asked for; the claims stay with the answering payer
    summary = read(
        *PLAN,
        "EB*U**MH",
        "LS*2120",
        "NM1*X3*2*SYNTHETIC UM REVIEW",
        "PER*IC**TE*5550100777",
        "LE*2120",
        "EB*B*IND*30***27*20.00*****Y",
    )
    assert summary.other_payer is None
    assert summary.in_network is not None and summary.in_network.copay == Decimal("20.00")


@pytest.mark.parametrize(
    "specific",
    [
        "EB*B*IND*MH***27*75.00*****Y*HC:90837",  # one procedure's copay
        "EB*B*IND*MH***27*150.00*****Y~III*ZZ*22",  # the outpatient hospital's copay
        "EB*B*IND*MH***27*90.00*****U",  # network unknown
    ],
)
def test_a_coverage_level_never_makes_a_narrower_benefit_the_visits_copay(specific: str) -> None:
    summary = read(*PLAN, *specific.split("~"), "EB*B**MH***27*30.00*****Y")
    assert summary.in_network is not None and summary.in_network.copay == Decimal("30.00")


def test_a_years_visit_limit_is_not_counted_down_by_the_lifetimes_remaining() -> None:
    summary = read(*PLAN, "EB*F*IND*MH***23***VS*20", "EB*F*IND*MH***33***VS*60")
    limit = summary.visit_limit
    assert limit is not None and (limit.allowed, limit.used, limit.remaining) == (20, None, None)
    assert summary.visits_remaining is None


def test_a_lifetime_limit_with_this_years_remaining_binds_the_visit_without_inventing_use() -> None:
    summary = read(*PLAN, "EB*F*IND*MH***32***VS*100", "EB*F*IND*MH***29***VS*15")
    limit = summary.visit_limit
    assert limit is not None and (limit.allowed, limit.used, limit.remaining) == (100, None, None)
    assert summary.visits_remaining == 15


def test_an_out_of_network_authorization_answer_says_nothing_of_an_in_network_visit() -> None:
    unknown_in = read(*PLAN, "EB*B*IND*MH***27*20.00****U*Y", "EB*B*IND*MH***27*60.00****N*N")
    assert unknown_in.auth_required is None
    only_out = read(*PLAN, "EB*B*IND*MH***27*20.00*****Y", "EB*B*IND*MH***27*60.00****Y*N")
    assert only_out.auth_required is None
    in_network = read(*PLAN, "EB*B*IND*MH***27*20.00****Y*Y", "EB*B*IND*MH***27*60.00****N*N")
    assert in_network.auth_required is True


def test_a_limit_and_an_authorization_rule_of_the_next_behavioural_type_count() -> None:
    # the copay under MH, the psychotherapy visits' limit and authorization under A6
    summary = read(
        *PLAN, "EB*B*IND*MH***27*25.00*****Y", "EB*F*IND*A6***23***VS*20", "EB*1*IND*A6********Y*Y"
    )
    assert summary.visit_limit is not None and summary.visit_limit.allowed == 20
    assert summary.auth_required is True
    # the plan's (30) limit is other services'
    plan_limit = read(*PLAN, "EB*B*IND*MH***27*25.00*****Y", "EB*F*IND*30***23***VS*12")
    assert plan_limit.visit_limit is None


# ------------------------------------------------------------------ the 271 answers our 270


def test_a_271_echoing_another_trace_is_never_read_as_our_answer(caplog: pytest.LogCaptureFixture) -> None:
    # the clearinghouse mixed up two answers: right envelope, another member's 271
    other = x271(*PLAN).replace("TRN*2*elig-1*", "TRN*2*elig-7*").replace("SYN000001", "SYN000777")
    outcome = bare_checker()._answered(other, _request(), PayerPolicy(), attempts=1)
    assert outcome.summary.status is EligibilityStatus.ERROR
    assert outcome.failure == "TraceMismatch" and outcome.retry_later
    assert "SYN000777" not in caplog.text and "SYN000001" not in caplog.text
    rejected = bare_checker()._rejected(other, _request(), PayerPolicy(), retry=False)
    assert rejected.failure == "TraceMismatch" and rejected.summary.status is EligibilityStatus.ERROR


def test_a_271_without_an_echoed_trace_must_name_our_member() -> None:
    silent = x271(*PLAN).replace("TRN*2*elig-1*9990000001~", "")
    assert "TRN" not in silent
    ours = bare_checker()._answered(silent, _request(), PayerPolicy(), attempts=1)
    assert ours.summary.status is EligibilityStatus.ACTIVE and ours.failure is None
    another = silent.replace("SYN000001", "SYN000777")
    outcome = bare_checker()._answered(another, _request(), PayerPolicy(), attempts=1)
    assert (outcome.summary.status, outcome.failure) == (EligibilityStatus.ERROR, "MemberMismatch")


def test_our_echoed_trace_is_our_answer() -> None:
    outcome = bare_checker()._answered(x271(*PLAN), _request(), PayerPolicy(), attempts=1)
    assert outcome.summary.status is EligibilityStatus.ACTIVE and outcome.failure is None
