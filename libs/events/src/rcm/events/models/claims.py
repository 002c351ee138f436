"""Claims: coded, scrubbed, held or released, submitted, acknowledged, corrected, voided."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Self

from pydantic import Field, model_validator

from rcm.events.models._base import Event, EventModel
from rcm.events.models.common import Adjustment, CoveragePriority
from rcm.events.types import (
    DiagnosisCode,
    Id,
    Modifier,
    Money,
    NonNegativeMoney,
    PlaceOfService,
    ProcedureCode,
    Timestamp,
)

__all__ = [
    "AckReason",
    "AckSource",
    "AckStatus",
    "ClaimAcknowledged",
    "ClaimChange",
    "ClaimChangeAction",
    "ClaimCorrectionRefused",
    "ClaimCorrectionRequested",
    "ClaimCreated",
    "ClaimHeld",
    "ClaimLine",
    "ClaimReleased",
    "ClaimStatus",
    "ClaimStatusChanged",
    "ClaimSubmitted",
    "ClaimVoidRequested",
    "ClaimVoided",
    "ClaimWriteOffRequested",
    "CorrectionMethod",
    "CorrectionRefusal",
    "FrequencyCode",
    "HoldReason",
    "HoldReasonCode",
    "LineAcknowledgment",
    "LineAdjudication",
    "NotBilledReason",
    "SecondaryClaimRequested",
    "SessionNotBilled",
]


class FrequencyCode(StrEnum):
    """Claim frequency code (CLM05-3)."""

    ORIGINAL = "1"
    REPLACEMENT = "7"
    VOID = "8"


class ClaimLine(EventModel):
    """One coded service line."""

    line_key: Id = Field(description="Stable key of the line (survives corrections), e.g. '<session>:1'.")
    session_id: Id = Field(description="Session the line was coded from.")
    service_date: date = Field(description="Date of service.")
    procedure_code: ProcedureCode = Field(description="CPT/HCPCS code.")
    modifiers: list[Modifier] = Field(default_factory=list, max_length=4, description="Up to 4 modifiers.")
    units: int = Field(ge=1, description="Units billed.")
    place_of_service: PlaceOfService = Field(description="POS of the line.")
    charge: NonNegativeMoney = Field(description="Line charge (units x unit price).")
    diagnosis_pointers: list[int] = Field(
        min_length=1, max_length=4, description="1-based indexes into the claim's diagnoses."
    )
    rendering_provider_id: Id | None = Field(
        default=None, description="Rendering clinician when it differs from the claim's."
    )
    rule: str = Field(
        min_length=1,
        max_length=80,
        description="Coding rule that produced the line, e.g. 'psychotherapy.60'.",
    )


class ClaimCreated(Event):
    """The claims service coded one or more sessions into a claim."""

    claim_id: Id = Field(description="Opaque claim id; also the patient control number (CLM01).")
    patient_id: Id = Field(description="Patient billed for.")
    organization_id: Id = Field(description="Billing organization.")
    rendering_provider_id: Id = Field(description="Rendering clinician.")
    supervising_provider_id: Id | None = Field(default=None, description="Supervising provider, if named.")
    coverage_id: Id = Field(description="Coverage billed.")
    payer_id: Id = Field(description="Payer billed.")
    payer_responsibility: CoveragePriority = Field(description="Primary, secondary or tertiary claim.")
    frequency_code: FrequencyCode = Field(
        default=FrequencyCode.ORIGINAL, description="Original, replacement, void."
    )
    replaces_claim_id: Id | None = Field(default=None, description="Claim a replacement or void refers to.")
    payer_claim_number: str | None = Field(
        default=None, max_length=50, description="Payer's claim number (REF*F8) for replacements and voids."
    )
    diagnoses: list[DiagnosisCode] = Field(min_length=1, max_length=12, description="Claim diagnoses (HI).")
    authorization_number: str | None = Field(default=None, max_length=50, description="Prior auth (REF*G1).")
    lines: list[ClaimLine] = Field(min_length=1, max_length=50, description="Service lines.")
    total_charge: NonNegativeMoney = Field(description="Sum of the line charges (CLM02).")
    created_at: Timestamp = Field(description="When the claim was created.")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if sum((line.charge for line in self.lines), Decimal("0")) != self.total_charge:
            raise ValueError("total_charge is not the sum of the line charges")
        for line in self.lines:
            if any(pointer < 1 or pointer > len(self.diagnoses) for pointer in line.diagnosis_pointers):
                raise ValueError(f"line {line.line_key} points at a diagnosis the claim does not have")
        if len({line.line_key for line in self.lines}) != len(self.lines):
            raise ValueError("line keys are not unique")
        if self.frequency_code is not FrequencyCode.ORIGINAL and self.payer_claim_number is None:
            raise ValueError("a replacement or void claim carries the payer claim number")
        return self


class HoldReasonCode(StrEnum):
    """Why the scrubber held a claim."""

    NOTE_UNSIGNED = "note_unsigned"
    COVERAGE_MISSING = "coverage_missing"
    ELIGIBILITY_INACTIVE = "eligibility_inactive"
    ELIGIBILITY_UNKNOWN = "eligibility_unknown"
    AUTHORIZATION_MISSING = "authorization_missing"
    AUTHORIZATION_EXHAUSTED = "authorization_exhausted"
    PROVIDER_NOT_ENROLLED = "provider_not_enrolled"
    PROVIDER_NOT_LICENSED = "provider_not_licensed"
    SUPERVISOR_MISSING = "supervisor_missing"
    DIAGNOSIS_INVALID = "diagnosis_invalid"
    CODE_NOT_BILLABLE = "code_not_billable"
    NCCI_CONFLICT = "ncci_conflict"
    MODIFIER_POLICY = "modifier_policy"
    FEE_MISSING = "fee_missing"
    TIMELY_FILING_RISK = "timely_filing_risk"
    TELEHEALTH_NOT_COVERED = "telehealth_not_covered"
    SERVICE_NOT_COVERED = "service_not_covered"
    """The payer's 271 says the coverage is active but does not cover the service type."""
    BENEFIT_CARVED_OUT = "benefit_carved_out"
    """The payer's 271 says another entity administers the behavioural-health benefit: bill that one."""
    OTHER = "other"


