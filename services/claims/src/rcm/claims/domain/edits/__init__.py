"""Claim edits (scrubbing): the checklist a claim passes before it is sent.

Each edit is a small named function ``(claim, context) -> findings``; :data:`EDITS` lists
them in the order a biller would check. A claim with any ``hold`` finding is held with
every reason; ``warn`` findings travel with it.
"""

from __future__ import annotations

from collections.abc import Sequence

from rcm.claims.domain.claim import ClaimDraft
from rcm.claims.domain.edits.authorization import prior_authorization
from rcm.claims.domain.edits.bundling import (
    add_ons_have_primary,
    em_marked_beside_behavior_change,
    same_day_pairs,
)
from rcm.claims.domain.edits.care_management import care_management_programs_apart
from rcm.claims.domain.edits.cob import prior_adjudication_balances
from rcm.claims.domain.edits.code_validity import code_in_force_on_date
from rcm.claims.domain.edits.coverage import coverage_active, payer_order
from rcm.claims.domain.edits.credentials import rendering_may_bill_codes
from rcm.claims.domain.edits.diagnoses import diagnoses_pointed_to, diagnosis_codes_well_formed
from rcm.claims.domain.edits.documentation import at_most_four_modifiers, lines_priced, note_signed
from rcm.claims.domain.edits.filing import date_of_service_not_in_future, not_a_duplicate, timely_filing
from rcm.claims.domain.edits.findings import Edit, Finding, ScrubContext, ScrubResult, Severity
from rcm.claims.domain.edits.medicare_status import medicare_pays_the_code
from rcm.claims.domain.edits.patient_status import new_patient_visit_for_a_new_patient
from rcm.claims.domain.edits.place_of_service import (
    inpatient_visit_dated_with_admission,
    place_of_service_is_a_cms_code,
    place_of_service_matches_modality,
    telehealth_modifiers_match_modality,
)
from rcm.claims.domain.edits.primary_diagnosis import primary_diagnosis_fits_service
from rcm.claims.domain.edits.providers import (
    billing_address,
    billing_tin,
    npi_check_digits,
    rendering_enrolled_with_payer,
    rendering_licensed_in_state,
    service_facility_address,
    supervising_provider_present,
    taxonomy_codes,
)
from rcm.claims.domain.edits.units import units_fit_the_code, units_fit_the_day

__all__ = ["EDITS", "Edit", "Finding", "ScrubContext", "ScrubResult", "Severity", "scrub"]

