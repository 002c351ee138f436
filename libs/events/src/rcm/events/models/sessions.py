"""Appointments and therapy sessions, as reported by the clinical system.

A completed session (with a signed note) is what a claim is coded from. The clinical
system reports facts (times, kind of service, who was there, how it was delivered);
choosing CPT codes, units, POS and modifiers is the claims service's job.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Self

from pydantic import Field, model_validator

from rcm.events.models._base import Event, EventModel
from rcm.events.models.common import Address, Modality, Program
from rcm.events.types import (
    DiagnosisCode,
    Id,
    Minutes,
    Npi,
    PlaceOfService,
    ProcedureCode,
    StateCode,
    Timestamp,
    TimeZoneName,
)

__all__ = [
    "AppointmentCancelled",
    "AppointmentScheduled",
    "CancellationReason",
    "CareManagementProgram",
    "DistinctService",
    "DistinctServiceReason",
    "Participant",
    "ParticipantRole",
    "PatientLocation",
    "ServiceKind",
    "ServiceLocation",
    "SessionCompleted",
    "SessionCorrected",
    "SessionVoided",
]


class ServiceKind(StrEnum):
    """What kind of service the session was; the claims service maps it to codes.

    A timed service gets a kind of its own and is coded from its minutes (``end`` - ``start``, or
    the psychotherapy minutes), so the clinical system reports facts, never the code: the time
    (and the payer: Medicare's SBIRT G-codes) chooses it. Only where codes of one kind are untimed
    or cannot be told apart by time does the session name its ``service_code`` (testing, health
    behavior, HCPCS and other psychiatric services).
    """

    INTAKE = "intake"
    """Psychiatric diagnostic evaluation (90791, or 90792 for prescribers)."""
    INDIVIDUAL = "individual"
    """Individual psychotherapy (90832/90834/90837 by minutes)."""
    FAMILY_WITH_PATIENT = "family_with_patient"
    """Family psychotherapy with the patient present (90847)."""
    FAMILY_WITHOUT_PATIENT = "family_without_patient"
    """Family psychotherapy without the patient (90846)."""
    GROUP = "group"
    """Group psychotherapy (90853)."""
    MULTIPLE_FAMILY_GROUP = "multiple_family_group"
    """Multiple-family group psychotherapy (90849)."""
    CRISIS = "crisis"
    """Psychotherapy for crisis (90839/+90840)."""
    EM_WITH_PSYCHOTHERAPY = "em_with_psychotherapy"
    """E/M visit with add-on psychotherapy (E/M code + 90833/90836/90838)."""
    TESTING = "testing"
    """Psychological or neuropsychological testing (9613x), by the service_code given."""
    HEALTH_BEHAVIOR = "health_behavior"
    """Health behavior assessment or intervention (96156-96171), by the service_code given."""
    HCPCS_SERVICE = "hcpcs_service"
    """A Medicaid/SUD HCPCS service billed by the code given (H0004, H2019...)."""
    CARE_MANAGEMENT = "care_management"
    """A calendar month's behavioral-health care management for one patient, billed once a month by
    the treating (billing) practitioner: psychiatric collaborative care (99492/99493/+99494, Medicare's
    G2214) or general behavioral health integration (99484), by ``care_management_program``. The
    event is the month's tally, not a visit: ``end`` - ``start`` is the month's total care-manager
    and clinical-staff minutes (not one continuous block), and the start's date is the date of
    service (the month's last day, or the day the month's time threshold was met)."""
    SBIRT = "sbirt"
    """Alcohol and/or substance (other than tobacco) structured screening and brief intervention,
    coded on ``end`` - ``start`` like psychotherapy: 99408 (15-30 min) or 99409 (over 30); for
    Medicare G2011 (5-14), G0396 (15-30) or G0397 (over 30). Timed, so no ``service_code``: the
    minutes and the payer choose the code."""
    TOBACCO_CESSATION = "tobacco_cessation"
    """Smoking and tobacco use cessation counseling, coded on ``end`` - ``start``: 99406 (over 3 up
    to 10 min) or 99407 (over 10). Timed, so no ``service_code``."""
    BIOFEEDBACK_PSYCHOTHERAPY = "biofeedback_psychotherapy"
    """Individual psychophysiological therapy incorporating biofeedback training with psychotherapy,
    coded on the psychotherapy minutes as psychotherapy is: 90875 (30 min) or 90876 (45 min). Timed,
    so no ``service_code``."""
    OTHER_PSYCHIATRIC = "other_psychiatric"
    """Another psychiatric service billed by the code given (``service_code``): hypnotherapy 90880,
    environmental intervention 90882, evaluation of records 90885, interpretation or explanation
    of results to the family 90887, report preparation 90889. These are untimed and the kind alone
    cannot tell them apart, so the session names its code (as testing and HCPCS sessions do)."""


_NAMES_ITS_CODE = frozenset(
    {
        ServiceKind.TESTING,
        ServiceKind.HEALTH_BEHAVIOR,
        ServiceKind.HCPCS_SERVICE,
        ServiceKind.OTHER_PSYCHIATRIC,
    }
)
"""Kinds of session whose code the session names (``service_code``)."""


class CareManagementProgram(StrEnum):
    """Which behavioral-health care-management program a ``care_management`` month tally is for."""

    COLLABORATIVE_CARE = "collaborative_care"
    """Psychiatric collaborative care (CoCM): 99492 in the episode's first month, 99493 after,
    +99494 per further 30 minutes; Medicare's G2214 for a month under their thresholds."""
    GENERAL_BHI = "general_bhi"
    """General behavioral health integration care management: 99484, 20 minutes or more a month."""


class ParticipantRole(StrEnum):
    """Who took part in a session besides the clinician."""

    PATIENT = "patient"
    FAMILY_MEMBER = "family_member"
    GUARDIAN = "guardian"
    INTERPRETER = "interpreter"
    OTHER = "other"


class Participant(EventModel):
    """One participant; identified only by role and an optional opaque id."""

    role: ParticipantRole = Field(description="Role in the session.")
    participant_id: Id | None = Field(default=None, description="Opaque id of the participant, if known.")


class PatientLocation(EventModel):
    """Where the patient was during the session (licensure and telehealth POS depend on it)."""

    state: StateCode = Field(description="State the patient was in.")
    at_home: bool = Field(description="True when the patient was at home (telehealth POS 10).")


class ServiceLocation(EventModel):
    """Where the service was rendered, when that is not the billing organization's address.

    In person it is the site where the clinician saw the patient (a clinic site, a school, a
    residential or inpatient facility); for telehealth it is the clinician's (distant) site, and
    none when that is the billing address. The claims service reports it as the 837P service
    facility location (loop 2310C) when it differs from the billing address and the service was
    not in the patient's home (POS 10, 12). The site is carried by value, not as a reference id:
    sites such as schools are not billing organizations and have no reference topic.
    """

    name: str = Field(min_length=1, max_length=60, description="Name of the site or facility (NM103).")
    npi: Npi | None = Field(
        default=None,
        description="The facility's own NPI, when it has one and is not part of the billing organization.",
    )
    location_number: str | None = Field(
        default=None,
        min_length=1,
        max_length=50,
        description="The payer-assigned location number (REF*LU), sent only when no NPI is.",
    )
    address: Address = Field(
        description="Street address of the site (no P.O. box); the 837P wants its 9-digit ZIP (ZIP+4)."
    )


class DistinctServiceReason(StrEnum):
    """Why a service is separate from another one the same day (59 / X{EPSU})."""

    SEPARATE_ENCOUNTER = "separate_encounter"
    """XE: a different encounter the same day."""
    SEPARATE_PRACTITIONER = "separate_practitioner"
    """XP: performed by a different practitioner."""
    SEPARATE_STRUCTURE = "separate_structure"
    """XS: a separate organ or structure."""
    UNUSUAL_NON_OVERLAPPING = "unusual_non_overlapping"
    """XU: does not overlap the usual components of the main service."""
    OTHER = "other"
    """59 without a more specific X modifier."""


class DistinctService(EventModel):
    """A documented distinct-service flag (lets an NCCI modifier-indicator-1 pair be billed)."""

    reason: DistinctServiceReason = Field(description="Kind of distinction documented.")
    note: str | None = Field(default=None, max_length=200, description="Short documentation reference.")


class AppointmentScheduled(Event):
    """An appointment was booked (authorization units may be reserved for it)."""

    appointment_id: Id = Field(description="Opaque appointment id.")
    patient_id: Id = Field(description="Patient the appointment is for.")
    organization_id: Id = Field(description="Billing organization.")
    provider_id: Id = Field(description="Clinician expected to render the service.")
    start: Timestamp = Field(description="Scheduled start.")
    end: Timestamp = Field(description="Scheduled end.")
    service_kind: ServiceKind = Field(description="Planned kind of service.")
    modality: Modality = Field(description="Planned delivery: in person, video or audio only.")
    expected_procedure_codes: list[ProcedureCode] = Field(
        default_factory=list, description="Codes expected to be billed, when the scheduler knows them."
    )
    authorization_id: Id | None = Field(
        default=None, description="Authorization the visit is booked against."
    )
    scheduled_at: Timestamp = Field(description="When the appointment was booked.")

    @model_validator(mode="after")
    def _ends_after_start(self) -> Self:
        if self.end <= self.start:
            raise ValueError("an appointment ends after it starts")
        return self


class CancellationReason(StrEnum):
    """Why an appointment did not happen."""

    PATIENT_CANCELLED = "patient_cancelled"
    PROVIDER_CANCELLED = "provider_cancelled"
    NO_SHOW = "no_show"
    RESCHEDULED = "rescheduled"
    OTHER = "other"


class AppointmentCancelled(Event):
    """An appointment was cancelled or missed (reserved authorization units are released)."""

    appointment_id: Id = Field(description="Appointment cancelled.")
    patient_id: Id = Field(description="Patient of the appointment.")
    reason: CancellationReason = Field(description="Why it did not happen.")
    late: bool = Field(default=False, description="True for a late cancellation under the practice policy.")
    cancelled_at: Timestamp = Field(description="When it was cancelled or marked a no-show.")


class _SessionFacts(Event):
    """What happened in a session: the facts a claim is coded from."""

    session_id: Id = Field(description="Opaque session (encounter) id.")
    appointment_id: Id | None = Field(default=None, description="Appointment the session fulfilled, if any.")
    patient_id: Id = Field(description="Patient seen.")
    organization_id: Id = Field(description="Billing organization.")
    rendering_provider_id: Id = Field(description="Clinician who rendered the service.")
    supervising_provider_id: Id | None = Field(
        default=None, description="Supervisor, when the rendering clinician practises under supervision."
    )
    start: Timestamp = Field(description="Start of the face-to-face time, with its UTC offset.")
    end: Timestamp = Field(description="End of the face-to-face time, with its UTC offset.")
    time_zone: TimeZoneName | None = Field(
        default=None, description="IANA zone of the service location, fixing the date of service."
    )
    psychotherapy_minutes: Minutes | None = Field(
        default=None,
        description="Psychotherapy minutes when they differ from the session length (e.g. E/M + therapy, "
        "or time on other work inside the session): individual, crisis, family and biofeedback "
        "psychotherapy are coded on them, an E/M's psychotherapy add-on only on them.",
    )
    service_kind: ServiceKind = Field(description="Kind of service.")
    em_code: ProcedureCode | None = Field(
        default=None, description="The E/M code, required when the kind is em_with_psychotherapy."
    )
    service_code: ProcedureCode | None = Field(
        default=None,
        description="The code of a testing, health-behavior, HCPCS or other psychiatric session (required "
        "for those kinds), where the kind alone is not enough.",
    )
    care_management_program: CareManagementProgram | None = Field(
        default=None,
        description="The program of a care_management month tally (required for that kind, given only "
        "with it): collaborative care (99492/99493/+99494, G2214) or general BHI (99484). The tally's "
        "end - start is the month's total minutes; its start's date is the date of service (the "
        "month's last day, or the day the time threshold was met).",
    )
    initial_month: bool | None = Field(
        default=None,
        description="Whether a care_management month is the first month of the care episode (initial: "
        "99492) or a later one (subsequent: 99493); required for collaborative care, given only with "
        "a care_management session.",
    )
    program: Program | None = Field(default=None, description="Program (mental health, substance use...).")
    participants: list[Participant] = Field(
        default_factory=list, description="Who took part besides the clinician."
    )
    group_size: int | None = Field(default=None, ge=2, description="Number of patients in a group session.")
    modality: Modality = Field(description="In person, video or audio only.")
    place_of_service: PlaceOfService = Field(
        description="Where the service was furnished (in person) or the clinician's office POS (telehealth)."
    )
    patient_location: PatientLocation = Field(description="Patient's state and whether at home.")
    service_location: ServiceLocation | None = Field(
        default=None,
        description="Where the service was rendered when not at the billing address (837P 2310C); "
        "none = the billing organization's address or the patient's home.",
    )
    admission_date: date | None = Field(
        default=None,
        description="Inpatient admission date, for a visit to a patient admitted to a hospital or "
        "inpatient psychiatric facility (837P DTP*435 on inpatient places of service 21, 51, 61).",
    )
    diagnoses: list[DiagnosisCode] = Field(
        min_length=1, max_length=12, description="ICD-10-CM diagnoses, primary first."
    )
    interactive_complexity: bool = Field(
        default=False, description="Interactive complexity present (+90785)."
    )
    distinct_service: DistinctService | None = Field(
        default=None, description="Documented distinct service, with its reason."
    )
    screening_instruments: int = Field(
        default=0,
        ge=0,
        le=10,
        description="Standardized brief emotional/behavioral instruments administered, scored and documented "
        "with the session (PHQ-9, GAD-7...): 96127 per instrument.",
    )
    authorization_id: Id | None = Field(default=None, description="Authorization the clinician recorded.")
    note_signed: bool = Field(description="Whether the progress note is signed (unsigned notes hold claims).")
    note_signed_at: Timestamp | None = Field(default=None, description="When the note was signed.")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.end <= self.start:
            raise ValueError("a session ends after it starts")
        length = (self.end - self.start).total_seconds() / 60
        if self.psychotherapy_minutes is not None and self.psychotherapy_minutes > length:
            raise ValueError("psychotherapy minutes exceed the session length")
        if (self.service_kind is ServiceKind.EM_WITH_PSYCHOTHERAPY) != (self.em_code is not None):
            raise ValueError("em_code is given exactly when the kind is em_with_psychotherapy")
        if self.service_kind in _NAMES_ITS_CODE and self.service_code is None:
            # which test, intervention or HCPCS service was given cannot be told from the minutes
            raise ValueError(f"a {self.service_kind.value} session names its service_code")
        care_management = self.service_kind is ServiceKind.CARE_MANAGEMENT
        if care_management != (self.care_management_program is not None):
            raise ValueError("care_management_program is given exactly when the kind is care_management")
        if self.initial_month is not None and not care_management:
            raise ValueError("initial_month is given only with a care_management session")
        if (
            self.care_management_program is CareManagementProgram.COLLABORATIVE_CARE
            and self.initial_month is None
        ):
            # 99492 (first month) and 99493 (later months) have different time thresholds
            raise ValueError(
                "a collaborative care month says whether it is the episode's first (initial_month)"
            )
        if self.note_signed != (self.note_signed_at is not None):
            raise ValueError("note_signed_at is given exactly when the note is signed")
        return self

    @property
    def minutes(self) -> int:
        """Session length in whole minutes."""
        return int((self.end - self.start).total_seconds() // 60)


class SessionCompleted(_SessionFacts):
    """A session took place."""


class SessionCorrected(_SessionFacts):
    """A session's facts were corrected; the body carries the full corrected session."""

    revision: int = Field(ge=1, description="Correction number, 1 for the first correction.")
    reason: str | None = Field(default=None, max_length=200, description="Why it was corrected (no PHI).")
    corrected_at: Timestamp = Field(description="When the correction was made.")


class SessionVoided(Event):
    """A session was recorded in error and must not be billed (or its claim voided)."""

    session_id: Id = Field(description="Session voided.")
    patient_id: Id = Field(description="Patient of the session.")
    reason: str | None = Field(default=None, max_length=200, description="Why it was voided (no PHI).")
    voided_at: Timestamp = Field(description="When it was voided.")
