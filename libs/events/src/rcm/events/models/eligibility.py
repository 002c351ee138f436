"""Eligibility: the behavioural-health benefit summary of a 270/271 and what follows from it."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

from rcm.events.models._base import Event, EventModel
from rcm.events.models.common import CoveragePriority, Modality, Period
from rcm.events.types import Id, NonNegativeMoney, Percent, PlaceOfService, Timestamp

__all__ = [
    "AaaError",
    "AaaFollowUp",
    "CarveOut",
    "CarveOutRole",
    "CheckTrigger",
    "CoverageChange",
    "CoverageChanged",
    "EligibilityChecked",
    "EligibilityRecheckRequested",
    "EligibilityStatus",
    "NetworkBenefits",
    "OtherPayer",
    "RecheckReason",
    "Verification",
    "VisitLimit",
]


class EligibilityStatus(StrEnum):
    """Outcome of an eligibility check."""

    ACTIVE = "active"
    INACTIVE = "inactive"
    NOT_FOUND = "not_found"
    """The payer could not identify the member (AAA 75 and similar)."""
    ERROR = "error"
    """The check could not be completed (payer down, AAA 42...)."""


class Verification(StrEnum):
    """How far a check got: the payer's answer, or what stands between the check and one.

    Only ``answered`` says anything about the coverage: the others never mean inactive."""

    ANSWERED = "answered"
    """The payer answered for the coverage (status active or inactive)."""
    RETRYING = "retrying"
    """The payer could not answer now (AAA 42 or 80, a timeout, a server error) or asked to wait (AAA04
    W, X): the service checks again by itself (an eligibility-checked with trigger retry follows)."""
    UNABLE_TO_VERIFY = "unable_to_verify"
    """The payer gave no answer and the service will not ask again by itself: its retries are used up,
    the payer said not to resubmit, or its reply could not be read. Verify on the payer's portal
    or by phone, or ask for a re-check."""
    INVALID_REQUEST_DATA = "invalid_request_data"
    """The payer rejected data of the request (AAA 72 member id, 73 name, 58 birth date, 75 subscriber
    not found, 43 provider...): ``rejected_fields`` names it; correct it, then check again."""


class NetworkBenefits(EventModel):
    """Cost sharing for outpatient behavioural health in one network tier."""

    copay: NonNegativeMoney | None = Field(default=None, description="Copay per visit.")
    coinsurance_percent: Percent | None = Field(default=None, description="Patient's coinsurance share.")
    deductible: NonNegativeMoney | None = Field(default=None, description="Deductible for the plan year.")
    deductible_remaining: NonNegativeMoney | None = Field(
        default=None, description="Deductible still to meet."
    )
    out_of_pocket_max: NonNegativeMoney | None = Field(default=None, description="Out-of-pocket maximum.")
    out_of_pocket_remaining: NonNegativeMoney | None = Field(
        default=None, description="Out-of-pocket amount still to reach the maximum."
    )


class VisitLimit(EventModel):
    """A visit limit on the benefit."""

    allowed: int = Field(ge=0, description="Visits allowed in the period.")
    used: int | None = Field(default=None, ge=0, description="Visits already used, when reported.")
    remaining: int | None = Field(default=None, ge=0, description="Visits remaining, when reported.")
    period: Period | None = Field(default=None, description="Period the limit applies to.")


class OtherPayer(EventModel):
    """Another payer the 271 says should be billed (COB)."""

    name: str = Field(min_length=1, max_length=60, description="Other payer's name as reported.")
    payer_id: Id | None = Field(default=None, description="Our payer id, when it could be matched.")
    priority: CoveragePriority | None = Field(default=None, description="Its order of payment, if reported.")


class CarveOutRole(StrEnum):
    """What the entity administering a carved-out benefit is to the plan (its 2120 NM101)."""

    PAYER = "payer"
    """PR: another payer."""
    PRIMARY_PAYER = "primary_payer"
    """PRP (not read as a carve-out: a primary payer is coordination of benefits, ``other_payer``)."""
    VENDOR = "vendor"
    """VN: a vendor the plan contracts the benefit to (a managed behavioural-health organization)."""
    PLAN_SPONSOR = "plan_sponsor"
    """P5: the plan's sponsor (not read as a carve-out: the employer, whose plan still pays)."""
    MANAGED_CARE_ORGANIZATION = "managed_care_organization"
    """Y2."""
    UTILIZATION_MANAGEMENT_ORGANIZATION = "utilization_management_organization"
    """X3 (not read as a carve-out: it takes the authorizations, the payer still pays)."""
    PREFERRED_PROVIDER_ORGANIZATION = "preferred_provider_organization"
    """1I (not read as a carve-out: the network that prices the claim)."""
    THIRD_PARTY_ADMINISTRATOR = "third_party_administrator"
    """2B."""