class HoldReason(EventModel):
    """One reason a claim cannot go out yet."""

    code: HoldReasonCode = Field(description="Machine-readable reason.")
    message: str = Field(min_length=1, max_length=300, description="What to fix (no PHI).")
    line_key: Id | None = Field(default=None, description="Line concerned; none for the whole claim.")


class ClaimHeld(Event):
    """The claim failed scrubbing; it waits for a fix or a person."""

    claim_id: Id = Field(description="Claim held.")
    patient_id: Id = Field(description="Patient of the claim.")
    reasons: list[HoldReason] = Field(min_length=1, description="Every reason found, not only the first.")
    held_at: Timestamp = Field(description="When it was held.")


class NotBilledReason(StrEnum):
    """Why a session yields no claim."""

    UNDER_MINIMUM_TIME = "under_minimum_time"
    """Too few minutes for any code of its kind (e.g. under 16 for psychotherapy)."""
    NOT_PERMITTED_FOR_CREDENTIAL = "not_permitted_for_credential"
    """The code the session needs is not billable by the clinician's credential (90792 by an LCSW)."""
    ALREADY_BILLED_TODAY = "already_billed_today"
    """What the session would bill was billed for the patient that day (an evaluation, a daily cap)."""
    AUDIO_ONLY_NOT_COVERED = "audio_only_not_covered"
    """The payer does not pay audio-only, or only with the patient at home."""
    UNKNOWN_SERVICE_CODE = "unknown_service_code"
    """The session names a service code the claims service does not bill for its kind."""


class SessionNotBilled(Event):
    """A completed session yields no claim, and why: the practice corrects the session
    (session-corrected) when the reason is a documentation mistake, or lets it be."""

    session_id: Id = Field(description="Session that yields no claim.")
    patient_id: Id = Field(description="Patient of the session.")
    rendering_provider_id: Id = Field(description="Clinician of the session.")
    reason: NotBilledReason = Field(description="Why no claim was made.")
    message: str = Field(min_length=1, max_length=300, description="What a biller reads; no PHI.")
    decided_at: Timestamp = Field(description="When the session was coded.")


