"""The completed session a claim is coded from (the input of coding).

It mirrors the ``session-completed`` event: the clinical system reports facts (how long,
what kind of service, how it was delivered, where the patient was); choosing codes,
units, place of service and modifiers is the job of :mod:`rcm.claims.domain.coding`.
Unlike the event, the session carries its date of service and minutes directly, so the
time-zone arithmetic stays in the adapter.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Self

from pydantic import BeforeValidator, Field, StringConstraints, model_validator

from rcm.claims.domain.common import DomainModel, Modality, Program
from rcm.claims.domain.providers import Address

__all__ = [
    "CareManagementProgram",
    "DiagnosisCode",
    "DistinctService",
    "DistinctServiceReason",
    "Modifier",
    "PatientLocation",
    "PlaceOfService",
    "ProcedureCode",
    "ServiceKind",
    "ServiceLocation",
    "Session",
]


def _upper(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


def _diagnosis(value: object) -> object:
    # The claim form is the X12 one: upper case without the dot ("F41.1" -> "F411"). Only
    # a dot after the category is dropped; any other dot stays for the edits to report.
    if not isinstance(value, str):
        return value
    code = value.strip().upper()
    return code[:3] + code[4:] if code[3:4] == "." else code


ProcedureCode = Annotated[
    str, BeforeValidator(_upper), StringConstraints(pattern=r"^([0-9]{4}[0-9FTU]|[A-Z][0-9]{4})$")
]
"""CPT (5 digits, or 4 digits + F/T/U) or HCPCS Level II (letter + 4 digits) code."""

Modifier = Annotated[str, BeforeValidator(_upper), StringConstraints(pattern=r"^[0-9A-Z]{2}$")]
"""A CPT/HCPCS modifier, 2 characters."""

PlaceOfService = Annotated[str, StringConstraints(pattern=r"^[0-9]{2}$")]
"""CMS place-of-service code, 2 digits."""

DiagnosisCode = Annotated[str, BeforeValidator(_diagnosis), StringConstraints(min_length=1, max_length=8)]
"""An ICD-10-CM code without its dot. Only the length is checked here: the claim edits
judge the format, so a malformed code holds the claim with a reason instead of failing."""


class ServiceKind(StrEnum):
    """What kind of service the session was; coding maps it to codes."""

    INTAKE = "intake"
    """Psychiatric diagnostic evaluation: 90791, or 90792 for prescribers."""
    INDIVIDUAL = "individual"
    """Individual psychotherapy: 90832/90834/90837 by minutes."""
    FAMILY_WITH_PATIENT = "family_with_patient"
    """Family psychotherapy with the patient present: 90847."""
    FAMILY_WITHOUT_PATIENT = "family_without_patient"
    """Family psychotherapy without the patient: 90846."""
    GROUP = "group"
    """Group psychotherapy: 90853, one unit per patient."""
    MULTIPLE_FAMILY_GROUP = "multiple_family_group"
    """Multiple-family group psychotherapy: 90849."""
    CRISIS = "crisis"
    """Psychotherapy for crisis: 90839 and +90840 (Medicare outside the office: G0017 and +G0018)."""
    EM_WITH_PSYCHOTHERAPY = "em_with_psychotherapy"
    """An E/M visit (``em_code``) with add-on psychotherapy +90833/+90836/+90838."""
    TESTING = "testing"
    """Psychological or neuropsychological testing; ``service_code`` names the base code."""
    HEALTH_BEHAVIOR = "health_behavior"
    """Health behavior assessment or intervention; ``service_code`` names the base code."""
    HCPCS_SERVICE = "hcpcs_service"
    """A Medicaid/SUD HCPCS service billed by ``service_code`` (H0004, H2019...)."""
    CARE_MANAGEMENT = "care_management"
    """A calendar month's care management, billed once a month by the treating practitioner on the
    month's total care-manager minutes (``minutes``): collaborative care 99492/99493/+99494 (Medicare
    G2214 under their thresholds) or general BHI 99484, by ``care_management_program``."""
    SBIRT = "sbirt"
    """Alcohol/substance structured screening and brief intervention, by ``minutes``: 99408 15-30,
    99409 over 30; Medicare G2011 5-14, G0396 15-30, G0397 over 30."""
    TOBACCO_CESSATION = "tobacco_cessation"
    """Smoking and tobacco use cessation counseling, by ``minutes``: 99406 over 3 up to 10, 99407 over 10."""
    BIOFEEDBACK_PSYCHOTHERAPY = "biofeedback_psychotherapy"
    """Psychophysiological therapy with biofeedback and psychotherapy, by the psychotherapy minutes:
    90875 (30 min) or 90876 (45 min)."""
    OTHER_PSYCHIATRIC = "other_psychiatric"
    """An untimed psychiatric service named by ``service_code``: 90880, 90882, 90885, 90887, 90889."""


class CareManagementProgram(StrEnum):
    """The program of a care-management month: what codes and time thresholds apply."""

    COLLABORATIVE_CARE = "collaborative_care"
    """Psychiatric collaborative care: 99492 (first month) or 99493, +99494; Medicare G2214."""
    GENERAL_BHI = "general_bhi"
    """General behavioral health integration: 99484."""


class PatientLocation(DomainModel):
    """Where the patient was: the state sets licensure, home selects telehealth POS 10."""

    state: Annotated[str, BeforeValidator(_upper), StringConstraints(pattern=r"^[A-Z]{2}$")]
    at_home: bool = False


class ServiceLocation(DomainModel):
    """Where the service was rendered when not at the billing address (a clinic site, a school, a
    facility; for telehealth the clinician's site). The NPI and location number are kept as given:
    the edits judge them."""

    name: str = Field(min_length=1, max_length=60)
    npi: str | None = None
    location_number: str | None = Field(default=None, description="REF*LU, sent only without an NPI.")
    address: Address


class DistinctServiceReason(StrEnum):
    """Why a service is separate from another the same day; selects 59 or an X modifier."""

    SEPARATE_ENCOUNTER = "separate_encounter"
    SEPARATE_PRACTITIONER = "separate_practitioner"
    SEPARATE_STRUCTURE = "separate_structure"
    UNUSUAL_NON_OVERLAPPING = "unusual_non_overlapping"
    OTHER = "other"


class DistinctService(DomainModel):
    """A documented distinct service: what lets an NCCI modifier-indicator-1 pair be billed."""

    reason: DistinctServiceReason
    note: str | None = Field(default=None, max_length=200)


class Session(DomainModel):
    """A completed, documented session (no names: ids only)."""

    session_id: str = Field(min_length=1, max_length=64)
    patient_id: str = Field(min_length=1, max_length=64)
    organization_id: str | None = None
    rendering_provider_id: str = Field(min_length=1, max_length=64)
    supervising_provider_id: str | None = None
    date_of_service: date
    minutes: int = Field(
        ge=0,
        le=24 * 60,
        description="Face-to-face minutes of the whole session; a care_management month's total minutes.",
    )
    psychotherapy_minutes: int | None = Field(
        default=None, ge=0, le=24 * 60, description="Psychotherapy minutes of an E/M + psychotherapy visit."
    )
    service_kind: ServiceKind
    em_code: ProcedureCode | None = None
    service_code: ProcedureCode | None = None
    care_management_program: CareManagementProgram | None = Field(
        default=None, description="The program of a care_management month (required for that kind)."
    )
    initial_month: bool | None = Field(
        default=None,
        description="A collaborative care month: the episode's first (99492) or a later one (99493).",
    )
    program: Program | None = None
    group_size: int | None = Field(default=None, ge=2)
    modality: Modality = Modality.IN_PERSON
    place_of_service: PlaceOfService = Field(
        default="11", description="POS in person, or the POS the visit would have had in person."
    )
    patient_location: PatientLocation
    service_location: ServiceLocation | None = None
    admission_date: date | None = Field(default=None, description="Inpatient admission (DTP*435).")
    diagnoses: tuple[DiagnosisCode, ...] = Field(min_length=1, max_length=12)
    interactive_complexity: bool = False
    distinct_service: DistinctService | None = None
    screening_instruments: int = Field(
        default=0, ge=0, le=10, description="Brief emotional/behavioral instruments scored (96127 each)."
    )
    authorization_id: str | None = None
    note_signed: bool = True

    @property
    def therapy_minutes(self) -> int:
        """The time a psychotherapy code is chosen on: the psychotherapy minutes when the session
        reports them apart from its length (time on other services, paperwork or a break inside
        the session is not psychotherapy: CPT times are the time spent in psychotherapy), else
        the whole session."""
        return self.minutes if self.psychotherapy_minutes is None else self.psychotherapy_minutes

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.psychotherapy_minutes is not None and self.psychotherapy_minutes > self.minutes:
            raise ValueError("psychotherapy minutes exceed the session length")
        if (self.service_kind is ServiceKind.EM_WITH_PSYCHOTHERAPY) != (self.em_code is not None):
            raise ValueError("em_code is given exactly when the kind is em_with_psychotherapy")
        needs_code = {
            ServiceKind.TESTING,
            ServiceKind.HEALTH_BEHAVIOR,
            ServiceKind.HCPCS_SERVICE,
            ServiceKind.OTHER_PSYCHIATRIC,
        }
        if self.service_kind in needs_code and self.service_code is None:
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
            raise ValueError(
                "a collaborative care month says whether it is the episode's first (initial_month)"
            )
        return self