class CarveOut(EventModel):
    """The behavioural-health benefit is administered by another entity than the payer asked.

    Read from a 2120C/D entity of a behavioural-health benefit (EB03 MH, A6, AI...) that is
    active (EB01 1-5), another payer's (R), a managed care coordinator's (MC) or says to contact
    that entity (U); an EB01 U with no entity is a carve-out to an entity the 271 does not name.
    The entity's name and identifier are an organization's, never the patient's."""

    name: str | None = Field(
        default=None, max_length=60, description="The entity's name (2120 NM103), when the 271 names one."
    )
    role: CarveOutRole | None = Field(
        default=None, description="What the entity is to the plan, when the 271 names one."
    )
    entity_code: str | None = Field(
        default=None, pattern=r"^[0-9A-Z]{2,3}$", description="2120 NM101 (VN, Y2, PR, 2B)."
    )
    id_qualifier: str | None = Field(
        default=None, pattern=r"^[0-9A-Z]{2}$", description="2120 NM108 (PI payer id, XV CMS plan id, FI...)."
    )
    identifier: str | None = Field(default=None, max_length=80, description="2120 NM109 as reported.")
    payer_id: Id | None = Field(
        default=None, description="Our payer id, when the identifier matched a payer's electronic id."
    )
    benefit_code: str = Field(
        pattern=r"^[0-9A-Z]{1,2}$", description="EB01 of the benefit that names it (1-5, R, U or MC)."
    )
    service_types: list[Annotated[str, Field(pattern=r"^[0-9A-Z]{1,2}$")]] = Field(
        default_factory=list, description="The behavioural-health service types (EB03) carved out."
    )


class AaaError(EventModel):
    """An AAA segment of the 271: why the request failed, and what to do."""

    code: str = Field(pattern=r"^[0-9A-Z]{2}$", description="Reject reason code (AAA03), e.g. 72 or 75.")
    follow_up: str | None = Field(
        default=None, pattern=r"^[A-Z]$", description="Follow-up action code (AAA04), e.g. R = resubmit."
    )
    description: str | None = Field(default=None, max_length=200, description="Readable reason.")


class AaaFollowUp(EventModel):
    """What to do about a 271's AAA rejections, decided from their reasons and follow-up codes."""

    action: Literal["retry", "wait", "correct", "stop"] = Field(
        description="retry: the service checks again by itself; wait: it checks again after wait_days; "
        "correct: fix the data in corrections, then check again; stop: do not resubmit (the payer said "
        "so, or the service's retries of a 'try again' are used up: verify by portal or phone)."
    )
    wait_days: int | None = Field(
        default=None, ge=0, description="Days the payer asks to wait (action wait)."
    )
    corrections: list[Annotated[str, Field(pattern=r"^[a-z_]{1,40}$")]] = Field(
        default_factory=list,
        description="The request data to correct (action correct): member_id, group_number, name, "
        "birth_date, gender, provider, service_date...",
    )
    message: str = Field(max_length=300, description="A readable explanation, free of patient data.")


class CheckTrigger(StrEnum):
    """What asked for an eligibility check."""

    APPOINTMENT = "appointment"
    """A visit was scheduled."""
    SCHEDULED = "scheduled"
    """The service's own schedule: the night before a visit, the first visit of a month."""
    COVERAGE_UPDATED = "coverage_updated"
    """The patient's coverage changed before a visit."""
    RECHECK = "recheck"
    """An eligibility-recheck-requested (a denial, a claim edit): ``request_id`` names it."""
    RETRY = "retry"
    """A payer's AAA or an outage asked to try again later."""