class ClaimReleased(Event):
    """A held claim passed scrubbing or was released by a person and may be batched."""

    claim_id: Id = Field(description="Claim released.")
    patient_id: Id = Field(description="Patient of the claim.")
    released_by: str = Field(min_length=1, max_length=80, description="Service or user id that released it.")
    released_at: Timestamp = Field(description="When it was released.")


class ClaimSubmitted(Event):
    """The claim left in an 837P batch file."""

    claim_id: Id = Field(description="Claim submitted.")
    patient_id: Id = Field(description="Patient of the claim.")
    payer_id: Id = Field(description="Payer the batch was for.")
    batch_id: Id = Field(description="Opaque id of the batch.")
    file_name: str = Field(min_length=1, max_length=255, description="Name of the uploaded file.")
    interchange_control_number: str = Field(pattern=r"^[0-9]{9}$", description="ISA13.")
    group_control_number: str = Field(pattern=r"^[0-9]{1,9}$", description="GS06.")
    transaction_set_control_number: str = Field(pattern=r"^[0-9]{4,9}$", description="ST02.")
    submitted_at: Timestamp = Field(description="When the file was uploaded.")


class AckSource(StrEnum):
    """Which acknowledgment reported on the claim."""

    X999 = "999"
    X277CA = "277CA"
    TA1 = "TA1"
    """The interchange acknowledgment: TA104 R rejects every claim of the 837 interchange."""
    X277 = "277"
    """The payer's claim status answer (277) to our inquiry (276)."""


class AckStatus(StrEnum):
    """Accepted or rejected (or, in a 277 answer, more information requested)."""

    ACCEPTED = "accepted"
    ACCEPTED_WITH_ERRORS = "accepted_with_errors"
    REJECTED = "rejected"
    INFORMATION_REQUESTED = "information_requested"
    """The payer has the claim and asks for more before it adjudicates (277 category R0-R16): the
    reasons say what (category:status[:entity]); someone must send it (a 275 or records)."""


class AckReason(EventModel):
    """A reason given by an acknowledgment."""

    code: str = Field(
        min_length=1,
        max_length=30,
        description="999 error code (IK3/IK4/IK5) or 277CA/277 STC category:status[:entity], e.g. 'A7:562:85'.",
    )
    description: str | None = Field(default=None, max_length=300, description="Readable reason.")


class LineAcknowledgment(EventModel):
    """A 277CA verdict on one line."""

    line_key: Id = Field(description="Line concerned.")
    status: AckStatus = Field(description="Line accepted or rejected.")
    reasons: list[AckReason] = Field(default_factory=list, description="Reasons for the line.")


class ClaimAcknowledged(Event):
    """A 999 or 277CA accepted or rejected the claim, or a 277 answering our 276 asks for more
    information about it (``information_requested``)."""

    claim_id: Id = Field(description="Claim acknowledged.")
    patient_id: Id = Field(description="Patient of the claim.")
    source: AckSource = Field(description="999, 277CA, TA1 or 277 (a claim status answer).")
    status: AckStatus = Field(description="Verdict on the claim.")
    reasons: list[AckReason] = Field(default_factory=list, description="Claim-level reasons.")
    lines: list[LineAcknowledgment] = Field(default_factory=list, description="Line-level verdicts.")
    payer_claim_number: str | None = Field(default=None, max_length=50, description="Claim number assigned.")
    file_name: str = Field(min_length=1, max_length=255, description="Acknowledgment file it came from.")
    received_at: Timestamp = Field(description="When the file was received.")


class ClaimStatus(StrEnum):
    """The claim state machine."""

    CREATED = "created"
    HELD = "held"
    READY = "ready"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    """Accepted by the clearinghouse and payer front end (999/277CA)."""
    REJECTED = "rejected"
    """Rejected by a front end; never adjudicated."""
    PENDING = "pending"
    """In adjudication (277 pended, OA-133)."""
    PAID = "paid"
    PARTIALLY_PAID = "partially_paid"
    DENIED = "denied"
    APPEALED = "appealed"
    REPLACED = "replaced"
    VOIDED = "voided"
    WRITTEN_OFF = "written_off"
    CLOSED = "closed"


