"""Reference data from clinical and practice-management systems.

These events carry the **full current state** of one entity and travel on log-compacted
topics keyed by the entity id, so a new consumer rebuilds its projection by reading the
topic from the start. A ``deleted`` flag tombstones an entity logically.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from enum import IntEnum, StrEnum
from typing import Annotated, Self

from pydantic import Field, model_validator

from rcm.events.models._base import Event, EventModel
from rcm.events.models.common import Address, CoveragePriority, Credential, Period, PersonName, Program, Sex
from rcm.events.types import (
    Id,
    Modifier,
    NonNegativeMoney,
    Npi,
    PlaceOfService,
    ProcedureCode,
    StateCode,
    TaxonomyCode,
    Timestamp,
    Tin,
)

__all__ = [
    "AuthRequirement",
    "BundlingPair",
    "ClaimFilingIndicator",
    "CorrectedClaimMethod",
    "CoverageUpdated",
    "DistinctServiceModifierStyle",
    "FeeScheduleKind",
    "FeeScheduleRate",
    "FeeScheduleUpdated",
    "License",
    "LicensureModifierRule",
    "MedicareSecondaryType",
    "ModifierIndicator",
    "NetworkStatus",
    "OrganizationUpdated",
    "PatientUpdated",
    "PayerBillingRules",
    "PayerEnrollment",
    "PayerType",
    "PayerUpdated",
    "ProviderUpdated",
    "Relationship",
    "Subscriber",
    "SupervisingProviderPolicy",
    "Supervision",
    "TelehealthRules",
    "TimelyFilingClock",
    "UnitRounding",
    "UnitRoundingRule",
    "filing_window_end",
]


# ------------------------------------------------------------------ organization


class OrganizationUpdated(Event):
    """A billing entity (group practice or solo clinician) with what it bills for."""

    organization_id: Id = Field(description="Opaque id of the billing organization.")
    legal_name: str = Field(min_length=1, max_length=60, description="Legal name as enrolled with payers.")
    tin: Tin = Field(description="Taxpayer identification number billed under (EIN).")
    group_npi: Npi = Field(description="Billing NPI: Type 2 for a group, Type 1 for a sole proprietor.")
    taxonomy_code: TaxonomyCode = Field(description="Billing provider taxonomy (PRV*BI).")
    billing_address: Address = Field(description="Billing provider street address (no PO box).")
    pay_to_address: Address | None = Field(
        default=None, description="Pay-to address when payments go elsewhere than the billing address."
    )
    states: list[StateCode] = Field(min_length=1, description="States the organization bills services in.")
    payer_ids: list[Id] = Field(default_factory=list, description="Payers the organization bills.")
    deleted: bool = Field(default=False, description="True when the organization is no longer active.")
    updated_at: Timestamp = Field(description="When the source system changed this record.")


# ------------------------------------------------------------------ patient


class PatientUpdated(Event):
    """Demographics of one patient (PHI; keyed and subjected only by the opaque id)."""

    patient_id: Id = Field(description="Opaque patient id.")
    organization_id: Id = Field(description="Organization the patient is a client of.")
    name: PersonName = Field(description="Patient's legal name.")
    birth_date: date = Field(description="Date of birth.")
    sex: Sex = Field(description="Administrative sex.")
    address: Address | None = Field(default=None, description="Home address.")
    time_zone: str | None = Field(default=None, description="Patient's IANA time zone, when known.")
    deleted: bool = Field(default=False, description="True when the patient record was removed or merged.")
    merged_into_patient_id: Id | None = Field(
        default=None, description="Surviving patient id when this record was merged into another."
    )
    updated_at: Timestamp = Field(description="When the source system changed this record.")


# ------------------------------------------------------------------ coverage


class Relationship(StrEnum):
    """Patient's relationship to the subscriber (simplified SBR02/PAT01)."""

    SELF = "self"
    SPOUSE = "spouse"
    CHILD = "child"
    OTHER = "other"


class Subscriber(EventModel):
    """The insured person when the patient is a dependent."""

    name: PersonName = Field(description="Subscriber's name.")
    birth_date: date | None = Field(default=None, description="Subscriber's date of birth.")
    sex: Sex | None = Field(default=None, description="Subscriber's administrative sex.")
    address: Address | None = Field(default=None, description="Subscriber's address.")


