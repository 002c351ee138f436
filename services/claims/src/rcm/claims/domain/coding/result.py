"""What coding returns: coded lines with the rule behind each, or why the session is not billable."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from pydantic import Field

from rcm.claims.domain.common import DomainModel

__all__ = ["ChosenCode", "CodedLine", "CodedSession", "CodingResult", "NotBillable", "NotBillableReason"]


class ChosenCode(DomainModel):
    """A code and its units chosen from the session's kind and time, before POS and modifiers."""

    code: str
    units: int = Field(default=1, ge=1)
    rule: str
    add_on: bool = False


class CodedLine(DomainModel):
    """One service line as coded, with the rules that produced it."""

    code: str
    modifiers: tuple[str, ...] = ()
    units: int = Field(ge=1)
    place_of_service: str
    diagnosis_pointers: tuple[int, ...] = Field(min_length=1, max_length=4)
    charge: Decimal | None = None
    rule: str = Field(description="Why this code and these units.")
    modifier_rules: tuple[str, ...] = Field(default=(), description="Why each modifier and the POS.")
    add_on: bool = False


class CodedSession(DomainModel):
    """A billable session: its lines in claim order (primary code first, add-ons after)."""

    billable: Literal[True] = True
    session_id: str
    date_of_service: date
    place_of_service: str
    diagnoses: tuple[str, ...]
    lines: tuple[CodedLine, ...] = Field(min_length=1)
    notes: tuple[str, ...] = Field(default=(), description="What was considered and not billed, and why.")


class NotBillableReason(StrEnum):
    """Why a session produces no claim."""

    UNDER_MINIMUM_TIME = "under_minimum_time"
    NOT_PERMITTED_FOR_CREDENTIAL = "not_permitted_for_credential"
    ALREADY_BILLED_TODAY = "already_billed_today"
    AUDIO_ONLY_NOT_COVERED = "audio_only_not_covered"
    UNKNOWN_SERVICE_CODE = "unknown_service_code"


class NotBillable(DomainModel):
    """A session that cannot be billed, with the reason a biller can act on."""

    billable: Literal[False] = False
    session_id: str
    reason: NotBillableReason
    message: str


CodingResult = CodedSession | NotBillable
"""The outcome of coding a session."""
