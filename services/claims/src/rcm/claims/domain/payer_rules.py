"""Per-payer billing rules as data, with defaults from DOMAIN.md.

Every rule that differs between payers, plans or states lives here, so coding and the
claim edits never branch on who the payer is. The shape follows the payer rules of the
``payer-updated`` event; an adapter copies the fields across.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field

from rcm.claims.domain.bundling import DEFAULT_BUNDLING_PAIRS, BundlingPair
from rcm.claims.domain.codes import PSYCHOLOGICAL_TESTING_CODES
from rcm.claims.domain.common import Credential, DomainModel, Program
from rcm.claims.domain.session import Modifier, PlaceOfService, ProcedureCode
from rcm.events import models as events

__all__ = [
    "CLAIM_FILING_INDICATORS",
    "CRISIS_OUTSIDE_OFFICE_FROM",
    "CRISIS_OUTSIDE_OFFICE_SITES",
    "AuthRequirement",
    "ClaimFilingIndicator",
    "DistinctServiceModifierStyle",
    "LicensureModifierRule",
    "PayerRules",
    "SupervisingProviderPolicy",
    "TelehealthRules",
    "UnitRounding",
    "UnitRoundingRule",
]


CLAIM_FILING_INDICATORS = frozenset(code.value for code in events.ClaimFilingIndicator)
"""The 837P (005010X222A1) SBR09 claim filing indicator codes, as the payer-updated contract lists them."""


def _filing_indicator(code: str) -> str:
    if code not in CLAIM_FILING_INDICATORS:
        raise ValueError(f"{code!r} is not an 837P claim filing indicator (SBR09)")
    return code


ClaimFilingIndicator = Annotated[str, AfterValidator(_filing_indicator)]
"""An SBR09 claim filing indicator code: 11-17, AM, BL, CH, CI, DS, FI, HM, LM, MA, MB, MC, OF,
TV, VA, WC or ZZ."""


class TelehealthRules(DomainModel):
    """How the payer wants telehealth coded. Defaults follow Medicare since 2024: POS 02/10, no 95."""

    pos_patient_home: PlaceOfService = "10"
    pos_patient_not_home: PlaceOfService = "02"
    use_in_person_pos: bool = Field(
        default=False, description="Bill the POS the visit would have had in person (e.g. 11) instead."
    )
    video_modifiers: tuple[Modifier, ...] = Field(
        default=(), description="Modifiers for synchronous video: ('95',), ('GT',) or none."
    )
    audio_only_allowed: bool = True
    audio_only_modifiers: tuple[Modifier, ...] = Field(default=("93",), description="('93',) or ('FQ',).")
    audio_only_requires_patient_home: bool = Field(
        default=False, description="Audio-only is payable only with the patient at home (Medicare BH)."
    )
    in_person_pos_allowed_with_95: bool = Field(
        default=False, description="Whether an in-person POS such as 11 may carry modifier 95."
    )


class LicensureModifierRule(DomainModel):
    """One row of the modifier-policy table: append modifiers by credential, state, program and code."""

    credential: Credential | None = Field(default=None, description="Rendering credential; none = any.")
    state: str | None = Field(default=None, description="Patient's state; none = any state.")
    program: Program | None = Field(default=None, description="Program of the session; none = any.")
    procedure_codes: tuple[ProcedureCode, ...] = Field(default=(), description="Codes; empty = every code.")
    modifiers: tuple[Modifier, ...] = Field(min_length=1)

    def applies(self, *, credential: Credential, state: str, program: Program | None, code: str) -> bool:
        """True when this row matches the rendering credential, patient state, program and code."""
        return (
            (self.credential is None or self.credential is credential)
            and (self.state is None or self.state == state)
            and (self.program is None or self.program is program)
            and (not self.procedure_codes or code in self.procedure_codes)
        )

    def describe(self) -> str:
        """A short description for the coded line's rule text."""
        parts = [
            f"credential {self.credential.value}" if self.credential else "any credential",
            f"state {self.state}" if self.state else "any state",
        ]
        if self.program:
            parts.append(f"program {self.program.value}")
        return f"{'+'.join(self.modifiers)} for " + ", ".join(parts)