class EligibilityChecked(Event):
    """The result of one eligibility check for a patient's coverage."""

    check_id: Id = Field(description="Opaque id of the check.")
    patient_id: Id = Field(description="Patient checked.")
    coverage_id: Id = Field(description="Coverage checked.")
    payer_id: Id = Field(description="Payer asked.")
    service_date: date = Field(description="Date of service the check is for.")
    status: EligibilityStatus = Field(description="Active, inactive, not found or error.")
    plan_name: str | None = Field(default=None, max_length=80, description="Plan name reported.")
    group_number: str | None = Field(default=None, max_length=50, description="Group number reported.")
    plan_period: Period | None = Field(default=None, description="Plan coverage dates reported.")
    service_type_code: str | None = Field(
        default=None,
        pattern=r"^[0-9A-Z]{1,2}$",
        description="Service type code the benefits matched (MH, A6, 30...).",
    )
    in_network: NetworkBenefits | None = Field(default=None, description="In-network cost sharing.")
    out_of_network: NetworkBenefits | None = Field(default=None, description="Out-of-network cost sharing.")
    visit_limit: VisitLimit | None = Field(default=None, description="Visit limit, if any.")
    visits_remaining: int | None = Field(
        default=None,
        ge=0,
        description="Visits left on the benefit when the 271 states a remaining count, also when it "
        "does not state the number allowed (visit_limit needs that); 0: the limit is reached.",
    )
    telehealth: NetworkBenefits | None = Field(
        default=None,
        description="In-network cost sharing of benefits restricted to telehealth (III*ZZ 02 or 10).",
    )
    telehealth_covered: bool | None = Field(
        default=None,
        description="Whether the service type is covered by telehealth: false when the payer says a "
        "telehealth benefit is not covered (EB01 I with III*ZZ 02 or 10); None when not stated.",
    )
    telehealth_visit: bool | None = Field(
        default=None,
        description="Whether the check was read for a telehealth visit (the appointment's or re-check's "
        "modality video or audio only); None when not stated.",
    )
    benefits_place_of_service: PlaceOfService | None = Field(
        default=None,
        description="For a telehealth visit, the telehealth place of service (02 other than the patient's "
        "home, 10 the home) whose benefits (III*ZZ) gave the visit's figures, coverage, visit limit and "
        "authorization; None when they are the office's or the plan's (an office visit, or a telehealth "
        "visit the 271 states no benefit of its place for).",
    )
    auth_required: bool | None = Field(default=None, description="Whether the payer says auth is required.")
    other_payer: OtherPayer | None = Field(default=None, description="Another payer to bill, if reported.")
    covered: bool | None = Field(
        default=None,
        description="Whether the service type is covered for an in-network visit: false when the payer "
        "says it is not (EB01 I, or Medicare without Part B on the date); None when not stated.",
    )
    carve_out: CarveOut | None = Field(
        default=None,
        description="The behavioural-health benefit is administered by another entity (a carve-out); "
        "None when the 271 names none.",
    )
    aaa_errors: list[AaaError] = Field(default_factory=list, description="AAA rejections, if any.")
    aaa_follow_up: AaaFollowUp | None = Field(
        default=None, description="What to do about the AAA rejections, when there are any."
    )
    verification: Verification | None = Field(
        default=None,
        description="How far the check got: answered, retrying, unable_to_verify or invalid_request_data; "
        "None from a producer that does not say.",
    )
    rejected_fields: list[Annotated[str, Field(pattern=r"^[a-z_]{1,40}$")]] = Field(
        default_factory=list,
        description="The request data the payer's AAA reasons name (verification invalid_request_data): "
        "member_id, name, birth_date, gender, group_number, provider, payer, service_date, request.",
    )
    attempt: int | None = Field(
        default=None,
        ge=1,
        description="Which automatic attempt of the check this is (1: the first; the service's retries "
        "after an outage or an AAA 'try again' count up).",
    )
    payer_trace_number: str | None = Field(
        default=None, max_length=50, description="Payer's TRN trace number."
    )
    checked_at: Timestamp = Field(description="When the response was received.")
    trigger: CheckTrigger | None = Field(
        default=None, description="What asked for the check (also the CloudEvents attribute ce_trigger)."
    )
    request_id: Id | None = Field(
        default=None,
        description="The eligibility-recheck-requested this check answers, when one asked for it "
        "(also after the check was retried).",
    )


class CoverageChange(StrEnum):
    """What changed about a coverage."""

    ACTIVATED = "activated"
    TERMINATED = "terminated"
    PLAN_CHANGED = "plan_changed"
    OTHER_PAYER_FOUND = "other_payer_found"
    RESEQUENCED = "resequenced"
    NOT_FOUND = "not_found"


class CoverageChanged(Event):
    """Eligibility found a coverage differs from what the practice has on file."""

    patient_id: Id = Field(description="Patient concerned.")
    coverage_id: Id = Field(description="Coverage concerned.")
    payer_id: Id = Field(description="Payer of the coverage.")
    change: CoverageChange = Field(description="What changed.")
    effective_date: date | None = Field(default=None, description="When the change took effect, if known.")
    check_id: Id | None = Field(default=None, description="Eligibility check that detected it.")
    detected_at: Timestamp = Field(description="When it was detected.")


class RecheckReason(StrEnum):
    """Why eligibility must be checked again."""

    COVERAGE_DENIAL = "coverage_denial"
    """A denial such as CO-27/CO-31 points at stale eligibility."""
    COB_DENIAL = "cob_denial"
    """A denial such as CO-22 points at another payer."""
    UPCOMING_APPOINTMENT = "upcoming_appointment"
    STALE = "stale"
    MANUAL = "manual"
    COVERAGE_ADDED = "coverage_added"
    """A coverage recorded after the service (a second plan the patient mentioned late): checked on
    the date of service before the claim to it goes out."""


class EligibilityRecheckRequested(Event):
    """Another service asks the eligibility service to check a coverage again."""

    request_id: Id = Field(description="Opaque request id.")
    patient_id: Id = Field(description="Patient concerned.")
    coverage_id: Id = Field(description="Coverage to check.")
    service_date: date = Field(description="Date of service to check for.")
    reason: RecheckReason = Field(description="Why a recheck is needed.")
    claim_id: Id | None = Field(default=None, description="Claim that prompted it, if any.")
    denial_id: Id | None = Field(default=None, description="Denial that prompted it, if any.")
    modality: Modality | None = Field(
        default=None,
        description="How the visit was delivered, when known: video or audio only reads the 271's "
        "telehealth benefits (III*ZZ 02/10) for it; None or in person, the office's.",
    )
    patient_at_home: bool | None = Field(
        default=None,
        description="For a telehealth visit, whether the patient was at home (POS 10) or elsewhere (02); "
        "None when not known (the home's benefits are read first).",
    )
    requested_at: Timestamp = Field(description="When it was requested.")
