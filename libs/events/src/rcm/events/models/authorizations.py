"""Prior authorizations: received from the payer, burned down by sessions, alerted on."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Self

from pydantic import Field, model_validator

from rcm.events.models._base import Event
from rcm.events.models.common import Period
from rcm.events.types import Id, ProcedureCode, Timestamp

__all__ = [
    "AlertKind",
    "AuthorizationAlert",
    "AuthorizationConsumed",
    "AuthorizationReceived",
    "AuthorizationReleased",
    "AuthorizationUnit",
    "ReleaseReason",
]


class AuthorizationUnit(StrEnum):
    """What an authorization counts."""

    VISITS = "visits"
    UNITS = "units"


class AuthorizationReceived(Event):
    """A payer (or behavioural-health carve-out) approved services for a patient."""

    authorization_id: Id = Field(description="Opaque authorization id.")
    patient_id: Id = Field(description="Patient authorized.")
    coverage_id: Id = Field(description="Coverage the authorization belongs to.")
    payer_id: Id = Field(description="Payer or carve-out that issued it.")
    auth_number: str = Field(
        min_length=1, max_length=50, description="Authorization number for REF*G1 on the claim."
    )
    valid: Period = Field(description="First and last date of service covered.")
    unit: AuthorizationUnit = Field(description="Whether visits or units are counted.")
    authorized: int = Field(ge=1, description="Visits or units authorized.")
    procedure_codes: list[ProcedureCode] = Field(
        default_factory=list, description="Codes covered; empty = any code."
    )
    provider_id: Id | None = Field(
        default=None, description="Rendering provider the authorization is limited to, if any."
    )
    cancelled_on: date | None = Field(
        default=None,
        description="The payer cancelled it (278 HCR01 C): it covers no service on or after this date.",
    )
    received_at: Timestamp = Field(description="When the authorization was recorded.")


class AuthorizationConsumed(Event):
    """A session used visits or units of an authorization."""

    authorization_id: Id = Field(description="Authorization burned down.")
    patient_id: Id = Field(description="Patient of the session.")
    session_id: Id = Field(description="Session that consumed it.")
    procedure_code: ProcedureCode | None = Field(default=None, description="Code the units were used for.")
    consumed: int = Field(ge=1, description="Visits or units used by this session.")
    authorized: int = Field(ge=1, description="Visits or units authorized in total.")
    remaining: int = Field(ge=0, description="Visits or units left after this session.")
    valid_until: date | None = Field(default=None, description="Last date of service the auth covers.")
    consumed_at: Timestamp = Field(description="When the burn-down was recorded.")


class ReleaseReason(StrEnum):
    """Why units went back to an authorization."""

    APPOINTMENT_CANCELLED = "appointment_cancelled"
    SESSION_VOIDED = "session_voided"
    SESSION_CORRECTED = "session_corrected"
    CLAIM_DENIED = "claim_denied"
    BOOKING_EXPIRED = "booking_expired"
    """A booking whose day is long past with no claim was dropped (a no-show nobody cancelled)."""
    AUTHORIZATION_AMENDED = "authorization_amended"
    """The authorization was amended (cancelled, its window moved): it no longer covers the usage."""


class AuthorizationReleased(Event):
    """Units previously consumed or reserved were given back."""

    authorization_id: Id = Field(description="Authorization credited.")
    patient_id: Id = Field(description="Patient of the session or appointment.")
    session_id: Id | None = Field(default=None, description="Session whose units were released.")
    appointment_id: Id | None = Field(default=None, description="Appointment whose reservation was released.")
    released: int = Field(ge=1, description="Visits or units given back.")
    remaining: int = Field(ge=0, description="Visits or units left afterwards.")
    reason: ReleaseReason = Field(description="Why they were released.")
    released_at: Timestamp = Field(description="When they were released.")

    @model_validator(mode="after")
    def _names_what_was_released(self) -> Self:
        if self.session_id is None and self.appointment_id is None:
            raise ValueError("a release names its session or appointment")
        return self


class AlertKind(StrEnum):
    """What an authorization alert warns about."""

    MISSING = "missing"
    """A session needs an authorization and none matches."""
    LOW_REMAINING = "low_remaining"
    """Few visits/units left (e.g. 2 or fewer, or 80% used)."""
    EXPIRING = "expiring"
    """The authorization ends soon (e.g. within 3 weeks)."""
    EXHAUSTED = "exhausted"
    """No visits/units left."""
    EXPIRED = "expired"
    """The end date has passed."""


class AuthorizationAlert(Event):
    """Someone needs to request or extend an authorization."""

    alert_id: Id = Field(description="Opaque alert id.")
    kind: AlertKind = Field(description="What the alert is about.")
    patient_id: Id = Field(description="Patient concerned.")
    payer_id: Id | None = Field(default=None, description="Payer to request the authorization from.")
    authorization_id: Id | None = Field(
        default=None, description="Authorization concerned; none when missing."
    )
    session_id: Id | None = Field(default=None, description="Session that triggered the alert, if any.")
    procedure_code: ProcedureCode | None = Field(default=None, description="Code lacking authorization.")
    remaining: int | None = Field(default=None, ge=0, description="Visits or units left.")
    valid_until: date | None = Field(default=None, description="Last date the authorization covers.")
    raised_at: Timestamp = Field(description="When the alert was raised.")

    @model_validator(mode="after")
    def _auth_unless_missing(self) -> Self:
        if self.kind is not AlertKind.MISSING and self.authorization_id is None:
            raise ValueError("only a 'missing' alert may omit the authorization")
        return self
