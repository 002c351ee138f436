"""The payer book of the sandbox: payers, plans, members and their rules, loaded from YAML.

Every payer difference is data here (fee schedules, auth lists, telehealth and licensure
modifier tables, bundled pairs, timely filing, CLM01 length, crossover); the adjudication
functions in ``rcm.sandbox.engine`` read these models and never branch on a payer id.
All member data in the example file is synthetic.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AuthOnFile",
    "CarveOut",
    "EarlierClaim",
    "LicensureRule",
    "Member",
    "Payer",
    "PayerBook",
    "Plan",
    "TelehealthRule",
]

#: Behavioral-health service type codes the 271 reports when a plan lists none.
DEFAULT_SERVICE_TYPES = ("30", "MH", "AI", "A6", "A8", "CF", "98")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AuthOnFile(_Model):
    """A prior authorization the payer has on file for a member."""

    number: str
    codes: list[str]
    start: date
    end: date
    units: int | None = None


class CarveOut(_Model):
    """Benefits managed by another payer (an MBHO), reported in the 271 as EB*R with LS/LE 2120."""

    payer_id: str
    payer_name: str
    service_types: list[str]


class EarlierClaim(_Model):
    """A service the payer already adjudicated on a claim from another system (e.g. the
    provider's previous billing system): billing it again is a duplicate (OA-18)."""

    service_date: date
    code: str


class Plan(_Model):
    id: str
    name: str
    #: EB04 insurance type (HM HMO, PR PPO, MC Medicaid, MA Medicare Part A...).
    insurance_type: str = "PR"
    group_number: str | None = None
    service_types: list[str] = Field(default_factory=lambda: list(DEFAULT_SERVICE_TYPES))
    copay: Decimal = Decimal("0")
    #: Coinsurance as a fraction of the allowed amount (0.20 = 20%).
    coinsurance: Decimal = Decimal("0")
    deductible: Decimal = Decimal("0")
    visit_limit: int | None = None


class Member(_Model):
    member_id: str
    first_name: str
    last_name: str
    birth_date: date
    gender: str = "U"
    plan: str
    coverage_start: date
    coverage_end: date | None = None
    deductible_met: Decimal = Decimal("0")
    visits_used: int = 0
    auths: list[AuthOnFile] = Field(default_factory=list)
    carve_out: CarveOut | None = None
    earlier_claims: list[EarlierClaim] = Field(default_factory=list)


class TelehealthRule(_Model):
    """Places of service that mean telehealth, and the modifiers the payer wants with them."""

    telehealth_pos: list[str] = Field(default_factory=lambda: ["02", "10"])
    #: Telehealth places of service the payer pays; others deny CO-5.
    allowed_pos: list[str] = Field(default_factory=lambda: ["02", "10"])
    #: One of these must be on a telehealth line (empty: none needed); missing denies CO-4.
    required_modifiers: list[str] = Field(default_factory=lambda: ["95"])
    #: Audio-only modifiers accepted instead of the video ones.
    audio_only_modifiers: list[str] = Field(default_factory=lambda: ["93", "FQ"])


class LicensureRule(_Model):
    """A rendering taxonomy that must carry a licensure/level modifier (e.g. 1041C0700X -> AJ)."""

    taxonomy: str
    modifier: str
    codes: list[str] | None = None


class Payer(_Model):
    id: str
    name: str
    #: Sandbox-specific id for the ICNs (CLP07) it assigns.
    icn_prefix: str = "SB"
    timely_filing_days: int = 365
    #: RARC added to CO-29 (e.g. N211 for Medicare: no appeal rights).
    timely_filing_rarc: str | None = None
    #: Contracted rate per unit by procedure code ("90837") or code and modifier ("90837:HO").
    fee_schedule: dict[str, Decimal] = Field(default_factory=dict)
    prior_auth_codes: list[str] = Field(default_factory=list)
    telehealth: TelehealthRule = Field(default_factory=TelehealthRule)
    licensure_modifiers: list[LicensureRule] = Field(default_factory=list)
    #: (column 1, column 2): the column-2 code billed the same day denies CO-97 unless a bypass modifier.
    bundled_pairs: list[tuple[str, str]] = Field(default_factory=list)
    bypass_modifiers: list[str] = Field(default_factory=lambda: ["59", "XE", "XS", "XP", "XU"])
    #: An organisation (entity type 2) billing without a rendering provider denies CO-16 with this RARC.
    missing_rendering_rarc: str | None = "N290"
    #: A code missing from the fee schedule denies CO-16 with this RARC.
    unlisted_code_rarc: str = "M51"
    #: Habit: CLM01 cut to this many characters in the 835 (CLP01).
    claim_id_max_length: int | None = None
    #: Habit: forward adjudicated claims to this secondary payer (CLP02 19, NM1*TT, MA18).
    crossover_to: str | None = None
    crossover_name: str | None = None
    #: Delay before the 835 for this payer (falls back to the sandbox setting).
    remit_delay_seconds: float | None = None
    plans: list[Plan] = Field(default_factory=list)
    members: list[Member] = Field(default_factory=list)

    def plan(self, plan_id: str) -> Plan:
        for plan in self.plans:
            if plan.id == plan_id:
                return plan
        raise KeyError(plan_id)

    def member(self, member_id: str) -> Member | None:
        for member in self.members:
            if member.member_id == member_id:
                return member
        return None

    def rate(self, code: str, modifiers: tuple[str, ...] = ()) -> Decimal | None:
        """The contracted per-unit rate, preferring a modifier-specific entry."""
        for modifier in modifiers:
            rate = self.fee_schedule.get(f"{code}:{modifier}")
            if rate is not None:
                return rate
        return self.fee_schedule.get(code)


class PayerBook(_Model):
    payers: list[Payer]

    def payer(self, payer_id: str) -> Payer | None:
        for payer in self.payers:
            if payer.id == payer_id:
                return payer
        return None
