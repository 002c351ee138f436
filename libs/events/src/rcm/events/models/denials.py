"""Denials: opened from remits and rejections, triaged to an action, resolved, counted."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Self

from pydantic import Field, model_validator

from rcm.events.models._base import Event, EventModel
from rcm.events.models.common import AdjustmentGroup
from rcm.events.types import CarcCode, Id, Money, NonNegativeMoney, RarcCode, Timestamp

__all__ = [
    "CarcCount",
    "DenialAction",
    "DenialCategory",
    "DenialOpened",
    "DenialOutcome",
    "DenialResolved",
    "DenialSource",
    "DenialStatsUpdated",
    "DeniedReason",
]


class DenialSource(StrEnum):
    """Where the denial was seen."""

    REMIT = "remit"
    ACKNOWLEDGMENT = "acknowledgment"
    """A front-end rejection (999/277CA)."""


class DenialCategory(StrEnum):
    """Root-cause family, for routing and statistics."""

    AUTHORIZATION = "authorization"
    ELIGIBILITY = "eligibility"
    COORDINATION_OF_BENEFITS = "coordination_of_benefits"
    CODING = "coding"
    MODIFIER = "modifier"
    PLACE_OF_SERVICE = "place_of_service"
    BUNDLING = "bundling"
    MEDICAL_NECESSITY = "medical_necessity"
    CREDENTIALING = "credentialing"
    TIMELY_FILING = "timely_filing"
    DUPLICATE = "duplicate"
    MISSING_INFORMATION = "missing_information"
    NON_COVERED = "non_covered"
    BENEFIT_LIMIT = "benefit_limit"
    FRONT_END_REJECTION = "front_end_rejection"
    OTHER = "other"


class DenialAction(StrEnum):
    """The automated next step chosen for a denial."""

    POST_ONLY = "post_only"
    TRANSFER_TO_PATIENT = "transfer_to_patient"
    BILL_SECONDARY = "bill_secondary"
    RESUBMIT_ORIGINAL = "resubmit_original"
    RESUBMIT_REPLACEMENT = "resubmit_replacement"
    VOID = "void"
    APPEAL = "appeal"
    FIX_AUTH = "fix_auth"
    FIX_CREDENTIALING = "fix_credentialing"
    REVERIFY_ELIGIBILITY = "reverify_eligibility"
    WRITE_OFF = "write_off"
    HUMAN_REVIEW = "human_review"


class DeniedReason(EventModel):
    """One adjustment that makes up the denial."""

    group: AdjustmentGroup = Field(description="Adjustment group.")
    carc: CarcCode = Field(description="Reason code.")
    amount: Money = Field(description="Amount adjusted for this reason.")
    line_key: Id | None = Field(default=None, description="Line concerned; none for the claim.")


class DenialOpened(Event):
    """A claim or line was denied or rejected; the denials service chose an action."""

    denial_id: Id = Field(description="Opaque denial id.")
    claim_id: Id = Field(description="Claim denied.")
    patient_id: Id = Field(description="Patient of the claim.")
    payer_id: Id = Field(description="Payer that denied.")
    source: DenialSource = Field(description="Remit or front-end acknowledgment.")
    remit_id: Id | None = Field(default=None, description="Remit carrying the denial, if from a remit.")
    category: DenialCategory = Field(description="Root-cause family.")
    reasons: list[DeniedReason] = Field(default_factory=list, description="Group/CARC/amount of the denial.")
    rarcs: list[RarcCode] = Field(default_factory=list, description="Remark codes that qualify it.")
    rejection_codes: list[str] = Field(
        default_factory=list, description="999/277CA codes, for a front-end rejection."
    )
    amount: NonNegativeMoney = Field(description="Amount at stake.")
    action: DenialAction = Field(description="Automated next step.")
    appeal_deadline: date | None = Field(default=None, description="Last day to appeal, when appealing.")
    opened_at: Timestamp = Field(description="When it was opened.")


class DenialOutcome(StrEnum):
    """How a denial ended."""

    PAID = "paid"
    PARTIALLY_PAID = "partially_paid"
    APPEAL_UPHELD = "appeal_upheld"
    """The payer kept its denial."""
    TRANSFERRED_TO_PATIENT = "transferred_to_patient"
    BILLED_ELSEWHERE = "billed_elsewhere"
    WRITTEN_OFF = "written_off"
    VOIDED = "voided"


class DenialResolved(Event):
    """A denial was closed."""

    denial_id: Id = Field(description="Denial closed.")
    claim_id: Id = Field(description="Claim of the denial.")
    patient_id: Id = Field(description="Patient of the claim.")
    outcome: DenialOutcome = Field(description="How it ended.")
    recovered: NonNegativeMoney = Field(description="Amount recovered from a payer.")
    written_off: NonNegativeMoney = Field(description="Amount written off.")
    resolved_at: Timestamp = Field(description="When it was closed.")


class CarcCount(EventModel):
    """How often a group/CARC appeared in the period."""

    group: AdjustmentGroup = Field(description="Adjustment group.")
    carc: CarcCode = Field(description="Reason code.")
    claims: int = Field(ge=0, description="Claims denied with it.")
    amount: NonNegativeMoney = Field(description="Amount denied with it.")


class DenialStatsUpdated(Event):
    """Denial statistics of a period, overall or for one payer."""

    scope_id: Id = Field(description="'all' or the payer id the figures are for.")
    period_start: date = Field(description="First day counted.")
    period_end: date = Field(description="Last day counted.")
    claims_adjudicated: int = Field(ge=0, description="Claims adjudicated in the period.")
    claims_denied: int = Field(ge=0, description="Claims with a denial in the period.")
    denial_rate: Decimal | None = Field(
        default=None,
        ge=0,
        le=1,
        max_digits=5,
        decimal_places=4,
        description="claims_denied / claims_adjudicated, to 4 places.",
    )
    by_carc: list[CarcCount] = Field(default_factory=list, description="Counts by group and CARC.")
    computed_at: Timestamp = Field(description="When the figures were computed.")
    denied_amount: Money = Field(
        default=Decimal("0"), description="Amount the payers' denials in the period name."
    )
    charges_adjudicated: Money = Field(
        default=Decimal("0"),
        description="Charges of the claims adjudicated (each claim once, from its largest adjudication).",
    )
    denial_rate_by_amount: Decimal | None = Field(
        default=None,
        max_digits=9,
        decimal_places=4,
        description="denied_amount / charges_adjudicated, to 4 places; none without charges.",
    )
    claims_submitted: int = Field(
        default=0,
        ge=0,
        description="Claims adjudicated or rejected by a front end (999/277CA) in the period.",
    )
    claims_rejected: int = Field(
        default=0, ge=0, description="Claims a front end (999/277CA) rejected; not counted as denied."
    )
    rejection_rate: Decimal | None = Field(
        default=None,
        ge=0,
        le=1,
        max_digits=5,
        decimal_places=4,
        description="claims_rejected / claims_submitted, to 4 places.",
    )
    rejected_amount: Money = Field(
        default=Decimal("0"), description="Charges of the rejections in the period."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.period_end < self.period_start:
            raise ValueError("period ends before it starts")
        if self.claims_denied > self.claims_adjudicated:
            raise ValueError("more claims denied than adjudicated")
        if self.claims_rejected > self.claims_submitted:
            raise ValueError("more claims rejected than submitted")
        return self