class ClaimStatusChanged(Event):
    """A transition of the claim state machine."""

    claim_id: Id = Field(description="Claim concerned.")
    patient_id: Id = Field(description="Patient of the claim.")
    from_status: ClaimStatus | None = Field(description="Status before; none for a new claim.")
    to_status: ClaimStatus = Field(description="Status after.")
    cause: str | None = Field(
        default=None, max_length=80, description="Event type or action that caused it, e.g. 'remit-received'."
    )
    changed_at: Timestamp = Field(description="When the transition happened.")


class ClaimVoided(Event):
    """The claim moved to voided: it will not be paid (a void sent to the payer, or a claim that
    never left). Published with the claim-status-changed of the same move, on a topic of its own,
    so a consumer that acts on voids only does not read every transition."""

    claim_id: Id = Field(description="Claim voided.")
    patient_id: Id = Field(description="Patient of the claim.")
    from_status: ClaimStatus | None = Field(
        description="Published status before the void; none when the claim was in none (being batched)."
    )
    cause: str | None = Field(
        default=None,
        max_length=80,
        description="Event type or action that caused it, e.g. 'claim-void-requested'.",
    )
    voided_at: Timestamp = Field(description="When the claim was voided.")


class CorrectionMethod(StrEnum):
    """How a correction goes to the payer."""

    REPLACEMENT = "replacement"
    """Frequency 7 with the payer claim number; for adjudicated claims."""
    NEW_ORIGINAL = "new_original"
    """A fresh frequency-1 claim; only after a front-end rejection."""


class ClaimChangeAction(StrEnum):
    """A change the denials service (or a person) asks for."""

    ADD_MODIFIER = "add_modifier"
    REMOVE_MODIFIER = "remove_modifier"
    SET_PLACE_OF_SERVICE = "set_place_of_service"
    SET_DIAGNOSES = "set_diagnoses"
    SET_AUTHORIZATION_NUMBER = "set_authorization_number"
    SET_PROCEDURE_CODE = "set_procedure_code"
    SET_RENDERING_PROVIDER = "set_rendering_provider"
    REBUILD_COB = "rebuild_cob"
    RECODE = "recode"
    """Code the session again from current reference data."""


class ClaimChange(EventModel):
    """One change to make in a correction."""

    action: ClaimChangeAction = Field(description="What to change.")
    line_key: Id | None = Field(default=None, description="Line concerned; none for the claim.")
    value: str | None = Field(default=None, max_length=80, description="New value (modifier, POS, code...).")


class ClaimCorrectionRequested(Event):
    """Ask the claims service to send a corrected claim."""

    request_id: Id = Field(description="Opaque request id.")
    claim_id: Id = Field(description="Claim to correct.")
    patient_id: Id = Field(description="Patient of the claim.")
    method: CorrectionMethod = Field(description="Replacement or new original.")
    changes: list[ClaimChange] = Field(min_length=1, description="Changes to make.")
    payer_claim_number: str | None = Field(
        default=None, max_length=50, description="Payer claim number (REF*F8) for a replacement."
    )
    denial_id: Id | None = Field(default=None, description="Denial that prompted it, if any.")
    requested_at: Timestamp = Field(description="When it was requested.")

    @model_validator(mode="after")
    def _replacement_has_number(self) -> Self:
        if self.method is CorrectionMethod.REPLACEMENT and self.payer_claim_number is None:
            raise ValueError("a replacement needs the payer claim number")
        return self


class CorrectionRefusal(StrEnum):
    """Why the claims service could not send a requested correction."""

    UNKNOWN_CLAIM = "unknown_claim"
    """The claim is not known to the claims service."""
    UNKNOWN_PROVIDER = "unknown_provider"
    """set_rendering_provider names a provider not in the provider reference data."""
    NO_PRIOR_ADJUDICATION = "no_prior_adjudication"
    """rebuild_cob on a claim that carries no prior payer's adjudication (2320/2430)."""
    NOT_BILLABLE = "not_billable"
    """Coded again (recode, or another rendering provider), the session yields nothing billable."""
    WAITING_FOR_REFERENCE_DATA = "waiting_for_reference_data"
    """Coded again, the session lacks reference data (coverage, payer, fee schedule...)."""
    UNSUPPORTED_CHANGE = "unsupported_change"
    """A change the claims service cannot apply to this claim."""


