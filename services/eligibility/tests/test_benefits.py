"""The 271 read as a behavioural-health benefit summary: public samples and 271s built here."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from rcm.eligibility.checker import read_271
from rcm.eligibility.domain import summarize
from rcm.events.models import CoveragePriority, EligibilityStatus

pytestmark = pytest.mark.unit

DATA = Path(__file__).parent / "data"
DOS = date(2025, 3, 3)


def sample(name: str, *, on: date = DOS):
    responses = read_271((DATA / name).read_text())
    return summarize(responses[0], service_date=on)


def response_271(*subscriber: str, source: tuple[str, ...] = ()) -> str:
    """A synthetic 271 around the 2100C segments (and 2110C loops) given."""
    body = [
        "BHT*0022*11*TRACE1*20250301*1200",
        "HL*1**20*1",
        "NM1*PR*2*SYNTHETIC HEALTH PLAN*****PI*SYNP0001",
        *source,
        "HL*2*1*21*1",
        "NM1*1P*2*SYNTHETIC COUNSELING GROUP*****XX*1000000004",
        "HL*3*2*22*0",
        "TRN*2*elig-1*9990000001",
        "TRN*1*PAYERTRACE77*9SYNPAYER",
        "NM1*IL*1*PATIENT 0001*TEST****MI*SYN000001",
        *subscriber,
    ]
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


def summary_of(*subscriber: str, on: date = DOS, **kwargs: tuple[str, ...]):
    return summarize(read_271(response_271(*subscriber, **kwargs))[0], service_date=on)


ACTIVE_PLAN = (
    "REF*6P*GRP00001*SYNTHETIC PPO GROUP",
    "DTP*346*D8*20250101",
    "EB*1*IND*30*PR*SYNTHETIC PPO",
)


# ------------------------------------------------------------------ public samples


def test_the_demo_271_reads_mental_health_copays_in_and_out_of_network() -> None:
    summary = sample("LinuxForHealth-x12__demo-file_demo.271", on=date(2006, 5, 1))
    assert summary.status is EligibilityStatus.ACTIVE
    assert summary.plan_name == "GOLD 123 PLAN"
    assert summary.service_type_code == "MH"
    assert summary.in_network is not None and summary.in_network.copay == Decimal("10.00")
    assert summary.out_of_network is not None and summary.out_of_network.copay == Decimal("30.00")
    assert summary.plan_period is not None and summary.plan_period.start == date(2006, 1, 1)
    assert summary.payer_trace_number == "93175-012547"


def test_a_dependents_benefits_come_from_the_dependent_level() -> None:
    summary = sample(
        "LinuxForHealth-x12__271_005010X279A1_dependent-health-benefit-check.271", on=date(2006, 5, 1)
    )
    assert summary.status is EligibilityStatus.ACTIVE
    assert summary.service_type_code == "MH"
    assert summary.in_network is not None and summary.in_network.copay == Decimal("10.00")


def test_a_rejected_subscriber_is_not_found_with_its_aaa() -> None:
    summary = sample("Kartik-Hirijaganer-X12-Parser-Encoder__271_rejected_subscriber.x12")
    assert summary.status is EligibilityStatus.NOT_FOUND
    assert [(e.code, e.follow_up) for e in summary.aaa_errors] == [("72", "C")]
    assert summary.aaa_errors[0].description == "Invalid/missing subscriber/insured ID"


def test_without_mental_health_codes_the_generic_plan_coverage_is_used() -> None:
    summary = sample(
        "Kartik-Hirijaganer-X12-Parser-Encoder__271_multiple_eb_segments.x12", on=date(2026, 4, 12)
    )
    assert summary.service_type_code == "30"
    assert summary.in_network is not None and summary.in_network.copay == Decimal("5.00")


def test_a_medicare_271_names_the_other_payer_and_falls_back_to_psychotherapy() -> None:
    summary = sample("aaronhuggins-node-x12__271.edi", on=date(2019, 12, 30))
    assert summary.status is EligibilityStatus.ACTIVE
    assert summary.service_type_code == "A6"  # no MH in this 271; A6 is listed with Part B
    assert summary.other_payer is not None and summary.other_payer.name == "NJ QMB Plan"


# ------------------------------------------------------------------ built 271s


def test_an_active_plan_with_mental_health_benefits() -> None:
    summary = summary_of(
        *ACTIVE_PLAN,
        "EB*1*IND*MH*PR*SYNTHETIC PPO******N",
        "EB*B*IND*MH*PR**27*25.00*****Y",
        "EB*B*IND*MH*PR**27*60.00*****N",
        "EB*A*IND*MH*PR**27**0.2****N",
    )
    assert summary.status is EligibilityStatus.ACTIVE
    assert (summary.plan_name, summary.group_number) == ("SYNTHETIC PPO", "GRP00001")
    assert summary.service_type_code == "MH"
    assert summary.in_network is not None and summary.in_network.copay == Decimal("25.00")
    assert summary.out_of_network is not None
    assert summary.out_of_network.copay == Decimal("60.00")
    assert summary.out_of_network.coinsurance_percent == Decimal("20")
    assert summary.auth_required is False
    assert summary.payer_trace_number == "PAYERTRACE77"
    assert summary.covered is True


def test_a_terminated_plan_is_inactive_on_the_date_of_service() -> None:
    summary = summary_of("DTP*291*RD8*20230101-20241231", "EB*6*IND*30*PR*SYNTHETIC PPO")
    assert summary.status is EligibilityStatus.INACTIVE
    assert summary.plan_period is not None and summary.plan_period.end == date(2024, 12, 31)


def test_active_benefits_outside_the_plan_dates_are_inactive() -> None:
    summary = summary_of("DTP*291*RD8*20230101-20241231", "EB*1*IND*30*PR*SYNTHETIC PPO")
    assert summary.status is EligibilityStatus.INACTIVE


def test_an_unknown_member_is_not_found_and_says_so() -> None:
    summary = summary_of("AAA*N**75*N")
    assert summary.status is EligibilityStatus.NOT_FOUND
    assert summary.aaa_errors[0].code == "75"


def test_a_payer_that_cannot_answer_is_an_error_not_a_missing_member() -> None:
    summary = summary_of(source=("AAA*N**42*R",))
    assert summary.status is EligibilityStatus.ERROR
    assert [(e.code, e.follow_up) for e in summary.aaa_errors] == [("42", "R")]


def test_a_carved_out_mental_health_benefit_names_the_behavioural_health_plan() -> None:
    summary = summary_of(
        *ACTIVE_PLAN,
        "EB*R*IND*MH",
        "LS*2120",
        "NM1*PRP*2*MINDFUL BEHAVIORAL HEALTH*****PI*MINDBH",
        "LE*2120",
        "EB*B*IND*30*PR**27*40.00",
    )
    assert summary.status is EligibilityStatus.ACTIVE
    assert summary.service_type_code == "MH"
    assert summary.other_payer is not None
    assert summary.other_payer.name == "MINDFUL BEHAVIORAL HEALTH"
    assert summary.other_payer.priority is CoveragePriority.PRIMARY
    assert summary.other_payer_identifier == "MINDBH"
    assert summary.in_network is None  # the medical plan's copay is not the behavioural-health one


def test_a_partly_met_deductible_reports_what_remains() -> None:
    summary = summary_of(
        *ACTIVE_PLAN,
        "EB*1*IND*MH",
        "EB*C*IND*MH***23*500.00",
        "EB*C*IND*MH***29*350.00",
        "EB*C*FAM*MH***23*1000.00",
        "EB*G*IND*MH***23*3000.00",
        "EB*G*IND*MH***29*2100.00",
    )
    net = summary.in_network
    assert net is not None
    assert (net.deductible, net.deductible_remaining) == (Decimal("500.00"), Decimal("350.00"))
    assert (net.out_of_pocket_max, net.out_of_pocket_remaining) == (Decimal("3000.00"), Decimal("2100.00"))


def test_a_deductible_met_to_date_gives_the_remaining_amount() -> None:
    summary = summary_of(*ACTIVE_PLAN, "EB*1*IND*MH", "EB*C*IND*MH***23*500.00", "EB*C*IND*MH***24*150.00")
    assert summary.in_network is not None and summary.in_network.deductible_remaining == Decimal("350.00")


def test_a_reached_visit_limit_has_none_remaining() -> None:
    summary = summary_of(
        *ACTIVE_PLAN,
        "EB*1*IND*MH********Y",
        "EB*F*IND*MH***23***VS*20",
        "EB*F*IND*MH***29***VS*0",
    )
    assert summary.visit_limit is not None
    assert (summary.visit_limit.allowed, summary.visit_limit.used, summary.visit_limit.remaining) == (
        20,
        20,
        0,
    )
    assert summary.auth_required is True


@pytest.mark.parametrize(
    ("reported", "used"),
    [
        (("MH", "A8", "30"), "MH"),
        (("A8", "98", "30"), "A8"),
        (("CF", "AI", "30"), "CF"),
        (("AJ", "98", "30"), "98"),  # a substance-use type never answers for a mental-health visit
        (("98", "30"), "98"),
        (("30",), "30"),
    ],
)
def test_benefits_fall_back_by_service_type(reported: tuple[str, ...], used: str) -> None:
    segments = [f"EB*B*IND*{code}*PR**27*{10 + i}.00" for i, code in enumerate(reported)]
    summary = summary_of(*ACTIVE_PLAN, *segments)
    assert summary.service_type_code == used
    expected = Decimal(f"{10 + reported.index(used)}.00")
    assert summary.in_network is not None and summary.in_network.copay == expected


def test_a_mental_health_service_that_is_not_covered_says_so() -> None:
    summary = summary_of(*ACTIVE_PLAN, "EB*I*IND*MH")
    assert summary.status is EligibilityStatus.ACTIVE
    assert summary.service_type_code == "MH"
    assert summary.covered is False