class MedicareSecondaryType(StrEnum):
    """Why Medicare pays after another coverage (Medicare Secondary Payer type; 837P SBR05)."""

    WORKING_AGED = "12"
    """Working aged: the patient or spouse, 65 or older, has employer group health coverage."""
    END_STAGE_RENAL_DISEASE = "13"
    """End-stage renal disease, within the coordination period."""
    NO_FAULT = "14"
    """No-fault insurance, including automobile, is primary."""
    WORKERS_COMPENSATION = "15"
    """Workers' compensation."""
    PUBLIC_HEALTH_SERVICE = "16"
    """Public Health Service or another federal agency."""
    BLACK_LUNG = "41"
    """Black lung."""
    VETERANS_AFFAIRS = "42"
    """Veterans Affairs."""
    DISABLED = "43"
    """Disabled beneficiary under 65 with a large group health plan."""
    OTHER_LIABILITY = "47"
    """Other liability insurance is primary."""


class CoverageUpdated(Event):
    """One insurance coverage of a patient, with its order of payment."""

    coverage_id: Id = Field(description="Opaque coverage id.")
    patient_id: Id = Field(description="Patient this coverage belongs to.")
    payer_id: Id = Field(description="Payer (see payer-updated), possibly a behavioural-health carve-out.")
    plan_name: str | None = Field(default=None, max_length=80, description="Plan name from the card.")
    plan_id: str | None = Field(default=None, max_length=50, description="Plan identifier, when known.")
    member_id: str = Field(min_length=1, max_length=80, description="Member id on the card (PHI).")
    group_number: str | None = Field(default=None, max_length=50, description="Group number on the card.")
    relationship: Relationship = Field(description="Patient's relationship to the subscriber.")
    subscriber: Subscriber | None = Field(
        default=None, description="The subscriber when the relationship is not 'self'."
    )
    member_id_is_patients: bool = Field(
        default=False,
        description="True when member_id is the patient's own unique id, not the subscriber's (a "
        "dependent the payer enrols with an id of their own): an eligibility inquiry then asks about the "
        "patient as the subscriber (270 loop 2100C, X279A1 1.4.2). False: the id is the subscriber's.",
    )
    priority: CoveragePriority = Field(description="Primary, secondary or tertiary.")
    effective: Period = Field(description="Dates the coverage is in force.")
    medicare_secondary_type: MedicareSecondaryType | None = Field(
        default=None,
        description="On a Medicare coverage that is not primary: why another coverage pays first (MSP"
        " type, sent as 837P SBR05; Medicare's claims need it).",
    )
    deleted: bool = Field(default=False, description="True when the coverage was removed.")
    updated_at: Timestamp = Field(description="When the source system changed this record.")

    @model_validator(mode="after")
    def _subscriber_when_dependent(self) -> Self:
        if self.relationship is not Relationship.SELF and self.subscriber is None:
            raise ValueError("a dependent coverage needs its subscriber")
        return self


# ------------------------------------------------------------------ provider


class License(EventModel):
    """A state licence held by a clinician."""

    state: StateCode = Field(description="Issuing state.")
    license_type: str = Field(min_length=1, max_length=20, description="Licence type, e.g. LCSW.")
    number: str = Field(min_length=1, max_length=40, description="Licence number.")
    valid: Period = Field(description="Issue and expiry dates.")


class Supervision(EventModel):
    """A supervising relationship (for pre-licensed or incident-to services)."""

    supervisor_provider_id: Id = Field(description="Provider who supervises.")
    valid: Period = Field(description="Dates the supervision is in force.")


class NetworkStatus(StrEnum):
    """Whether a clinician is contracted with a payer."""

    IN_NETWORK = "in_network"
    OUT_OF_NETWORK = "out_of_network"


