"""Where the service was rendered (2310C), the inpatient admission date (DTP*435) and the payer's
claim filing indicator (SBR09) on the 837P, and the edits that keep them sendable.

All data is synthetic; NPIs are made up with valid check digits.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from test_837p_guide_rules import (
    BILLING,
    PATIENT,
    PAYER,
    SELF,
    assert_valid,
    between,
    draft,
    line,
    npi,
    prior,
    prior_line,
    secondary,
    segments,
    text_of,
)

from rcm.claims.adapters import payer_rules_of, session_of
from rcm.claims.domain.common import Modality
from rcm.claims.domain.edits import EDITS, ScrubContext, Severity
from rcm.claims.domain.edits.place_of_service import inpatient_visit_dated_with_admission
from rcm.claims.domain.edits.providers import npi_check_digits, service_facility_address
from rcm.claims.domain.payer_rules import PayerRules
from rcm.claims.domain.providers import Address
from rcm.claims.domain.session import ServiceLocation
from rcm.claims.submission.x837 import ClaimForBatch
from rcm.events.testing import payer_updated, session_completed
from rcm.x12.errors import X12Error

pytestmark = pytest.mark.unit

SCHOOL_ADDRESS = Address(line1="40 Sample School Rd", city="Troy", state="NY", postal_code="121801234")
SCHOOL = ServiceLocation(name="Synthetic Middle School", address=SCHOOL_ADDRESS)
FACILITY_NPI = npi("166666666")
HOSPITAL = ServiceLocation(
    name="Synthetic Psychiatric Hospital",
    npi=FACILITY_NPI,
    address=Address(line1="9 Example Ave", city="Albany", state="NY", postal_code="122081234"),
)
MCO = {"name": "Synthetic Medicaid Plan", "payer_type": "medicaid_mco", "electronic_payer_id": "SYNMCO"}


def facility_loop(text: str) -> list[list[str]]:
    """NM1*77 and the segments of its loop (up to the next loop: 2310D, 2320 or 2400)."""
    start = next((s for s in segments(text) if s[0] == "NM1" and s[1] == "77"), None)
    if start is None:
        return []
    return [start, *between(text, "NM1*77*", "NM1*DQ*", "SBR*", "LX*")]


def claim_text(**fields: Any) -> str:
    return text_of(ClaimForBatch(draft(**fields), PATIENT, SELF, PAYER))


# ------------------------------------------------------------------ 2310C


def test_a_session_at_a_school_names_the_school_in_2310c() -> None:
    text = claim_text(service_location=SCHOOL, place_of_service="03", lines=(line(1, place_of_service="03"),))
    assert facility_loop(text) == [
        ["NM1", "77", "2", "SYNTHETIC MIDDLE SCHOOL"],
        ["N3", "40 SAMPLE SCHOOL RD"],
        ["N4", "TROY", "NY", "121801234"],
    ]
    # 2310C comes after the rendering provider (2310B) and before the first service line
    order = [s[0] + "*" + s[1] for s in segments(text) if s[0] in {"NM1", "LX"}]
    assert order.index("NM1*82") < order.index("NM1*77") < order.index("LX*1")
    assert_valid(text)


def test_a_facility_with_its_own_npi_is_identified_by_it() -> None:
    text = claim_text(service_location=HOSPITAL)
    assert facility_loop(text)[0] == [
        "NM1", "77", "2", "SYNTHETIC PSYCHIATRIC HOSPITAL", "", "", "", "", "XX", FACILITY_NPI
    ]  # fmt: skip
    assert_valid(text)


def test_a_site_sharing_the_billing_npi_sends_no_npi_but_its_location_number() -> None:
    site = SCHOOL.model_copy(update={"npi": BILLING.npi, "location_number": "LOC042"})
    loop = facility_loop(claim_text(service_location=site))
    assert loop[0] == ["NM1", "77", "2", "SYNTHETIC MIDDLE SCHOOL"]
    assert ["REF", "LU", "LOC042"] in loop


def test_the_location_number_is_not_sent_with_an_npi() -> None:
    loop = facility_loop(claim_text(service_location=HOSPITAL.model_copy(update={"location_number": "LOC9"})))
    assert loop[0][-1] == FACILITY_NPI
    assert not [s for s in loop if s[0] == "REF"]


def test_the_billing_address_written_another_way_is_not_a_service_facility() -> None:
    same = ServiceLocation(
        name="Main office",
        address=Address(line1="1 example way.", city="ALBANY", state="NY", postal_code="12207"),
    )
    text = claim_text(service_location=same)
    assert "NM1*77*" not in text
    assert_valid(text)


def test_no_service_location_sends_no_2310c() -> None:
    assert "NM1*77*" not in claim_text()


def test_telehealth_with_the_patient_at_home_names_no_facility() -> None:
    text = claim_text(
        service_location=SCHOOL,
        modality=Modality.VIDEO,
        patient_at_home=True,
        place_of_service="10",
        lines=(line(1, place_of_service="10"),),
    )
    assert "NM1*77*" not in text


def test_telehealth_from_a_clinic_site_names_the_site_when_the_patient_is_not_home() -> None:
    text = claim_text(
        service_location=SCHOOL,
        modality=Modality.VIDEO,
        place_of_service="02",
        lines=(line(1, place_of_service="02"),),
    )
    assert facility_loop(text)[0][:4] == ["NM1", "77", "2", "SYNTHETIC MIDDLE SCHOOL"]
    assert_valid(text)


# ------------------------------------------------------------------ DTP*435


def test_an_inpatient_visit_carries_its_admission_date() -> None:
    text = claim_text(
        place_of_service="51",
        lines=(line(1, place_of_service="51"),),
        admission_date=date(2025, 3, 1),
        service_location=HOSPITAL,
    )
    assert ["DTP", "435", "D8", "20250301"] in segments(text)
    assert_valid(text)


def test_an_office_visit_sends_no_admission_date_even_when_one_is_known() -> None:
    text = claim_text(admission_date=date(2025, 3, 1))
    assert "DTP*435*" not in text


# ------------------------------------------------------------------ SBR09


@pytest.mark.parametrize(("setting", "sent"), [(None, "HM"), ("MC", "MC"), ("HM", "HM")])
def test_a_medicaid_managed_care_plan_sends_the_filing_indicator_it_asks_for(
    setting: str | None, sent: str
) -> None:
    payer = {**MCO, "rules": {"claim_filing_indicator": setting}}
    text = text_of(ClaimForBatch(draft(), PATIENT, SELF, payer))
    assert ["SBR", "P", "18", "GRP1", "", "", "", "", "", sent] in segments(text)
    assert_valid(text)


def test_the_prior_payer_s_setting_gives_its_2320_filing_indicator() -> None:
    prior_payer = {**MCO, "rules": {"claim_filing_indicator": "MC"}}
    item = ClaimForBatch(secondary(), PATIENT, SELF, PAYER, prior(prior_line(1)), prior_payer)
    assert ["SBR", "P", "18", "", "", "", "", "", "", "MC"] in segments(text_of(item))


def test_a_filing_indicator_outside_the_guide_s_list_is_refused() -> None:
    payer = {**MCO, "rules": {"claim_filing_indicator": "XX"}}
    with pytest.raises(X12Error, match="claim filing indicator"):
        text_of(ClaimForBatch(draft(), PATIENT, SELF, payer))
    with pytest.raises(ValueError, match="SBR09"):
        PayerRules(claim_filing_indicator="XX")


def test_the_payer_s_setting_is_read_from_payer_updated() -> None:
    body = payer_updated(payer_type="medicaid_mco", rules={"claim_filing_indicator": "MC"}).model_dump(
        mode="json"
    )
    assert payer_rules_of(body).claim_filing_indicator == "MC"
    assert payer_rules_of(payer_updated().model_dump(mode="json")).claim_filing_indicator is None


# ------------------------------------------------------------------ from the session to the draft


def test_the_session_s_service_location_and_admission_reach_the_domain_session() -> None:
    event = session_completed(
        modality="in_person",
        place_of_service="51",
        patient_location={"state": "NY", "at_home": False},
        admission_date=date(2025, 1, 2),
        service_location={
            "name": "Synthetic Psychiatric Hospital",
            "npi": FACILITY_NPI,
            "address": {
                "line1": "9 Example Ave",
                "city": "Albany",
                "state": "NY",
                "postal_code": "122081234",
            },
        },
    )
    session = session_of(event)
    assert session.service_location == HOSPITAL
    assert session.admission_date == date(2025, 1, 2)


# ------------------------------------------------------------------ edits


def context() -> ScrubContext:
    return ScrubContext(today=date(2025, 3, 10), rules=PayerRules(), providers=(), coverages=())


def holds(edit: Any, **fields: Any) -> set[str]:
    return {f.code for f in edit(draft(**fields), context()) if f.severity is Severity.HOLD}


def test_a_service_facility_at_a_po_box_or_without_zip_plus_4_is_held() -> None:
    box = SCHOOL.model_copy(
        update={"address": SCHOOL_ADDRESS.model_copy(update={"line1": "P.O. Box 12", "postal_code": "12180"})}
    )
    assert holds(service_facility_address, service_location=box) == {
        "service_location.po_box",
        "service_location.zip_plus_4",
    }
    assert holds(service_facility_address, service_location=SCHOOL) == set()


def test_a_location_not_sent_is_not_judged() -> None:
    box = SCHOOL.model_copy(update={"address": SCHOOL_ADDRESS.model_copy(update={"postal_code": "12180"})})
    at_home = {"place_of_service": "10", "lines": (line(1, place_of_service="10"),), "service_location": box}
    assert holds(service_facility_address, **at_home) == set()


def test_a_service_facility_npi_with_a_bad_check_digit_is_held() -> None:
    bad = HOSPITAL.model_copy(update={"npi": "1666666660" if FACILITY_NPI[-1] != "0" else "1666666661"})
    assert holds(npi_check_digits, service_location=bad) == {"npi.check_digit"}
    assert holds(npi_check_digits, service_location=HOSPITAL) == set()


def test_an_inpatient_visit_without_its_admission_date_is_held() -> None:
    inpatient = {"place_of_service": "51", "lines": (line(1, place_of_service="51"),)}
    assert holds(inpatient_visit_dated_with_admission, **inpatient) == {"admission.missing"}
    late = date(2025, 3, 5)  # the day after the date of service
    assert holds(inpatient_visit_dated_with_admission, **inpatient, admission_date=late) == {
        "admission.after_service"
    }
    assert holds(inpatient_visit_dated_with_admission, **inpatient, admission_date=date(2025, 3, 1)) == set()
    assert holds(inpatient_visit_dated_with_admission) == set()  # an office visit needs none


def test_the_new_edits_are_on_the_checklist() -> None:
    names = {edit.name for edit in EDITS}
    assert {"service_facility_address", "inpatient_visit_dated_with_admission"} <= names
