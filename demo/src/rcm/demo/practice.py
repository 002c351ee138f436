"""A synthetic multi-state behavioral-health practice, and the payers that pay it.

``generate_practice(scale)`` returns everything the demo publishes (reference data,
authorizations, appointments and a month of sessions, in publishing order) and the
sandbox payer book that holds the same members, plans and authorizations on the
payers' side. Every name, id and date of birth is synthetic.

The month carries the mistakes real practices make, so that each part of the cycle
has work to do:

- notes left unsigned (not billable until signed);
- a payer whose telehealth modifier is missing from the practice's rules (CO-4,
  fixed automatically by adding it);
- patients of an auth-requiring payer without an authorization (CO-197 or held);
- coverage the payer has terminated while the practice still has it open
  (eligibility finds it; claims that slip through deny CO-27);
- a clinician not yet enrolled with one payer (held for credentialing);
- a payer paying under its contract on one code (an underpayment);
- authorizations a payer granted after the claims went out (CO-197, resubmitted with REF*G1);
- a payer whose filing limit is shorter than the practice's rules say, and notes finished
  months late (CO-29 on a claim the payer acknowledged inside the practice's window: a person
  checks the limit before anything is written off);
- sessions of the first days that the practice's previous billing system had already billed
  (the payer has those claims on file: OA-18, never resubmitted);
- patients whose benefits are carved out to a behavioral-health plan;
- patients who mention their second plan only after the first one paid (the secondary coverage
  is recorded once the month settled: the patient shares waiting for it are billed to it).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from rcm.events import models as m
from rcm.events.types import npi_check_digit

__all__ = ["PAYERS", "Practice", "Scale", "generate_practice"]


@dataclass(frozen=True)
class Scale:
    """How big a practice to generate."""

    providers: int = 120
    patients: int = 2000
    days: int = 30
    seed: int = 20251

    @classmethod
    def small(cls) -> Scale:
        """A practice small enough for an end-to-end test in CI."""
        return cls(providers=12, patients=60, days=14)


STATES = {
    "NY": "America/New_York",
    "NJ": "America/New_York",
    "PA": "America/New_York",
    "MA": "America/New_York",
    "CT": "America/New_York",
    "FL": "America/New_York",
}

ORGANIZATIONS = [
    ("org-northeast", "Northeast Counseling Group PLLC", ["NY", "NJ", "CT"]),
    ("org-keystone", "Keystone Behavioral Health LLC", ["PA", "MA"]),
    ("org-sunshine", "Sunshine Mind Health PA", ["FL"]),
]

# credential -> (NUCC taxonomy, share of providers, can prescribe, can test)
CREDENTIALS: dict[str, tuple[str, float]] = {
    "LCSW": ("1041C0700X", 0.30),
    "LPC": ("101YP2500X", 0.22),
    "LMFT": ("106H00000X", 0.12),
    "PsyD": ("103T00000X", 0.08),
    "PhD": ("103T00000X", 0.06),
    "MD": ("2084P0800X", 0.06),
    "NP": ("363LP0808X", 0.08),
    "LMSW": ("1041C0700X", 0.08),
}
PRESCRIBERS = {"MD", "NP"}
TESTERS = {"PsyD", "PhD"}
# Medicaid licensure modifiers: AJ clinical social worker, HO master's-level counselor, AH psychologist
LICENSURE_MODIFIER = {"LCSW": "AJ", "LMSW": "AJ", "LPC": "HO", "LMFT": "HO", "PsyD": "AH", "PhD": "AH"}

CHARGE_MASTER = {
    "90791": "250.00", "90792": "300.00", "90832": "110.00", "90834": "150.00", "90837": "190.00",
    "90833": "80.00", "90836": "100.00", "90838": "130.00", "90839": "220.00", "90840": "110.00",
    "90846": "150.00", "90847": "160.00", "90853": "60.00", "90785": "25.00", "99213": "120.00",
    "99214": "170.00", "96130": "200.00", "96131": "160.00", "H0004": "35.00", "G0017": "330.00",
    "G0018": "165.00",
}  # fmt: skip


@dataclass(frozen=True)
class PayerSpec:
    """One payer as both sides see it: the practice's rules and the payer's own behaviour."""

    payer_id: str
    name: str
    payer_type: str
    states: tuple[str, ...]
    share: float  # share of primary coverages in its states
    rate_factor: Decimal  # contracted rate as a share of the charge master
    practice_rules: dict[str, Any]
    sandbox: dict[str, Any]
    plans: tuple[dict[str, Any], ...]
    underpays: dict[str, Decimal] = field(default_factory=dict)  # code -> amount under contract


_AUTH_CODES = ["90791", "90832", "90834", "90837", "90846", "90847"]

PAYERS: tuple[PayerSpec, ...] = (
    PayerSpec(
        "MCRLK", "Medicare-Like Part B", "medicare", tuple(STATES), 0.16, Decimal("0.55"),
        {"telehealth": {"video_modifiers": [], "audio_only_modifiers": ["93"]}, "timely_filing_days": 365,
         "timely_filing_months": 12, "forwards_crossover": True},
        {"telehealth": {"required_modifiers": [], "audio_only_modifiers": ["93"]}, "timely_filing_days": 365,
         "timely_filing_rarc": "N211", "crossover_to": "UNITYC", "crossover_name": "Unity Commercial"},
        ({"id": "PARTB", "name": "Part B", "insurance_type": "MB", "coinsurance": "0.20", "deductible": "240.00"},),
    ),
    PayerSpec(
        "MCDNY", "Empire State Medicaid Managed Care", "medicaid_mco", ("NY",), 0.30, Decimal("0.50"),
        {"telehealth": {"video_modifiers": ["95"]}, "timely_filing_days": 90,
         "licensure_modifiers": [{"credential": c, "modifiers": [mod]} for c, mod in LICENSURE_MODIFIER.items()],
         "unit_rounding": {"method": "full_unit"}},
        {"telehealth": {"required_modifiers": ["95"]}, "timely_filing_days": 90,
         "prior_auth_codes": ["90832", "90834", "90837"],
         "licensure_modifiers": [{"taxonomy": CREDENTIALS[c][0], "modifier": mod}
                                 for c, mod in LICENSURE_MODIFIER.items() if c in ("LCSW", "PsyD")]},
        ({"id": "MCD", "name": "Medicaid Managed Care", "insurance_type": "MC"},),
    ),
    PayerSpec(
        "MCDPA", "Keystone Medicaid Health Partners", "medicaid_mco", ("PA",), 0.30, Decimal("0.48"),
        {"telehealth": {"video_modifiers": ["95"]}, "timely_filing_days": 180,
         "licensure_modifiers": [{"credential": c, "modifiers": [mod]} for c, mod in LICENSURE_MODIFIER.items()],
         "auth_requirements": [{"procedure_code": "H0004"}]},
        {"telehealth": {"required_modifiers": ["95"]}, "timely_filing_days": 180, "prior_auth_codes": ["H0004"],
         "licensure_modifiers": [{"taxonomy": CREDENTIALS[c][0], "modifier": mod}
                                 for c, mod in LICENSURE_MODIFIER.items() if c in ("LCSW", "PsyD")]},
        ({"id": "MCD", "name": "Medicaid Managed Care", "insurance_type": "MC"},),
    ),
    PayerSpec(
        "MINDBH", "Mindful Behavioral Health Partners", "commercial", ("NJ",), 0.0, Decimal("0.70"),
        {"telehealth": {"video_modifiers": ["95"]}, "timely_filing_days": 180},
        {"telehealth": {"required_modifiers": ["95"]}, "timely_filing_days": 180},
        ({"id": "MBH", "name": "Managed Behavioral Health", "insurance_type": "HM", "copay": "20.00"},),
    ),
    PayerSpec(
        # the practice's rules forgot this payer's telehealth modifier: its video claims deny CO-4
        "EVRGRN", "Evergreen Health Plan", "commercial", ("NY", "NJ", "CT"), 0.40, Decimal("0.75"),
        {"telehealth": {"video_modifiers": []}, "timely_filing_days": 90},
        {"telehealth": {"required_modifiers": ["95"]}, "timely_filing_days": 90, "claim_id_max_length": 20,
         "prior_auth_codes": ["96130", "96131"], "bundled_pairs": [["90791", "90837"], ["90853", "90834"]]},
        ({"id": "PPO", "name": "Evergreen PPO", "insurance_type": "PR", "copay": "25.00", "visit_limit": 30},
         {"id": "HDHP", "name": "Evergreen HDHP", "insurance_type": "PR", "coinsurance": "0.20",
          "deductible": "1500.00"}),
    ),
    PayerSpec(
        "ACMEHP", "Acme Health Plan", "commercial", ("MA", "CT", "FL"), 0.45, Decimal("0.72"),
        # the practice's rules say a year to file; the payer allows 90 days
        {"telehealth": {"video_modifiers": ["GT"]}, "timely_filing_days": 365},
        {"telehealth": {"required_modifiers": ["GT", "95"]}, "timely_filing_days": 90},
        ({"id": "POS", "name": "Acme Point of Service", "insurance_type": "PS", "copay": "30.00"},),
        underpays={"90837": Decimal("8.00")},
    ),
    PayerSpec(
        "BLUEHS", "Blue Horizon Shield", "commercial", ("PA", "NJ", "FL"), 0.40, Decimal("0.78"),
        {"telehealth": {"video_modifiers": ["95"]}, "timely_filing_days": 180,
         "auth_requirements": [{"procedure_code": c} for c in _AUTH_CODES]},
        {"telehealth": {"required_modifiers": ["95"]}, "timely_filing_days": 180, "prior_auth_codes": _AUTH_CODES},
        ({"id": "EPO", "name": "Blue Horizon EPO", "insurance_type": "EP", "copay": "20.00", "coinsurance": "0.10",
          "deductible": "500.00"},),
    ),
    PayerSpec(
        "UNITYC", "Unity Commercial", "commercial", tuple(STATES), 0.10, Decimal("0.70"),
        {"telehealth": {"video_modifiers": ["95"]}, "timely_filing_days": 365},
        {"telehealth": {"required_modifiers": ["95"]}, "timely_filing_days": 365},
        ({"id": "SUPP", "name": "Unity Supplement", "insurance_type": "C1", "coinsurance": "0.0"},),
    ),
)  # fmt: skip
PAYER_BY_ID = {p.payer_id: p for p in PAYERS}


def _npi(n: int) -> str:
    stem = f"1{n % 10**8:08d}"
    return stem + str(npi_check_digit(stem))


def _tin(n: int) -> str:
    return f"99{n % 10**7:07d}"


def _satellite_office(state: str) -> dict[str, Any]:
    """A clinic site in ``state`` away from the billing address: its sessions name it (837P 2310C)."""
    return {
        "name": f"Synthetic Satellite Clinic {state}",
        "address": {
            "line1": "7 Example Satellite Rd",
            "city": "Sampleton",
            "state": state,
            "postal_code": f"{20000 + sum(map(ord, state)):05d}1234",  # ZIP+4
        },
    }


def _money(value: Decimal | str) -> str:
    return f"{Decimal(value):.2f}"


@dataclass
class Practice:
    """What the demo publishes, in order, and the payers' side of the same world."""

    start: date
    end: date
    reference: list[m.Event] = field(default_factory=list)
    authorizations: list[m.Event] = field(default_factory=list)
    # authorizations the payer granted retroactively: the practice records them after the sessions
    late_authorizations: list[m.Event] = field(default_factory=list)
    # secondary coverages the patients reported after the primary paid: recorded once the month settled
    late_coverages: list[m.Event] = field(default_factory=list)
    appointments: list[m.Event] = field(default_factory=list)
    sessions: list[m.SessionCompleted] = field(default_factory=list)
    payer_book: dict[str, Any] = field(default_factory=dict)
    mistakes: dict[str, int] = field(default_factory=dict)

    def events(self) -> list[m.Event]:
        return [
            *self.reference,
            *self.authorizations,
            *self.appointments,
            *self.sessions,
            *self.late_authorizations,
            *self.late_coverages,
        ]

    def counts(self) -> dict[str, int]:
        kinds: dict[str, int] = {}
        for event in [*self.reference, *self.late_coverages]:
            kinds[type(event).__name__] = kinds.get(type(event).__name__, 0) + 1
        return {
            **kinds,
            "authorizations": len(self.authorizations) + len(self.late_authorizations),
            "appointments": len(self.appointments),
            "sessions": len(self.sessions),
        }