class PayerEnrollment(EventModel):
    """A credentialing/enrollment span: this clinician may bill this payer in this state."""

    payer_id: Id = Field(description="Payer enrolled with.")
    state: StateCode | None = Field(default=None, description="State of the enrollment; none if any state.")
    network_status: NetworkStatus = Field(description="In or out of network.")
    organization_id: Id | None = Field(
        default=None, description="Group the clinician is linked to for this payer, if any."
    )
    valid: Period = Field(description="Effective dates of the enrollment.")


class ProviderUpdated(Event):
    """A rendering or supervising clinician."""

    provider_id: Id = Field(description="Opaque provider id.")
    organization_ids: list[Id] = Field(min_length=1, description="Organizations the provider works for.")
    npi: Npi = Field(description="Individual (Type 1) NPI.")
    name: PersonName = Field(description="Provider's name as enrolled.")
    taxonomy_code: TaxonomyCode = Field(description="Rendering taxonomy (PRV*PE).")
    credential: Credential = Field(description="Licence or degree credential.")
    licenses: list[License] = Field(default_factory=list, description="State licences with their dates.")
    supervisors: list[Supervision] = Field(
        default_factory=list, description="Who supervises this provider, and when."
    )
    enrollments: list[PayerEnrollment] = Field(
        default_factory=list, description="Payer enrollments with their effective dates."
    )
    deleted: bool = Field(default=False, description="True when the provider left.")
    updated_at: Timestamp = Field(description="When the source system changed this record.")


# ------------------------------------------------------------------ payer


class PayerType(StrEnum):
    """Kind of payer, which selects defaults such as timely filing."""

    COMMERCIAL = "commercial"
    MEDICARE = "medicare"
    MEDICARE_ADVANTAGE = "medicare_advantage"
    MEDICAID = "medicaid"
    MEDICAID_MCO = "medicaid_mco"
    TRICARE = "tricare"
    EAP = "eap"
    OTHER = "other"


class ClaimFilingIndicator(StrEnum):
    """837P SBR09 claim filing indicator codes (005010X222A1)."""

    OTHER_NON_FEDERAL = "11"
    PPO = "12"
    POS = "13"
    EPO = "14"
    INDEMNITY = "15"
    HMO_MEDICARE_RISK = "16"
    DENTAL_MAINTENANCE = "17"
    AUTOMOBILE_MEDICAL = "AM"
    BLUE_CROSS_BLUE_SHIELD = "BL"
    CHAMPUS = "CH"
    COMMERCIAL = "CI"
    DISABILITY = "DS"
    FEP = "FI"
    HMO = "HM"
    LIABILITY_MEDICAL = "LM"
    MEDICARE_PART_A = "MA"
    MEDICARE_PART_B = "MB"
    MEDICAID = "MC"
    OTHER_FEDERAL = "OF"
    TITLE_V = "TV"
    VETERANS_AFFAIRS = "VA"
    WORKERS_COMPENSATION = "WC"
    MUTUALLY_DEFINED = "ZZ"


class TelehealthRules(EventModel):
    """How this payer wants telehealth coded. Defaults follow Medicare from 2024 (POS 02/10, no 95)."""

    pos_patient_home: PlaceOfService = Field(
        default="10", description="POS for telehealth with the patient at home."
    )
    pos_patient_not_home: PlaceOfService = Field(
        default="02", description="POS for telehealth with the patient elsewhere."
    )
    use_in_person_pos: bool = Field(
        default=False, description="Bill the POS the visit would have had in person (e.g. 11) instead."
    )
    video_modifiers: list[Modifier] = Field(
        default_factory=list, description="Modifiers for synchronous video, e.g. ['95'] for many payers."
    )
    audio_only_allowed: bool = Field(default=True, description="Whether audio-only services are payable.")
    audio_only_modifiers: list[Modifier] = Field(
        default_factory=lambda: ["93"], description="Modifiers for audio-only services (93, or FQ)."
    )
    audio_only_requires_patient_home: bool = Field(
        default=False, description="Audio-only is payable only with the patient at home (Medicare BH)."
    )
    in_person_pos_allowed_with_95: bool = Field(
        default=False, description="Whether an in-person POS such as 11 may carry modifier 95."
    )


