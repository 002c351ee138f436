"""Values shared by several events: names, addresses, date ranges, enumerations."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Self

from pydantic import Field, model_validator

from rcm.events.models._base import EventModel
from rcm.events.types import CarcCode, Money, PostalCode, StateCode

__all__ = [
    "Address",
    "Adjustment",
    "AdjustmentGroup",
    "CoveragePriority",
    "Credential",
    "Modality",
    "Period",
    "PersonName",
    "Program",
    "Sex",
]


class PersonName(EventModel):
    """A person's name (PHI: it appears in bodies only, never in keys or headers)."""

    first: str = Field(min_length=1, max_length=60, description="Given name.")
    last: str = Field(min_length=1, max_length=60, description="Family name.")
    middle: str | None = Field(default=None, max_length=60, description="Middle name or initial.")
    suffix: str | None = Field(default=None, max_length=10, description="Name suffix such as Jr or III.")


class Address(EventModel):
    """A US postal address."""

    line1: str = Field(min_length=1, max_length=55, description="First street line.")
    line2: str | None = Field(default=None, max_length=55, description="Second street line.")
    city: str = Field(min_length=1, max_length=30, description="City.")
    state: StateCode = Field(description="USPS state code.")
    postal_code: PostalCode = Field(description="ZIP code, 5 or 9 digits.")


class Period(EventModel):
    """An inclusive date range; an open ``end`` means 'until further notice'."""

    start: date = Field(description="First day the period applies (inclusive).")
    end: date | None = Field(
        default=None, description="Last day the period applies (inclusive); none if open."
    )

    @model_validator(mode="after")
    def _end_after_start(self) -> Self:
        if self.end is not None and self.end < self.start:
            raise ValueError("period end is before its start")
        return self

    def contains(self, day: date) -> bool:
        """True when ``day`` falls within the period."""
        return self.start <= day and (self.end is None or day <= self.end)


class Sex(StrEnum):
    """Administrative sex as carried on X12 claims (DMG03)."""

    FEMALE = "F"
    MALE = "M"
    UNKNOWN = "U"


class CoveragePriority(StrEnum):
    """Order in which a coverage pays (the SBR01 payer responsibility sequence)."""

    PRIMARY = "primary"
    SECONDARY = "secondary"
    TERTIARY = "tertiary"


class Credential(StrEnum):
    """A clinician's licence or degree credential, which drives who may bill what."""

    LCSW = "LCSW"
    LICSW = "LICSW"
    LMSW = "LMSW"
    LPC = "LPC"
    LPCC = "LPCC"
    LMHC = "LMHC"
    LMFT = "LMFT"
    LCADC = "LCADC"
    PHD = "PhD"
    PSYD = "PsyD"
    MD = "MD"
    DO = "DO"
    NP = "NP"
    PA = "PA"
    ASSOCIATE = "associate"
    """Pre-licensed clinician practising under supervision."""
    OTHER = "other"


class Modality(StrEnum):
    """How a session was delivered."""

    IN_PERSON = "in_person"
    VIDEO = "video"
    AUDIO_ONLY = "audio_only"


class Program(StrEnum):
    """The behavioural-health program a service belongs to (drives HE/HF/HG/HH modifiers)."""

    MENTAL_HEALTH = "mental_health"
    SUBSTANCE_USE = "substance_use"
    OPIOID_TREATMENT = "opioid_treatment"
    INTEGRATED = "integrated"


class AdjustmentGroup(StrEnum):
    """Claim adjustment group code (CAS01)."""

    CONTRACTUAL_OBLIGATION = "CO"
    PATIENT_RESPONSIBILITY = "PR"
    OTHER_ADJUSTMENT = "OA"
    PAYER_INITIATED = "PI"
    CORRECTION_REVERSAL = "CR"


class Adjustment(EventModel):
    """One CAS adjustment: group, reason, amount and optional quantity."""

    group: AdjustmentGroup = Field(description="Adjustment group code (CO, PR, OA, PI, CR).")
    carc: CarcCode = Field(description="Claim adjustment reason code.")
    amount: Money = Field(description="Adjusted amount; negative on reversals.")
    quantity: int | None = Field(default=None, description="Adjusted units, when the payer reports them.")