class AuthRequirement(DomainModel):
    """Prior authorization needed for a code, optionally after a number of visits."""

    procedure_code: ProcedureCode
    after_visits: int = Field(
        default=0, ge=0, description="Visits per benefit year before an auth is needed."
    )


class UnitRounding(StrEnum):
    """How minutes become units for codes billed per 15 minutes."""

    MIDPOINT = "midpoint"
    """A unit once more than half of it is done: 8 minutes of 15 (the '8-minute' convention)."""
    FULL_UNIT = "full_unit"
    """Only complete units count: 15 minutes per unit."""


class UnitRoundingRule(DomainModel):
    """Unit rounding for time-based HCPCS codes (state Medicaid rules differ)."""

    method: UnitRounding = UnitRounding.MIDPOINT
    minutes_per_unit: int = Field(
        default=15,
        ge=1,
        le=60,
        description="Minutes in one unit of a timed code whose HCPCS descriptor names no unit "
        "(the descriptor's 'per 15 minutes' or 'per hour' holds otherwise).",
    )
    minutes_per_unit_by_code: dict[str, int] = Field(
        default_factory=lambda: {"H2012": 60},
        description="Codes whose unit is not ``minutes_per_unit`` (H2012 day treatment is per hour).",
    )
    daily_unit_caps: dict[str, int] = Field(default_factory=dict, description="Most units per code per day.")

    def unit_minutes(self, code: str) -> int:
        """Minutes in one unit of ``code``."""
        return self.minutes_per_unit_by_code.get(code, self.minutes_per_unit)


class SupervisingProviderPolicy(StrEnum):
    """When the claim must name a supervising provider (loop 2310D)."""

    NEVER = "never"
    WHEN_SUPERVISED = "when_supervised"
    """Whenever the rendering clinician practises under supervision (pre-licensed)."""
    ALWAYS = "always"
    BILL_AS_SUPERVISOR = "bill_as_supervisor"
    """The supervisor renders on the claim (incident-to style); the associate is not named."""


class DistinctServiceModifierStyle(StrEnum):
    """Which modifier marks a documented distinct service."""

    X_MODIFIERS = "x_modifiers"
    """XE / XP / XS / XU by the documented reason (59 for 'other')."""
    MODIFIER_59 = "modifier_59"
    """Always 59."""


_TIMED_HCPCS = (
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
)


CRISIS_OUTSIDE_OFFICE_SITES: frozenset[str] = frozenset(
    {"03", "04", "05", "07", "09", "12", "13", "14", "15", "16", "17", "18", "20", "27", "32", "33"}
    | {"49", "54", "55", "57", "58", "62", "71", "99"}
)
"""Places of service paid at the physician fee schedule's non-facility rate other than the office
(11), where Medicare's G0017/+G0018 replace 90839/+90840: the patient's home (12), a mobile unit
(15), a school (03), a shelter (04) ... Telehealth (02, 10) and FQHC/RHC encounters (50, 72) are
not among them."""

CRISIS_OUTSIDE_OFFICE_FROM = date(2024, 1, 1)
"""G0017/+G0018 exist from this date of service (CY2024 physician fee schedule); before it, crisis
psychotherapy is 90839/+90840 wherever it was given."""