class LicensureModifierRule(EventModel):
    """One row of the modifier-policy table: append modifiers for a credential/state/program/code."""

    credential: Credential | None = Field(default=None, description="Rendering credential; none = any.")
    state: StateCode | None = Field(default=None, description="State of service; none = any state.")
    program: Program | None = Field(
        default=None, description="Program of the session (HE/HF/HG/HH rows); none = any program."
    )
    procedure_codes: list[ProcedureCode] = Field(
        default_factory=list, description="Codes the rule applies to; empty = every code."
    )
    modifiers: list[Modifier] = Field(min_length=1, description="Modifiers to append, e.g. ['HO'] or ['AJ'].")


class AuthRequirement(EventModel):
    """Prior authorization needed for a code, optionally after a number of free visits."""

    procedure_code: ProcedureCode = Field(description="Code that needs prior authorization.")
    after_visits: int = Field(
        default=0, ge=0, description="Visits per benefit year allowed before an auth is needed."
    )


class UnitRounding(StrEnum):
    """How minutes become units for codes billed per 15 minutes (H0004, H2019...)."""

    MIDPOINT = "midpoint"
    """A unit once more than half of it is done (8 minutes of 15)."""
    FULL_UNIT = "full_unit"
    """Only complete units count."""


class UnitRoundingRule(EventModel):
    """Unit rounding for time-based HCPCS codes."""

    method: UnitRounding = Field(
        default=UnitRounding.MIDPOINT, description="Midpoint (8-minute) or full units."
    )
    minutes_per_unit: int = Field(default=15, ge=1, le=60, description="Minutes in one unit.")
    minutes_per_unit_by_code: dict[ProcedureCode, Annotated[int, Field(ge=1)]] = Field(
        default_factory=lambda: {"H2012": 60},
        description="Codes whose unit is not minutes_per_unit (H2012 day treatment is per hour).",
    )
    daily_unit_caps: dict[ProcedureCode, int] = Field(
        default_factory=dict, description="Most units billable per code per day, where the payer caps them."
    )


class TimelyFilingClock(StrEnum):
    """What starts the timely-filing clock."""

    DATE_OF_SERVICE = "date_of_service"
    PRIMARY_REMIT_DATE = "primary_remit_date"


class CorrectedClaimMethod(StrEnum):
    """How the payer accepts a corrected claim."""

    REPLACEMENT = "replacement"
    """Frequency code 7 with the payer claim number (REF*F8)."""
    VOID_AND_REBILL = "void_and_rebill"
    """Frequency code 8 to void, then a new original claim."""
    PAPER = "paper"
    """Corrections only on paper or through the portal: route to a person."""


class SupervisingProviderPolicy(StrEnum):
    """When the claim must name a supervising provider (2310D)."""

    NEVER = "never"
    WHEN_SUPERVISED = "when_supervised"
    """Whenever the rendering clinician practises under supervision."""
    ALWAYS = "always"
    BILL_AS_SUPERVISOR = "bill_as_supervisor"
    """The supervisor is the rendering provider (incident-to style); the associate is not named."""


class DistinctServiceModifierStyle(StrEnum):
    """Which modifier marks a documented distinct service."""

    X_MODIFIERS = "x_modifiers"
    """XE / XP / XS / XU by the documented reason (59 for 'other')."""
    MODIFIER_59 = "modifier_59"
    """Always 59."""


class ModifierIndicator(IntEnum):
    """Whether a modifier lets both codes of a bundling pair be billed (NCCI modifier indicator)."""

    NEVER = 0
    """The pair is never billed together."""
    WITH_DISTINCT_SERVICE = 1
    """Both are billed when the column-two code carries 59 or an X modifier."""


class BundlingPair(EventModel):
    """Two codes not billed together for one patient, clinician and date of service."""

    column_one: ProcedureCode = Field(description="The code that is kept.")
    column_two: ProcedureCode = Field(description="The code bundled into column_one (it gets 59/X).")
    indicator: ModifierIndicator = Field(description="0: never together; 1: with a distinct service.")
    why: str = Field(min_length=1, max_length=200, description="The reason, shown on the claim edit.")


