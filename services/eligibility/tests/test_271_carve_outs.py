"""A behavioural-health benefit another entity administers (a carve-out), read from the 2120C/D
loop of a 271 (005010X279A1), on synthetic 271s.

Every identifier, name and date here is invented.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from rcm.eligibility.domain import payer_identifier
from rcm.events.models import CarveOutRole, EligibilityStatus

from .test_271_rules import PLAN, read

pytestmark = pytest.mark.unit


def _named(entity: str, benefit: str = "EB*1*IND*MH") -> tuple[str, ...]:
    return (benefit, "LS*2120", entity, "PER*IC**TE*5550100777", "LE*2120")


VENDOR = "NM1*VN*2*SYNTHETIC MIND VENDOR*****PI*SYNVN01"


def test_an_active_mental_health_benefit_a_vendor_administers_is_carved_out_to_it() -> None:
    summary = read(*PLAN, "EB*C*IND*30***23*1500.00*****Y", *_named(VENDOR))
    carve_out = summary.carve_out
    assert carve_out is not None
    assert (carve_out.name, carve_out.role, carve_out.entity_code) == (
        "SYNTHETIC MIND VENDOR",
        CarveOutRole.VENDOR,
        "VN",
    )
    assert (carve_out.id_qualifier, carve_out.identifier, payer_identifier(carve_out)) == (
        "PI",
        "SYNVN01",
        "SYNVN01",
    )
    assert (carve_out.benefit_code, carve_out.service_types) == ("1", ["MH"])
    # the coverage is active and the service covered: the vendor, not the medical plan, pays it
    assert (summary.status, summary.covered) == (EligibilityStatus.ACTIVE, True)
    assert summary.in_network is None  # the medical plan's deductible is not the vendor's


@pytest.mark.parametrize(
    ("code", "role"),
    [
        ("VN", CarveOutRole.VENDOR),
        ("PR", CarveOutRole.PAYER),
        ("Y2", CarveOutRole.MANAGED_CARE_ORGANIZATION),
        ("2B", CarveOutRole.THIRD_PARTY_ADMINISTRATOR),
    ],
)
def test_each_entity_that_may_administer_a_benefit_is_a_carve_out_with_its_role(
    code: str, role: CarveOutRole
) -> None:
    summary = read(*PLAN, *_named(f"NM1*{code}*2*SYNTHETIC ADMINISTRATOR*****FI*990000001"))
    assert summary.carve_out is not None
    assert (summary.carve_out.role, summary.carve_out.entity_code) == (role, code)
    assert payer_identifier(summary.carve_out) is None  # a tax id is not a payer id


@pytest.mark.parametrize(
    "entity",
    [
        "NM1*X3*2*SYNTHETIC REVIEW ORGANIZATION*****PI*SYNUM01",  # asks for the authorizations
        "NM1*1I*2*SYNTHETIC PPO NETWORK*****PI*SYNPPO1",  # the network that prices the claim
        "NM1*P5*2*SYNTHETIC EMPLOYER*****FI*990000001",  # the employer that sponsors the plan
        "NM1*PRP*2*SYNTHETIC FIRST PLAN*****PI*SYNPRI1",  # the primary payer: coordination of benefits
    ],
)
@pytest.mark.parametrize("benefit", ["EB*1*IND*MH", "EB*U**MH"])
def test_a_review_organization_a_network_or_the_plan_sponsor_named_is_no_carve_out(
    entity: str, benefit: str
) -> None:
    summary = read(*PLAN, *_named(entity, benefit))
    assert summary.carve_out is None
    assert [e.entity_code for e in summary.related_entities] == [entity.split("*")[1]]  # still kept


@pytest.mark.parametrize("benefit", ["EB*U**A8", "EB*MC**A8", "EB*R*IND*A8", "EB*3*IND*A8"])
def test_contact_managed_care_another_payer_or_active_coverage_may_name_the_carve_out(benefit: str) -> None:
    summary = read(*PLAN, "EB*B*IND*MH*PR**27*25.00*****Y", *_named(VENDOR, benefit))
    assert summary.carve_out is not None
    assert (summary.carve_out.benefit_code, summary.carve_out.service_types) == (
        benefit.split("*")[1],
        ["A8"],
    )
    # the chosen type (MH) keeps its own benefits
    assert summary.service_type_code == "MH"
    assert summary.in_network is not None and summary.in_network.copay == Decimal("25.00")


@pytest.mark.parametrize("benefit", ["EB*B*IND*MH*PR**27*25.00", "EB*6*IND*MH", "EB*I*IND*MH", "EB*L*IND*MH"])
def test_a_cost_share_an_inactive_or_non_covered_benefit_or_a_provider_list_is_no_carve_out(
    benefit: str,
) -> None:
    assert read(*PLAN, *_named(VENDOR, benefit)).carve_out is None


def test_contact_another_entity_without_naming_it_is_a_carve_out_to_an_unnamed_entity() -> None:
    """EB01 U for mental health with only a message: the message is kept, never read for a name."""
    summary = read(*PLAN, "EB*U**MH", "MSG*CALL SYNTHETIC MIND VENDOR AT 5550100777")
    assert summary.carve_out is not None
    assert (summary.carve_out.name, summary.carve_out.role, summary.carve_out.entity_code) == (
        None,
        None,
        None,
    )
    assert (summary.carve_out.benefit_code, summary.carve_out.service_types) == ("U", ["MH"])
    assert summary.messages == ["CALL SYNTHETIC MIND VENDOR AT 5550100777"]


def test_contact_another_plan_named_in_eb05_names_the_carve_out() -> None:
    summary = read(*PLAN, "EB*U**MH^A6**SYNTHETIC MIND PLAN")
    assert summary.carve_out is not None
    assert (summary.carve_out.name, summary.carve_out.service_types) == ("SYNTHETIC MIND PLAN", ["MH", "A6"])


def test_contact_the_payer_s_own_plan_is_no_carve_out() -> None:
    assert read(*PLAN, "EB*U**MH**SYNTHETIC PPO").carve_out is None


@pytest.mark.parametrize(
    "entity",
    [
        "NM1*PR*2*SYNTHETIC HEALTH PLAN*****PI*SYNP0001",  # the payer that answers
        "NM1*PR*2*Synthetic  Health Plan",
        "NM1*P3*1*DOCTOR*SAMPLE****XX*1000000004",  # a primary care provider
        "NM1*1P*2*SYNTHETIC COUNSELING GROUP*****XX*1000000004",
        "NM1*SEP*2*SYNTHETIC SECOND PLAN*****PI*SYNSEC1",  # a secondary payer: COB, not a carve-out
    ],
)
def test_the_answering_payer_a_provider_or_a_secondary_payer_is_no_carve_out(entity: str) -> None:
    assert read(*PLAN, *_named(entity, "EB*U**MH")).carve_out is None


@pytest.mark.parametrize("service_types", ["30", "88", "98", "AL^88"])
def test_the_plan_pharmacy_or_office_visits_carved_out_are_not_the_behavioural_health_benefit(
    service_types: str,
) -> None:
    summary = read(*PLAN, *_named(VENDOR, f"EB*1*IND*{service_types}"))
    assert summary.carve_out is None
    assert [e.entity_code for e in summary.related_entities] == ["VN"]  # still kept as a related entity


def test_a_carve_out_that_ended_before_the_visit_is_not_read() -> None:
    summary = read(
        *PLAN,
        "EB*1*IND*MH",
        "DTP*349*D8*20241231",
        "LS*2120",
        VENDOR,
        "LE*2120",
    )
    assert summary.carve_out is None


def test_the_carve_out_of_the_type_used_comes_first() -> None:
    summary = read(
        *PLAN,
        *_named("NM1*Y2*2*SYNTHETIC MANAGED CARE", "EB*U**AI"),
        *_named(VENDOR, "EB*U**MH"),
    )
    assert summary.service_type_code == "MH"
    assert summary.carve_out is not None and summary.carve_out.name == "SYNTHETIC MIND VENDOR"


def test_a_dependent_s_carve_out_is_read_from_2120d() -> None:
    summary = read(*PLAN, dependent=("EB*1*IND*30", *_named(VENDOR, "EB*1*IND*MH")))
    assert summary.carve_out is not None and summary.carve_out.role is CarveOutRole.VENDOR


def test_another_payer_for_mental_health_is_both_the_other_payer_and_the_carve_out() -> None:
    summary = read(*PLAN, *_named("NM1*PR*2*SYNTHETIC BEHAVIORAL PARTNERS*****PI*SYNBH01", "EB*R*IND*MH"))
    assert summary.other_payer is not None and summary.other_payer.name == "SYNTHETIC BEHAVIORAL PARTNERS"
    assert summary.carve_out is not None
    assert (summary.carve_out.role, summary.carve_out.identifier) == (CarveOutRole.PAYER, "SYNBH01")


def test_no_2120_loop_no_carve_out() -> None:
    summary = read(*PLAN, "EB*1*IND*MH", "EB*B*IND*MH*PR**27*25.00*****Y")
    assert summary.carve_out is None and summary.covered is True


def test_medicare_part_a_only_does_not_cover_the_visit() -> None:
    summary = read("EB*1**30^MH*MA", "EB*6**30*MB")
    assert (summary.status, summary.covered) == (EligibilityStatus.ACTIVE, False)


def test_a_benefit_description_naming_the_vendor_that_runs_mental_health_is_a_carve_out() -> None:
    # EB01 D: the payer describes the benefit and names, in 2120C, who administers it
    summary = read(*PLAN, "EB*1*IND*30", *_named(VENDOR, "EB*D*IND*MH"))
    assert summary.carve_out is not None
    assert (summary.carve_out.role, summary.carve_out.benefit_code) == (CarveOutRole.VENDOR, "D")


def test_a_contracted_service_provider_to_contact_for_mental_health_is_a_carve_out() -> None:
    entity = "NM1*13*2*SYNTHETIC BEHAVIORAL NETWORK*****PI*SYNBH01"
    summary = read(*PLAN, *_named(entity, "EB*U*IND*MH"))
    assert summary.carve_out is not None
    assert (summary.carve_out.role, summary.carve_out.entity_code) == (CarveOutRole.VENDOR, "13")
    assert payer_identifier(summary.carve_out) == "SYNBH01"
    # the same organization named beside an active benefit is where to get care, not who pays
    assert read(*PLAN, *_named(entity, "EB*1*IND*MH")).carve_out is None