class _Generator:
    def __init__(self, scale: Scale, today: date) -> None:
        self.scale = scale
        self.rng = random.Random(scale.seed)
        self.end = today - timedelta(days=1)
        self.start = self.end - timedelta(days=scale.days - 1)
        self.stamp = datetime.combine(self.start - timedelta(days=45), time(8), UTC)
        self.practice = Practice(start=self.start, end=self.end)
        self.members: dict[str, list[dict[str, Any]]] = {p.payer_id: [] for p in PAYERS}
        self.mistakes: dict[str, int] = {}
        self.providers_by_state: dict[str, list[m.ProviderUpdated]] = {s: [] for s in STATES}
        self.credential: dict[str, str] = {}
        # sessions the previous billing system could have billed: (session, the payer's member record)
        self.rebillable: list[tuple[m.SessionCompleted, dict[str, Any]]] = []

    def note(self, mistake: str) -> None:
        self.mistakes[mistake] = self.mistakes.get(mistake, 0) + 1

    # ------------------------------------------------------------------ reference data
    def organizations(self) -> None:
        for n, (org_id, name, states) in enumerate(ORGANIZATIONS, start=1):
            self.practice.reference.append(
                m.OrganizationUpdated.model_validate(
                    {
                        "organization_id": org_id,
                        "legal_name": name,
                        "tin": _tin(n * 1117),
                        "group_npi": _npi(90_000 + n),
                        "taxonomy_code": "261QM0801X",
                        "billing_address": {
                            "line1": f"{100 * n} Synthetic Plaza",
                            "city": "Testville",
                            "state": states[0],
                            "postal_code": f"{10000 + n * 1111:05d}{1000 + n:04d}",  # ZIP+4
                        },
                        "states": states,
                        "payer_ids": [
                            p.payer_id for p in PAYERS if set(p.states) & set(states) or p.share == 0
                        ],
                        "updated_at": self.stamp,
                    }
                )
            )

    def payers(self) -> None:
        for spec in PAYERS:
            self.practice.reference.append(
                m.PayerUpdated.model_validate(
                    {
                        "payer_id": spec.payer_id,
                        "name": spec.name,
                        "payer_type": spec.payer_type,
                        "electronic_payer_id": spec.payer_id,
                        "rules": spec.practice_rules,
                        "updated_at": self.stamp,
                    }
                )
            )
        for org_id, _, _ in ORGANIZATIONS:
            self.practice.reference.append(
                m.FeeScheduleUpdated.model_validate(
                    {
                        "fee_schedule_id": f"fee-{org_id}",
                        "organization_id": org_id,
                        "kind": "charge_master",
                        "effective": {"start": date(self.start.year - 1, 1, 1)},
                        "rates": [{"procedure_code": c, "amount": a} for c, a in CHARGE_MASTER.items()],
                        "updated_at": self.stamp,
                    }
                )
            )
            for spec in PAYERS:
                self.practice.reference.append(
                    m.FeeScheduleUpdated.model_validate(
                        {
                            "fee_schedule_id": f"fee-{org_id}-{spec.payer_id}".lower(),
                            "organization_id": org_id,
                            "kind": "payer_contract",
                            "payer_id": spec.payer_id,
                            "effective": {"start": date(self.start.year - 1, 1, 1)},
                            "rates": [
                                {"procedure_code": c, "amount": _money(Decimal(a) * spec.rate_factor)}
                                for c, a in CHARGE_MASTER.items()
                            ],
                            "updated_at": self.stamp,
                        }
                    )
                )

    def providers(self) -> None:
        creds = list(CREDENTIALS)
        weights = [CREDENTIALS[c][1] for c in creds]
        states = list(STATES)
        supervisors: dict[str, list[str]] = {s: [] for s in STATES}
        for n in range(1, self.scale.providers + 1):
            cred = self.rng.choices(creds, weights)[0]
            home = states[(n - 1) % len(states)]
            org_id = next(o for o, _, st in ORGANIZATIONS if home in st)
            org_states = next(st for o, _, st in ORGANIZATIONS if o == org_id)
            licensed = [home] + [s for s in org_states if s != home and self.rng.random() < 0.2]
            provider_id = f"prov-{n:04d}"
            enrollments = []
            for spec in PAYERS:
                for state in licensed:
                    if state not in spec.states and spec.share > 0 and spec.payer_id != "UNITYC":
                        continue
                    if spec.payer_id == "MINDBH" and state != "NJ":
                        continue
                    if self.rng.random() < 0.03:
                        self.note("clinician not enrolled with a payer")
                        continue
                    enrollments.append(
                        {
                            "payer_id": spec.payer_id,
                            "state": state,
                            "network_status": "in_network",
                            "organization_id": org_id,
                            "valid": {"start": date(self.start.year - 2, 1, 1)},
                        }
                    )
            supervision = []
            if cred == "LMSW" and supervisors[home]:
                supervision.append(
                    {
                        "supervisor_provider_id": self.rng.choice(supervisors[home]),
                        "valid": {"start": date(self.start.year - 1, 1, 1)},
                    }
                )
            provider = m.ProviderUpdated.model_validate(
                {
                    "provider_id": provider_id,
                    "organization_ids": [org_id],
                    "npi": _npi(n),
                    "name": {"first": "Test", "last": f"Clinician {n:04d}"},
                    "taxonomy_code": CREDENTIALS[cred][0],
                    "credential": cred,
                    "licenses": [
                        {
                            "state": s,
                            "license_type": cred,
                            "number": f"SYN-{s}-{n:05d}",
                            "valid": {
                                "start": date(self.start.year - 3, 1, 1),
                                "end": date(self.start.year + 2, 12, 31),
                            },
                        }
                        for s in licensed
                    ],
                    "supervisors": supervision,
                    "enrollments": enrollments,
                    "updated_at": self.stamp,
                }
            )
            if cred == "LCSW":
                supervisors[home].append(provider_id)
            self.credential[provider_id] = cred
            for s in licensed:
                self.providers_by_state[s].append(provider)
            self.practice.reference.append(provider)

    # ------------------------------------------------------------------ patients
    def _member(self, payer: PayerSpec, patient_n: int, plan: dict[str, Any], **extra: Any) -> dict[str, Any]:
        member = {
            "member_id": f"{payer.payer_id[:3]}{patient_n:07d}",
            "first_name": "TEST",
            "last_name": f"PATIENT {patient_n:05d}",
            "birth_date": date(1960, 1, 1) + timedelta(days=(patient_n * 97) % 18000),
            "gender": "U",
            "plan": plan["id"],
            "coverage_start": date(self.start.year - 1, 1, 1),
            **extra,
        }
        self.members[payer.payer_id].append(member)
        return member

    def _coverage(
        self, patient_n: int, patient_id: str, payer: PayerSpec, priority: str, plan: dict[str, Any]
    ) -> m.CoverageUpdated:
        return m.CoverageUpdated.model_validate(
            {
                "coverage_id": f"cov-{patient_n:05d}-{priority[0]}",
                "patient_id": patient_id,
                "payer_id": payer.payer_id,
                "plan_name": plan["name"],
                "plan_id": plan["id"],
                "member_id": f"{payer.payer_id[:3]}{patient_n:07d}",
                "group_number": f"G{payer.payer_id[:3]}{plan['id']}",
                "relationship": "self",
                "priority": priority,
                "effective": {"start": date(self.start.year - 1, 1, 1)},
                "updated_at": self.stamp,
            }
        )

    def patients(self) -> None:
        states = list(STATES)
        for n in range(1, self.scale.patients + 1):
            state = states[self.rng.randrange(len(states))]
            if not self.providers_by_state[state]:
                state = next(s for s in states if self.providers_by_state[s])
            provider = self.rng.choice(self.providers_by_state[state])
            org_id = provider.organization_ids[0]
            patient_id = f"pat-{n:05d}"
            self.practice.reference.append(
                m.PatientUpdated.model_validate(
                    {
                        "patient_id": patient_id,
                        "organization_id": org_id,
                        "name": {"first": "Test", "last": f"Patient {n:05d}"},
                        "birth_date": date(1960, 1, 1) + timedelta(days=(n * 97) % 18000),
                        "sex": "U",
                        "address": {
                            "line1": f"{n} Synthetic Street",
                            "city": "Testville",
                            "state": state,
                            "postal_code": "10001",
                        },
                        "time_zone": STATES[state],
                        "updated_at": self.stamp,
                    }
                )
            )
            candidates = [p for p in PAYERS if state in p.states and p.share > 0]
            primary = self.rng.choices(candidates, [p.share for p in candidates])[0]
            plan = self.rng.choice(primary.plans)
            extra: dict[str, Any] = {}
            if self.rng.random() < 0.03:
                # the payer ended the coverage mid-month; the practice does not know yet
                extra["coverage_end"] = self.start + timedelta(days=self.scale.days // 2)
                self.note("coverage terminated by the payer")
            if primary.payer_id == "EVRGRN" and state == "NJ" and self.rng.random() < 0.25:
                extra["carve_out"] = {
                    "payer_id": "MINDBH",
                    "payer_name": PAYER_BY_ID["MINDBH"].name,
                    "service_types": ["MH", "A6", "A8"],
                }
                self._member(PAYER_BY_ID["MINDBH"], n, PAYER_BY_ID["MINDBH"].plans[0])
                self.note("benefits carved out to a behavioral-health plan")
            auth_codes = [r["procedure_code"] for r in primary.practice_rules.get("auth_requirements", [])]
            retro = not auth_codes and bool(primary.sandbox.get("prior_auth_codes"))
            auth_codes = auth_codes or list(primary.sandbox.get("prior_auth_codes", []))
            auths: list[dict[str, Any]] = []
            if auth_codes:
                if self.rng.random() < 0.9:
                    auths.append(
                        {
                            "number": f"SYNAUTH{n:06d}",
                            "codes": auth_codes,
                            "start": self.start - timedelta(days=30),
                            "end": self.end + timedelta(days=60),
                            "units": 12 if primary.payer_id != "MCDPA" else 40,
                        }
                    )
                else:
                    self.note("authorization missing")
            member = self._member(primary, n, plan, auths=auths, **extra)
            coverage = self._coverage(n, patient_id, primary, "primary", plan)
            self.practice.reference.append(coverage)
            if retro and auths:
                self.note("authorization granted after the sessions")
            for a in auths:
                (self.practice.late_authorizations if retro else self.practice.authorizations).append(
                    m.AuthorizationReceived.model_validate(
                        {
                            "authorization_id": f"auth-{n:05d}",
                            "patient_id": patient_id,
                            "coverage_id": coverage.coverage_id,
                            "payer_id": primary.payer_id,
                            "auth_number": a["number"],
                            "valid": {"start": a["start"], "end": a["end"]},
                            "unit": "units" if primary.payer_id == "MCDPA" else "visits",
                            "authorized": a["units"],
                            "procedure_codes": a["codes"],
                            "received_at": self.stamp,
                        }
                    )
                )
            if primary.payer_id != "UNITYC" and self.rng.random() < 0.12:
                secondary = PAYER_BY_ID["UNITYC"]
                self._member(secondary, n, secondary.plans[0])
                # half of them tell the practice late (not drawn from the generator, so that the rest
                # of the month stays as it was)
                told_late = n % 2 == 0
                (self.practice.late_coverages if told_late else self.practice.reference).append(
                    self._coverage(n, patient_id, secondary, "secondary", secondary.plans[0])
                )
                if told_late:
                    self.note("secondary coverage reported after the primary paid")
            self._sessions(n, patient_id, org_id, state, provider, primary, member)

    # ------------------------------------------------------------------ the month
    def _sessions(
        self,
        n: int,
        patient_id: str,
        org_id: str,
        state: str,
        provider: m.ProviderUpdated,
        payer: PayerSpec,
        member: dict[str, Any],
    ) -> None:
        zone = ZoneInfo(STATES[state])
        cred = self.credential[provider.provider_id]
        count = self.rng.choice((1, 2, 2, 3, 4))
        days = sorted(self.rng.sample(range(self.scale.days), min(count, self.scale.days)))
        late_filer = payer.payer_id == "ACMEHP" and self.rng.random() < 0.15
        for k, day in enumerate(days):
            dos = self.start + timedelta(days=day)
            if late_filer and k == 0:
                # a note finished months late: inside the practice's filing window, outside the payer's
                dos = self.end - timedelta(days=self.rng.randrange(100, 130))
                self.note("session billed after the payer's filing limit")
            start = datetime.combine(dos, time(9 + (n + k) % 9, 0), zone)
            kind, minutes, extra = self._kind(k, cred, payer)
            modality = self.rng.choices(("video", "in_person", "audio_only"), (0.55, 0.37, 0.08))[0]
            if kind in ("group", "testing", "intake") and modality == "audio_only":
                modality = "video"
            at_home = modality != "in_person" and self.rng.random() < 0.85
            if modality == "audio_only" and payer.payer_type == "medicare":
                # Medicare pays audio-only only with the patient at home: such visits are booked so
                at_home = True
            # an in-person crisis session is a mobile crisis visit at the patient's home every other
            # time (no draw: the month's random stream stays as it was); Medicare codes it G0017
            home_visit = kind == "crisis" and modality == "in_person" and (n + k) % 2 == 0
            signed = self.rng.random() > 0.015
            if not signed:
                self.note("note not signed")
            session_id = f"ses-{n:05d}-{k + 1}"
            appointment_id = f"appt-{n:05d}-{k + 1}"
            supervisor = provider.supervisors[0].supervisor_provider_id if provider.supervisors else None
            self.practice.appointments.append(
                m.AppointmentScheduled.model_validate(
                    {
                        "appointment_id": appointment_id,
                        "patient_id": patient_id,
                        "organization_id": org_id,
                        "provider_id": provider.provider_id,
                        "start": start,
                        "end": start + timedelta(minutes=minutes),
                        "service_kind": kind,
                        "modality": modality,
                        "scheduled_at": start - timedelta(days=7),
                    }
                )
            )
            participants = [{"role": "patient"}]
            if kind in ("family_with_patient",):
                participants.append({"role": "family_member"})
            if kind == "family_without_patient":
                participants = [{"role": "family_member"}]
            session = m.SessionCompleted.model_validate(
                {
                    "session_id": session_id,
                    "appointment_id": appointment_id,
                    "patient_id": patient_id,
                    "organization_id": org_id,
                    "rendering_provider_id": provider.provider_id,
                    "supervising_provider_id": supervisor,
                    "start": start,
                    "end": start + timedelta(minutes=minutes),
                    "time_zone": STATES[state],
                    "service_kind": kind,
                    "participants": participants,
                    "modality": modality,
                    "place_of_service": "12" if home_visit else "11",
                    "patient_location": {"state": state, "at_home": at_home or home_visit},
                    # one in-person visit in four is at a satellite clinic (no draw: the month's
                    # random stream stays as it was)
                    "service_location": _satellite_office(state)
                    if modality == "in_person" and (n + k) % 4 == 0 and not home_visit
                    else None,
                    "diagnoses": self.rng.choice(
                        (["F41.1"], ["F33.1", "F41.1"], ["F43.10"], ["F90.0"], ["F32.A"])
                    ),
                    "interactive_complexity": kind == "individual" and self.rng.random() < 0.04,
                    "note_signed": signed,
                    "note_signed_at": start + timedelta(minutes=minutes + 45) if signed else None,
                    **extra,
                }
            )
            self.practice.sessions.append(session)
            if self._rebillable(session, provider, payer, member, late=late_filer and k == 0):
                self.rebillable.append((session, member))

    def _rebillable(
        self,
        session: m.SessionCompleted,
        provider: m.ProviderUpdated,
        payer: PayerSpec,
        member: dict[str, Any],
        *,
        late: bool,
    ) -> bool:
        """A session of the first week whose claim nothing but a duplicate would stop: signed,
        in person, 53+ minutes (90837), a commercial payer that needs no authorization for it."""
        state = session.patient_location.state if session.patient_location else None
        auth_codes = {r["procedure_code"] for r in payer.practice_rules.get("auth_requirements", [])}
        auth_codes |= set(payer.sandbox.get("prior_auth_codes", []))
        return (
            not late
            and session.service_kind == "individual"
            and session.modality == "in_person"
            and session.note_signed
            and not session.interactive_complexity
            and session.end - session.start >= timedelta(minutes=53)
            and session.start.date() < self.start + timedelta(days=7)
            and payer.payer_type == "commercial"
            and "90837" not in auth_codes
            and "coverage_end" not in member
            and "carve_out" not in member
            and self.credential[provider.provider_id] != "LMSW"
            and any(e.payer_id == payer.payer_id and e.state == state for e in provider.enrollments)
        )

    def billed_by_previous_system(self) -> None:
        """The practice changed billing systems as the month began, and the previous system had
        already billed a few sessions of the first week: the payer has those claims on file."""
        if not self.rebillable:
            return
        rng = random.Random(self.scale.seed + 18)  # a stream of its own: the rest of the month is unchanged
        for session, member in rng.sample(self.rebillable, max(1, round(0.05 * len(self.rebillable)))):
            member.setdefault("earlier_claims", []).append(
                {"service_date": session.start.date(), "code": "90837"}
            )
            self.note("session already billed by the previous billing system")

    def _kind(self, k: int, cred: str, payer: PayerSpec) -> tuple[str, int, dict[str, Any]]:
        r = self.rng
        if k == 0 and r.random() < 0.35:
            return "intake", r.choice((50, 60, 75)), {}
        roll = r.random()
        if cred in PRESCRIBERS and roll < 0.45:
            return (
                "em_with_psychotherapy",
                45,
                {"em_code": r.choice(("99213", "99214")), "psychotherapy_minutes": r.choice((20, 30, 40))},
            )
        if cred in TESTERS and roll < 0.08:
            return "testing", r.choice((60, 120)), {"service_code": "96130"}
        if payer.payer_type == "medicaid_mco" and roll < 0.12:
            return (
                "hcpcs_service",
                r.choice((30, 45, 60)),
                {"service_code": "H0004", "program": "substance_use"},
            )
        if roll < 0.06:
            return "family_with_patient", r.choice((50, 55)), {}
        if roll < 0.09:
            return "group", 90, {"group_size": r.choice((4, 6, 8))}
        if roll < 0.11:
            return "crisis", r.choice((45, 80, 110)), {}
        minutes = r.choice((30, 38, 45, 50, 53, 55, 58, 60, 60, 62, 75))
        return "individual", minutes, {}

    # ------------------------------------------------------------------ the payers' side
    def payer_book(self) -> None:
        payers = []
        for spec in PAYERS:
            fee = {
                c: float(Decimal(a) * spec.rate_factor - spec.underpays.get(c, Decimal(0)))
                for c, a in CHARGE_MASTER.items()
            }
            payers.append(
                {
                    "id": spec.payer_id,
                    "name": spec.name,
                    "icn_prefix": spec.payer_id[:2],
                    "fee_schedule": {c: round(v, 2) for c, v in fee.items()},
                    **spec.sandbox,
                    "plans": [
                        {
                            k: (float(v) if k in ("copay", "coinsurance", "deductible") else v)
                            for k, v in plan.items()
                        }
                        for plan in spec.plans
                    ],
                    "members": self.members[spec.payer_id],
                }
            )
            if spec.underpays:
                self.note("payer pays under contract")
        self.practice.payer_book = {"payers": payers}

    def run(self) -> Practice:
        self.organizations()
        self.payers()
        self.providers()
        self.patients()
        self.billed_by_previous_system()
        self.payer_book()
        self.practice.mistakes = dict(sorted(self.mistakes.items()))
        return self.practice


def generate_practice(scale: Scale | None = None, *, today: date | None = None) -> Practice:
    """A deterministic synthetic practice for ``scale`` whose month ends the day before ``today``."""
    return _Generator(scale or Scale(), today or date.today()).run()
