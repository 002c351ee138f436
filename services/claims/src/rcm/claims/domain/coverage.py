"""Coverage, eligibility results and prior authorizations: who pays, and may they."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import Field

from rcm.claims.domain.common import DomainModel, Period

__all__ = [
    "Authorization",
    "CarveOut",
    "Coverage",
    "CoveragePriority",
    "EligibilityResult",
    "EligibilityStatus",
    "patient_is_the_subscriber",
]


class CoveragePriority(StrEnum):
    """Order in which a coverage pays (SBR01)."""

    PRIMARY = "primary"
    SECONDARY = "secondary"
    TERTIARY = "tertiary"

    @property
    def rank(self) -> int:
        """1 for primary, 2 for secondary, 3 for tertiary."""
        return list(CoveragePriority).index(self) + 1


class Coverage(DomainModel):
    """One insurance coverage of a patient."""

    coverage_id: str
    patient_id: str
    payer_id: str
    priority: CoveragePriority = CoveragePriority.PRIMARY
    effective: Period
    medicare_secondary_type: str | None = Field(
        default=None, description="On a Medicare coverage that pays later: why another pays first (SBR05)."
    )


def patient_is_the_subscriber(relationship: str | None, *, member_id_is_patients: bool = False) -> bool:
    """Whether a transaction about the coverage reports the patient as its subscriber.

    The patient is the subscriber (relationship ``self``, or none given), or is considered to be
    one: a dependent the payer identifies by a member id of their own (``CoverageUpdated.
    member_id_is_patients``). The 837P then sends SBR02 18 with the patient's name, id, address
    and DMG in 2010BA and no 2000C/2010CA, which 005010X222A1 sends only for a patient who is not
    the subscriber and cannot be identified to the payer by the subscriber's id; the 276
    (005010X212) likewise names the patient in 2000D with no 2000E."""
    return (relationship or "self") == "self" or member_id_is_patients


class EligibilityStatus(StrEnum):
    """Outcome of an eligibility check."""

    ACTIVE = "active"
    INACTIVE = "inactive"
    NOT_FOUND = "not_found"
    ERROR = "error"


_GENERIC_SERVICE_TYPES = frozenset({"30", "98"})
"""Health benefit plan coverage and professional (physician) visit - office: not behavioural-health
types of their own, so a carve-out of the behavioural-health benefit is read for them."""


class CarveOut(DomainModel):
    """The entity a payer's 271 says administers the behavioural-health benefit instead of it."""

    name: str | None = None
    payer_id: str | None = Field(default=None, description="Our payer id of the entity, when it was matched.")
    identifier: str | None = Field(default=None, description="Its id as the 271 gives it (2120 NM109).")
    service_types: tuple[str, ...] = Field(
        default=(), description="The behavioural-health service types (EB03) carved out; none: not stated."
    )

    def covers(self, service_type_code: str | None) -> bool:
        """Whether the carve-out takes the benefit of ``service_type_code``, the type the check's
        benefits came from: one the 271 names as carved out, or the plan's or an office visit's
        (30, 98: the 271 said nothing more specific of the visit), or any when either is unstated.
        A behavioural-health type the 271 answered for itself and did not carve out (mental health
        beside a substance-use carve-out) stays with the payer."""
        if not self.service_types or service_type_code is None:
            return True
        return service_type_code in _GENERIC_SERVICE_TYPES or service_type_code in self.service_types

    @property
    def label(self) -> str:
        """How a person recognizes the entity (no patient data)."""
        shown = self.name or self.payer_id or self.identifier
        return shown if shown else "another entity (unnamed in the 271)"


class EligibilityResult(DomainModel):
    """The summary of one 270/271 check for a coverage."""

    coverage_id: str
    service_date: date
    status: EligibilityStatus
    plan_period: Period | None = None
    checked_at: datetime
    service_type_code: str | None = Field(default=None, description="Service type the benefits came from.")
    covered: bool | None = Field(
        default=None, description="False when the payer says the service type is not covered; None unstated."
    )
    carve_out: CarveOut | None = Field(
        default=None, description="Another entity administers the behavioural-health benefit."
    )
    visits_remaining: int | None = Field(
        default=None,
        ge=0,
        description="Visits the benefit had left when checked (the 271's count); None when it states none.",
    )
    telehealth_covered: bool | None = Field(
        default=None,
        description="False when the payer says the service type is not covered by telehealth (EB01 I "
        "with III*ZZ 02 or 10); None unstated.",
    )

    def speaks_for(self, day: date) -> bool:
        """True when this result answers for ``day`` (same date, or within the reported plan period)."""
        return self.service_date == day or (self.plan_period is not None and self.plan_period.contains(day))


class Authorization(DomainModel):
    """A prior authorization with what is left of it."""

    authorization_id: str
    patient_id: str
    payer_id: str
    auth_number: str = Field(min_length=1, max_length=50)
    valid: Period
    authorized: int = Field(ge=1)
    remaining: int = Field(ge=0)
    procedure_codes: tuple[str, ...] = Field(default=(), description="Codes covered; empty = any code.")
    provider_id: str | None = Field(default=None, description="Rendering provider it is limited to, if any.")

    def covers(self, *, code: str, day: date, provider_id: str) -> bool:
        """True when the authorization covers the code, date and provider (visits aside)."""
        return (
            (not self.procedure_codes or code in self.procedure_codes)
            and self.valid.contains(day)
            and (self.provider_id is None or self.provider_id == provider_id)
        )