_TIMED_HCPCS = [
    "H0004",
    "H0034",
    "H0036",
    "H0038",
    "H0039",
    "H2010",
    "H2011",
    "H2012",
    "H2014",
    "H2015",
    "H2017",
    "H2019",
    "H2021",
    "H2027",
    "T1016",
    "T1017",
]
_TESTING_CODES = ["96130", "96131", "96132", "96133", "96136", "96137", "96138", "96139"]


def filing_window_end(start: date, *, days: int, months: int | None = None) -> date:
    """The last day of a filing window opening on ``start``: ``months`` calendar months later when
    given (the same day of the month, or the month's last day when it has no such day), else
    ``days`` days later. A year counted in days closes a day early across a 29 February."""
    if months is None:
        return start + timedelta(days=days)
    year, month = divmod(start.month - 1 + months, 12)
    year += start.year
    return date(year, month + 1, min(start.day, calendar.monthrange(year, month + 1)[1]))


class PayerBillingRules(EventModel):
    """Per-payer billing rules as data. Defaults are conservative national conventions."""

    telehealth: TelehealthRules = Field(
        default_factory=TelehealthRules, description="Telehealth POS and modifier rules."
    )
    licensure_modifiers: list[LicensureModifierRule] = Field(
        default_factory=list,
        description="Degree/licence/program modifiers by credential, state, program and code.",
    )
    distinct_service_modifier: DistinctServiceModifierStyle = Field(
        default=DistinctServiceModifierStyle.X_MODIFIERS,
        description="Modifier for a documented distinct service: XE/XP/XS/XU by reason, or always 59.",
    )
    modifier_25_on_em_with_psychotherapy: bool = Field(
        default=False,
        description="Append 25 to the E/M billed with +90833/+90836/+90838 (opt-in; CPT and CMS do not "
        "ask for it).",
    )
    crisis_outside_office_codes: bool | None = Field(
        default=None,
        description="Code psychotherapy for crisis given in person at a non-facility site other than the "
        "office (the patient's home, a mobile unit, a school...) as G0017/+G0018 instead of 90839/+90840. "
        "None: as Medicare fee-for-service does since 2024, for a payer of type medicare only.",
    )
    timely_filing_days: int = Field(default=365, ge=1, description="Days allowed to file an original claim.")
    timely_filing_months: int | None = Field(
        default=None,
        ge=1,
        le=120,
        description="Calendar months allowed to file an original claim (Medicare: 12, one calendar year"
        " after the date of service, 42 CFR 424.44); when set it takes the place of timely_filing_days.",
    )
    timely_filing_warning_days: int = Field(
        default=14, ge=0, description="Warn this many days before the filing limit."
    )
    timely_filing_clock: TimelyFilingClock = Field(
        default=TimelyFilingClock.DATE_OF_SERVICE, description="What starts the filing clock."
    )
    corrected_claim_filing_days: int | None = Field(
        default=None, ge=1, description="Days allowed for a corrected claim, if different."
    )
    auth_requirements: list[AuthRequirement] = Field(
        default_factory=lambda: [AuthRequirement(procedure_code=code) for code in _TESTING_CODES],
        description="Codes needing prior authorization; psychological testing by default.",
    )
    unit_rounding: UnitRoundingRule = Field(
        default_factory=UnitRoundingRule, description="Rounding of 15-minute HCPCS units."
    )
    timed_hcpcs_codes: list[ProcedureCode] = Field(
        default_factory=lambda: list(_TIMED_HCPCS),
        description="HCPCS codes billed per unit of time (see unit_rounding); others are per encounter.",
    )
    prolonged_psychotherapy_as_two_units: bool = Field(
        default=False,
        description="Bill a 90+ minute session as 2 units of 90834 (opt-in; not CPT convention).",
    )
    prolonged_psychotherapy_from_minutes: int = Field(
        default=90, ge=53, description="Minutes from which 2 units of 90834 are billed, when opted in."
    )
    z_code_primary_allowed: bool = Field(
        default=False,
        description="Whether a Z-code may be the first diagnosis of any psychiatric service (some "
        "Medicaid child and EAP plans); most payers want F01-F99 first.",
    )
    z_code_primary_codes: list[ProcedureCode] = Field(
        default_factory=lambda: ["90791", "90792"],
        description="Codes whose first diagnosis may be a Z-code anyway (an evaluation that found no "
        "disorder, e.g. Z03.89).",
    )
    corrected_claim_method: CorrectedClaimMethod = Field(
        default=CorrectedClaimMethod.REPLACEMENT, description="How corrections are sent."
    )
    supervising_provider: SupervisingProviderPolicy = Field(
        default=SupervisingProviderPolicy.WHEN_SUPERVISED, description="When a supervising provider is named."
    )
    ncci_edits: bool = Field(default=True, description="Whether NCCI procedure-to-procedure edits apply.")
    bundling_pairs: list[BundlingPair] | None = Field(
        default=None,
        description="Same-day code pairs that bundle, replacing the built-in behavioural-health table; "
        "none = the built-in table.",
    )
    requires_eligibility_check: bool = Field(
        default=True, description="Hold a claim whose coverage has no eligibility result for the date."
    )
    forwards_crossover: bool = Field(
        default=False, description="Whether this payer forwards claims to the secondary payer itself."
    )
    claim_filing_indicator: ClaimFilingIndicator | None = Field(
        default=None,
        description="837P SBR09 for this payer's claims, e.g. HM or MC for a Medicaid managed-care "
        "plan as the plan asks; none = from the payer type (commercial CI, Medicare MB, Medicare "
        "Advantage 16, Medicaid MC, Medicaid MCO HM, TRICARE CH, other ZZ).",
    )


