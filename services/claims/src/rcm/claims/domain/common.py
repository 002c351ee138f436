"""Small values shared by the claims domain: the model base, periods and enumerations.

Enumeration values match those of the event contracts (``rcm.events``), so adapting an
event to a domain value is a field-by-field copy.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, model_validator

__all__ = ["PRESCRIBERS", "Credential", "DomainModel", "Modality", "Period", "Program"]


class DomainModel(BaseModel):
    """An immutable domain value; unknown fields are an error, so typos in input files show."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Period(DomainModel):
    """An inclusive date range; an open ``end`` means 'until further notice'."""

    start: date
    end: date | None = None

    @model_validator(mode="after")
    def _end_after_start(self) -> Self:
        if self.end is not None and self.end < self.start:
            raise ValueError("period end is before its start")
        return self

    def contains(self, day: date) -> bool:
        """True when ``day`` falls within the period."""
        return self.start <= day and (self.end is None or day <= self.end)


class Credential(StrEnum):
    """A clinician's licence or degree credential; it decides who may bill what."""

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


PRESCRIBERS: frozenset[Credential] = frozenset({Credential.MD, Credential.DO, Credential.NP, Credential.PA})
"""Credentials that may bill medical services: 90792, E/M and the psychotherapy add-ons."""


class Modality(StrEnum):
    """How a session was delivered."""

    IN_PERSON = "in_person"
    VIDEO = "video"
    AUDIO_ONLY = "audio_only"


class Program(StrEnum):
    """The behavioural-health program a service belongs to (HE/HF/HG/HH modifiers)."""

    MENTAL_HEALTH = "mental_health"
    SUBSTANCE_USE = "substance_use"
    OPIOID_TREATMENT = "opioid_treatment"
    INTEGRATED = "integrated"