class PayerRules(DomainModel):
    """Everything about a payer that changes how a session is coded or a claim is checked."""

    payer_id: str | None = None
    medicare: bool = Field(
        default=False,
        description="The payer is Medicare fee-for-service (its claims as a later payer need the MSP type).",
    )
    crisis_outside_office_codes: bool | None = Field(
        default=None,
        description="Code psychotherapy for crisis given in person at a non-facility site other than the "
        "office (CRISIS_OUTSIDE_OFFICE_SITES: the patient's home, a mobile unit ...) as G0017/+G0018 "
        "instead of 90839/+90840. None: as Medicare fee-for-service does since 2024 (when ``medicare``).",
    )
    telehealth: TelehealthRules = Field(default_factory=TelehealthRules)
    licensure_modifiers: tuple[LicensureModifierRule, ...] = Field(
        default=(), description="Degree/licence/program modifiers; most commercial payers and Medicare: none."
    )
    distinct_service_modifier: DistinctServiceModifierStyle = DistinctServiceModifierStyle.X_MODIFIERS
    unit_rounding: UnitRoundingRule = Field(default_factory=UnitRoundingRule)
    timed_hcpcs_codes: tuple[ProcedureCode, ...] = Field(
        default=_TIMED_HCPCS,
        description="HCPCS codes defined per unit of time (15 minutes unless the rounding rule says "
        "otherwise); others are per encounter.",
    )
    prolonged_psychotherapy_as_two_units: bool = Field(
        default=False, description="Opt-in: bill a long session as 2 units of 90834 (not CPT convention)."
    )
    prolonged_psychotherapy_from_minutes: int = Field(
        default=90,
        ge=53,
        description="Minutes from which 2 x 90834 is billed; below 76 (38 a unit) reads as 76.",
    )
    modifier_25_on_em_with_psychotherapy: bool = Field(
        default=False,
        description="Append 25 to the E/M billed with +90833/+90836/+90838. CPT and CMS do not ask "
        "for it (the add-on already says the psychotherapy went with the E/M); some payers do.",
    )
    z_code_primary_allowed: bool = Field(
        default=False,
        description="The payer pays psychiatric services whose first diagnosis is a Z-code (some "
        "Medicaid child and EAP plans); most want a mental disorder (F01-F99) first.",
    )
    z_code_primary_codes: tuple[ProcedureCode, ...] = Field(
        default=("90791", "90792"),
        description="Codes whose first diagnosis may be a Z-code anyway: an evaluation that found "
        "no disorder (e.g. Z03.89).",
    )
    auth_requirements: tuple[AuthRequirement, ...] = Field(
        default=tuple(AuthRequirement(procedure_code=code) for code in sorted(PSYCHOLOGICAL_TESTING_CODES)),
        description="Codes needing prior authorization; psychological testing by default.",
    )
    timely_filing_days: int = Field(default=365, ge=1, description="Days from the date of service to file.")
    timely_filing_months: int | None = Field(
        default=None,
        ge=1,
        le=120,
        description="Calendar months from the date of service to file (Medicare: 12); in place of the days.",
    )
    timely_filing_warning_days: int = Field(default=14, ge=0, description="Warn this many days before.")
    supervising_provider: SupervisingProviderPolicy = SupervisingProviderPolicy.WHEN_SUPERVISED
    ncci_edits: bool = True
    bundling_pairs: tuple[BundlingPair, ...] = DEFAULT_BUNDLING_PAIRS
    requires_eligibility_check: bool = Field(
        default=True, description="Hold a claim whose coverage has no eligibility result for the date."
    )
    claim_filing_indicator: ClaimFilingIndicator | None = Field(
        default=None,
        description="SBR09 on this payer's claims (a Medicaid managed-care plan: HM or MC, as the plan "
        "asks); none = the payer type's (commercial CI, Medicare MB, Medicaid MC, Medicaid MCO HM...).",
    )

    def auth_requirement(self, code: str) -> AuthRequirement | None:
        """The prior-authorization requirement for ``code``, if the payer has one."""
        return next((req for req in self.auth_requirements if req.procedure_code == code), None)

    @property
    def audio_only_needs_patient_home(self) -> bool:
        """Whether audio-only is payable only with the patient at home: the telehealth rules say so,
        or the payer is Medicare fee-for-service, which pays audio-only telehealth only to a patient
        at home (42 CFR 410.78(a)(3))."""
        return self.telehealth.audio_only_requires_patient_home or self.medicare

    def crisis_outside_office(self, place_of_service: str, date_of_service: date | None = None) -> bool:
        """Whether psychotherapy for crisis in person at ``place_of_service`` (on ``date_of_service``,
        when given: the codes are valid from CRISIS_OUTSIDE_OFFICE_FROM) is G0017/+G0018 for this payer."""
        applies = (
            self.medicare if self.crisis_outside_office_codes is None else self.crisis_outside_office_codes
        )
        if date_of_service is not None and date_of_service < CRISIS_OUTSIDE_OFFICE_FROM:
            return False
        return applies and place_of_service in CRISIS_OUTSIDE_OFFICE_SITES