class PayerUpdated(Event):
    """A payer with its identifiers and billing rules."""

    payer_id: Id = Field(description="Opaque payer id used by every other event.")
    name: str = Field(min_length=1, max_length=60, description="Payer name.")
    payer_type: PayerType = Field(description="Commercial, Medicare, Medicaid...")
    electronic_payer_id: str = Field(
        min_length=1, max_length=80, description="Payer id used on 837/270 transactions (NM109 of 2010BB)."
    )
    clearinghouse_payer_ids: dict[str, str] = Field(
        default_factory=dict, description="Payer id per clearinghouse name, where they differ."
    )
    rules: PayerBillingRules = Field(default_factory=PayerBillingRules, description="Billing rules.")
    deleted: bool = Field(default=False, description="True when the payer is no longer billed.")
    updated_at: Timestamp = Field(description="When the source system changed this record.")


# ------------------------------------------------------------------ fee schedule


class FeeScheduleKind(StrEnum):
    """Whose prices a fee schedule holds."""

    CHARGE_MASTER = "charge_master"
    """The practice's own charges."""
    PAYER_CONTRACT = "payer_contract"
    """Rates a payer has contracted to allow."""


class FeeScheduleRate(EventModel):
    """The price of one code (with modifiers) per unit."""

    procedure_code: ProcedureCode = Field(description="CPT/HCPCS code.")
    modifiers: list[Modifier] = Field(
        default_factory=list, max_length=4, description="Modifiers this rate needs; empty = the base rate."
    )
    place_of_service: PlaceOfService | None = Field(
        default=None, description="POS the rate is limited to (facility/non-facility); none = any."
    )
    amount: NonNegativeMoney = Field(description="Charge or allowed amount per unit.")


class FeeScheduleUpdated(Event):
    """A charge master or a payer's contracted rates, in full."""

    fee_schedule_id: Id = Field(description="Opaque fee schedule id.")
    organization_id: Id = Field(description="Organization the schedule belongs to.")
    kind: FeeScheduleKind = Field(description="Charge master or payer contract.")
    payer_id: Id | None = Field(default=None, description="Payer of a contract; none for a charge master.")
    effective: Period = Field(description="Dates the rates apply to (by date of service).")
    rates: list[FeeScheduleRate] = Field(description="Rates by code and modifiers.")
    deleted: bool = Field(default=False, description="True when the schedule was withdrawn.")
    updated_at: Timestamp = Field(description="When the source system changed this record.")

    @model_validator(mode="after")
    def _payer_matches_kind(self) -> Self:
        if (self.kind is FeeScheduleKind.PAYER_CONTRACT) != (self.payer_id is not None):
            raise ValueError("a payer contract names its payer; a charge master names none")
        return self