EDITS: tuple[Edit, ...] = (
    Edit("note_signed", "the progress note is signed", note_signed),
    Edit("npi_check_digits", "billing, rendering and supervising NPIs pass the Luhn check", npi_check_digits),
    Edit("taxonomy_codes", "billing and rendering taxonomy codes are well formed", taxonomy_codes),
    Edit("billing_tin", "the billing TIN is 9 digits", billing_tin),
    Edit(
        "billing_address",
        "the billing provider's address is a street address with a 9-digit ZIP",
        billing_address,
    ),
    Edit(
        "service_facility_address",
        "a service facility location (2310C) is a street address with a 9-digit ZIP",
        service_facility_address,
    ),
    Edit(
        "rendering_enrolled_with_payer",
        "the rendering provider is enrolled with the payer in the patient's state on the DOS",
        rendering_enrolled_with_payer,
    ),
    Edit(
        "rendering_licensed_in_state",
        "the rendering provider is licensed in the patient's state",
        rendering_licensed_in_state,
    ),
    Edit(
        "rendering_may_bill_codes",
        "E/M, psychotherapy add-ons and 90792 by a prescriber; health behavior codes by a non-prescriber",
        rendering_may_bill_codes,
    ),
    Edit(
        "code_in_force_on_date",
        "no line bills a CPT code deleted before its date of service (99354-99357 since 2023...)",
        code_in_force_on_date,
    ),
    Edit(
        "medicare_pays_the_code",
        "no line to Medicare bills a code its fee schedule does not pay (status B, I or N)",
        medicare_pays_the_code,
    ),
    Edit(
        "supervising_provider_present",
        "a supervising provider is named where the payer requires one",
        supervising_provider_present,
    ),
    Edit("coverage_active", "the coverage is active on the DOS per the latest eligibility", coverage_active),
    Edit("payer_order", "the payer billed is next in the coordination-of-benefits order", payer_order),
    Edit(
        "diagnosis_codes_well_formed",
        "diagnoses are well-formed ICD-10-CM codes",
        diagnosis_codes_well_formed,
    ),
    Edit("diagnoses_pointed_to", "every line points to 1-4 diagnoses", diagnoses_pointed_to),
    Edit(
        "primary_diagnosis_fits_service",
        "the first diagnosis may be listed first and fits each line's service",
        primary_diagnosis_fits_service,
    ),
    Edit(
        "place_of_service_is_a_cms_code",
        "each line's POS is an assigned CMS place-of-service code",
        place_of_service_is_a_cms_code,
    ),
    Edit(
        "place_of_service_matches_modality",
        "the POS agrees with in-person or telehealth and the patient's location",
        place_of_service_matches_modality,
    ),
    Edit(
        "inpatient_visit_dated_with_admission",
        "an inpatient visit (POS 21/51/61) carries its admission date, on or before the DOS",
        inpatient_visit_dated_with_admission,
    ),
    Edit(
        "telehealth_modifiers_match_modality",
        "93/FQ only audio-only, 95/GT only video, the payer's telehealth modifiers present",
        telehealth_modifiers_match_modality,
    ),
    Edit(
        "prior_authorization",
        "authorized codes have a usable authorization on the claim (REF*G1)",
        prior_authorization,
    ),
    Edit(
        "date_of_service_not_in_future",
        "no line is dated after today (the service was furnished)",
        date_of_service_not_in_future,
    ),
    Edit("timely_filing", "the claim is within the payer's filing window", timely_filing),
    Edit(
        "not_a_duplicate",
        "no other claim bills the same patient, provider, date and code (a care-management program: the "
        "same patient and calendar month); no line repeats another",
        not_a_duplicate,
    ),
    Edit(
        "care_management_programs_apart",
        "general BHI (99484) not in a calendar month with collaborative care (99492/99493/G2214) by the "
        "same practitioner",
        care_management_programs_apart,
    ),
    Edit(
        "new_patient_visit_for_a_new_patient",
        "a new-patient E/M (99202-99205, 99341-99345) not for a patient the clinician served in the last "
        "three years",
        new_patient_visit_for_a_new_patient,
    ),
    Edit("same_day_pairs", "no same-day code pair that bundles without 59/X{EPSU}", same_day_pairs),
    Edit(
        "em_marked_beside_behavior_change",
        "an E/M the day of SBIRT or tobacco cessation by the same clinician carries 25",
        em_marked_beside_behavior_change,
    ),
    Edit("add_ons_have_primary", "add-on codes come with a primary they may follow", add_ons_have_primary),
    Edit("units_fit_the_code", "session codes carry one unit; per-day unit caps hold", units_fit_the_code),
    Edit(
        "units_fit_the_day",
        "a code's units of the patient's whole day (every claim, every clinician) within the payer's cap",
        units_fit_the_day,
    ),
    Edit("lines_priced", "every line has a charge", lines_priced),
    Edit(
        "prior_adjudication_balances",
        "a later payer's claim: the prior payer's paid amounts and adjustments add up to the charges",
        prior_adjudication_balances,
    ),
    Edit("at_most_four_modifiers", "each line has at most four modifiers", at_most_four_modifiers),
)


def scrub(claim: ClaimDraft, context: ScrubContext, edits: Sequence[Edit] = EDITS) -> ScrubResult:
    """Run every edit; the result holds the claim if any finding is a hold."""
    findings = tuple(finding for edit in edits for finding in edit.run(claim, context))
    return ScrubResult(claim_key=claim.claim_key, findings=findings)