class ClaimCorrectionRefused(Event):
    """A claim-correction-requested the claims service could not apply: nothing was sent; a person decides."""

    request_id: Id = Field(description="The refused request (claim-correction-requested request_id).")
    claim_id: Id = Field(description="Claim the correction was for.")
    patient_id: Id = Field(description="Patient of the claim.")
    denial_id: Id | None = Field(default=None, description="Denial that prompted the request, if any.")
    reason: CorrectionRefusal = Field(description="Why it was refused.")
    action: ClaimChangeAction | None = Field(default=None, description="The change refused, if one was.")
    detail: str = Field(min_length=1, max_length=200, description="What a person needs to know (no PHI).")
    refused_at: Timestamp = Field(description="When it was refused.")


class ClaimVoidRequested(Event):
    """Ask the claims service to void an adjudicated claim (frequency 8)."""

    request_id: Id = Field(description="Opaque request id.")
    claim_id: Id = Field(description="Claim to void.")
    patient_id: Id = Field(description="Patient of the claim.")
    payer_claim_number: str = Field(min_length=1, max_length=50, description="Payer claim number (REF*F8).")
    reason: str = Field(min_length=1, max_length=200, description="Why (no PHI).")
    denial_id: Id | None = Field(default=None, description="Denial that prompted it, if any.")
    requested_at: Timestamp = Field(description="When it was requested.")


class LineAdjudication(EventModel):
    """How the prior payer adjudicated one line (2430 SVD/CAS on the secondary)."""

    line_key: Id = Field(description="Line of the primary claim.")
    procedure_code: ProcedureCode = Field(description="Code adjudicated.")
    modifiers: list[Modifier] = Field(
        default_factory=list, max_length=4, description="Modifiers adjudicated."
    )
    units: int = Field(ge=0, description="Units paid.")
    paid: Money = Field(description="Amount the prior payer paid on the line.")
    adjustments: list[Adjustment] = Field(default_factory=list, description="Line adjustments.")
    adjudicated_on: date = Field(description="Adjudication date (DTP*573).")


class SecondaryClaimRequested(Event):
    """Ask the claims service to bill the next payer with the prior payer's adjudication."""

    request_id: Id = Field(description="Opaque request id.")
    claim_id: Id = Field(description="Adjudicated claim of the prior payer.")
    patient_id: Id = Field(description="Patient of the claim.")
    coverage_id: Id = Field(description="Coverage to bill next.")
    payer_id: Id = Field(description="Payer to bill next.")
    payer_responsibility: CoveragePriority = Field(description="Secondary or tertiary.")
    prior_payer_id: Id = Field(description="Payer that adjudicated.")
    prior_payer_claim_number: str = Field(min_length=1, max_length=50, description="Its claim number.")
    prior_paid: Money = Field(description="Amount the prior payer paid (AMT*D).")
    patient_responsibility: NonNegativeMoney = Field(description="Remaining patient liability.")
    claim_adjustments: list[Adjustment] = Field(default_factory=list, description="Claim-level CAS.")
    lines: list[LineAdjudication] = Field(min_length=1, description="Line adjudications.")
    remit_id: Id | None = Field(default=None, description="Remit the adjudication came from.")
    requested_at: Timestamp = Field(description="When it was requested.")


class ClaimWriteOffRequested(Event):
    """Ask the claims service to close a balance as uncollectable from the payer."""

    request_id: Id = Field(description="Opaque request id.")
    claim_id: Id = Field(description="Claim concerned.")
    patient_id: Id = Field(description="Patient of the claim.")
    amount: NonNegativeMoney = Field(description="Amount written off.")
    reason: str = Field(min_length=1, max_length=200, description="Why, e.g. 'CO-29 without proof'.")
    denial_id: Id | None = Field(default=None, description="Denial that prompted it, if any.")
    requested_at: Timestamp = Field(description="When it was requested.")
