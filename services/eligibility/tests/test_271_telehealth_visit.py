"""A telehealth visit takes the 271's telehealth benefits (III*ZZ 02 or 10) when the chosen type
states them, the office's otherwise; synthetic 271s, every identifier, name and date invented."""

from __future__ import annotations

from decimal import Decimal

import pytest

from rcm.eligibility.checker import read_271
from rcm.eligibility.domain import fingerprint_of, summarize, telehealth_places
from rcm.eligibility.domain.benefits import BenefitSummary

from .test_271_rules import DOS, PLAN, x271
from .test_rules import request

pytestmark = pytest.mark.unit

HOME, ELSEWHERE, EITHER = ("10",), ("02",), ("10", "02")
OFFICE_AND_TELEHEALTH = (
    *PLAN,
    "EB*1*IND*MH",
    "EB*B*IND*MH*PR**27*35.00*****Y",
    "III*ZZ*11",
    "EB*B*IND*MH*PR**27*0*****Y",
    "III*ZZ*10",
    "EB*B*IND*MH*PR**27*15.00*****Y",
    "III*ZZ*02",
)


def read(*segments: str, places: tuple[str, ...] = ()) -> BenefitSummary:
    return summarize(read_271(x271(*segments))[0], service_date=DOS, telehealth_places=places)


def test_a_telehealth_visit_at_home_pays_the_home_telehealth_copay() -> None:
    summary = read(*OFFICE_AND_TELEHEALTH, places=HOME)
    assert summary.in_network is not None and summary.in_network.copay == Decimal("0")
    assert summary.benefits_place == "10"


def test_a_telehealth_visit_elsewhere_pays_the_other_telehealth_copay() -> None:
    summary = read(*OFFICE_AND_TELEHEALTH, places=ELSEWHERE)
    assert summary.in_network is not None and summary.in_network.copay == Decimal("15.00")
    assert summary.benefits_place == "02"


def test_an_office_visit_pays_the_office_copay_and_reports_telehealth_apart() -> None:
    summary = read(*OFFICE_AND_TELEHEALTH)
    assert summary.in_network is not None and summary.in_network.copay == Decimal("35.00")
    assert summary.benefits_place is None
    assert summary.telehealth is not None and summary.telehealth.copay is not None


def test_a_telehealth_visit_without_telehealth_benefits_pays_the_office_s() -> None:
    summary = read(*PLAN, "EB*1*IND*MH", "EB*B*IND*MH*PR**27*35.00*****Y", places=EITHER)
    assert summary.in_network is not None and summary.in_network.copay == Decimal("35.00")
    assert summary.benefits_place is None


def test_a_visit_at_home_never_takes_the_benefit_of_telehealth_elsewhere() -> None:
    summary = read(
        *PLAN,
        "EB*1*IND*MH",
        "EB*B*IND*MH*PR**27*35.00*****Y",
        "EB*B*IND*MH*PR**27*15.00*****Y",
        "III*ZZ*02",
        places=HOME,
    )
    assert summary.in_network is not None and summary.in_network.copay == Decimal("35.00")
    assert summary.benefits_place is None


def test_a_visit_whose_place_is_not_known_takes_the_home_s_then_the_other_telehealth_place_s() -> None:
    both = read(*OFFICE_AND_TELEHEALTH, places=EITHER)
    assert both.in_network is not None and both.in_network.copay == Decimal("0")
    elsewhere_only = read(
        *PLAN, "EB*B*IND*MH*PR**27*35.00*****Y", "EB*B*IND*MH*PR**27*15.00*****Y", "III*ZZ*02", places=EITHER
    )
    assert elsewhere_only.in_network is not None and elsewhere_only.in_network.copay == Decimal("15.00")
    assert elsewhere_only.benefits_place == "02"


def test_what_telehealth_does_not_state_comes_from_the_office_benefits() -> None:
    summary = read(
        *PLAN,
        "EB*C*IND*MH*PR**23*500.00*****Y",
        "EB*B*IND*MH*PR**27*35.00*****Y",
        "EB*B*IND*MH*PR**27*0*****Y",
        "III*ZZ*10",
        places=HOME,
    )
    assert summary.in_network is not None
    assert (summary.in_network.copay, summary.in_network.deductible) == (Decimal("0"), Decimal("500.00"))


def test_telehealth_not_covered_is_the_telehealth_visit_s_coverage() -> None:
    segments = (*PLAN, "EB*1*IND*MH", "EB*I*IND*MH", "III*ZZ*10")
    assert read(*segments, places=HOME).covered is False
    assert read(*segments).covered is True  # the office visit is covered


def test_telehealth_authorization_and_visit_limit_are_the_telehealth_visit_s() -> None:
    segments = (
        *PLAN,
        "EB*1*IND*MH********Y",
        "EB*1*IND*MH********N",
        "III*ZZ*10",
        "EB*F*IND*MH*PR**23***VS*20",
        "EB*F*IND*MH*PR**23***VS*12",
        "III*ZZ*10",
    )
    office, telehealth = read(*segments), read(*segments, places=HOME)
    assert (office.auth_required, telehealth.auth_required) == (True, False)
    assert office.visit_limit is not None and office.visit_limit.allowed == 20
    assert telehealth.visit_limit is not None and telehealth.visit_limit.allowed == 12


def test_how_a_visit_is_delivered_gives_its_telehealth_places() -> None:
    assert telehealth_places("in_person") == ()
    assert telehealth_places(None) == ()
    assert telehealth_places("video") == ("10", "02")
    assert telehealth_places("audio_only", at_home=True) == ("10",)
    assert telehealth_places("video", at_home=False) == ("02",)


def test_a_telehealth_visit_is_a_request_of_its_own_and_an_office_visit_keeps_its_key() -> None:
    office = request()
    assert fingerprint_of(request(telehealth_places=())) == fingerprint_of(office)
    assert fingerprint_of(request(telehealth_places=EITHER)) != fingerprint_of(office)
