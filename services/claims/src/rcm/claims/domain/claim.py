"""The claim draft: a coded session with who bills, who rendered, who pays, and its keys.

:func:`build_claim` assembles it from values; it decides nothing the edits should judge
(a bad NPI or a missing authorization still yields a draft, which the edits then hold).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from enum import StrEnum

from pydantic import Field

from rcm.claims.domain.authorizations import matching_authorization
from rcm.claims.domain.coding.result import CodedSession
from rcm.claims.domain.common import Credential, DomainModel, Modality
from rcm.claims.domain.coverage import Authorization, Coverage, CoveragePriority
from rcm.claims.domain.identifiers import claim_key, line_key
from rcm.claims.domain.payer_rules import PayerRules, SupervisingProviderPolicy
from rcm.claims.domain.providers import BillingEntity, Provider
from rcm.claims.domain.session import ServiceKind, ServiceLocation, Session

__all__ = [
    "INPATIENT_PLACES_OF_SERVICE",
    "PATIENT_HOME_PLACES_OF_SERVICE",
    "ClaimDraft",
    "ClaimProvider",
    "FrequencyCode",
    "ServiceLine",
    "build_claim",
    "claim_providers",
]

INPATIENT_PLACES_OF_SERVICE = frozenset({"21", "51", "61"})
"""Inpatient hospital, inpatient psychiatric facility and inpatient rehabilitation facility: the
places of an inpatient visit, which the 837P dates with the admission (2300 DTP*435). Partial
hospitalization (52) and residential facilities (55, 56) are not inpatient stays."""
PATIENT_HOME_PLACES_OF_SERVICE = frozenset({"10", "12"})
"""Telehealth in the patient's home and the home itself: no service facility (2310C) is named."""


class FrequencyCode(StrEnum):
    """CLM05-3: original, replacement (corrected) or void."""

    ORIGINAL = "1"
    REPLACEMENT = "7"
    VOID = "8"


class ClaimProvider(DomainModel):
    """A clinician as named on a claim (rendering 2310B or supervising 2310D)."""

    provider_id: str
    npi: str
    taxonomy_code: str
    credential: Credential
    last_name: str | None = None
    first_name: str | None = None

    @classmethod
    def of(cls, provider: Provider) -> ClaimProvider:
        """The claim view of a provider."""
        return cls(
            provider_id=provider.provider_id,
            npi=provider.npi,
            taxonomy_code=provider.taxonomy_code,
            credential=provider.credential,
            last_name=provider.last_name,
            first_name=provider.first_name,
        )


class ServiceLine(DomainModel):
    """One service line (loop 2400) with its REF*6R line key."""

    line_number: int = Field(ge=1)
    line_key: str = Field(max_length=30)
    code: str
    modifiers: tuple[str, ...] = ()
    units: int = Field(ge=1)
    place_of_service: str
    diagnosis_pointers: tuple[int, ...]
    charge: Decimal | None = None
    date_of_service: date
    rule: str
    modifier_rules: tuple[str, ...] = ()
    add_on: bool = False
    rendering: ClaimProvider | None = Field(
        default=None, description="The line's clinician when not the claim's (2420A); none: the claim's."
    )


class ClaimDraft(DomainModel):
    """A professional claim ready to be scrubbed."""

    claim_key: str = Field(max_length=17)
    frequency_code: FrequencyCode = FrequencyCode.ORIGINAL
    payer_claim_number: str | None = Field(default=None, description="REF*F8 for frequency 7 or 8.")
    session_id: str
    patient_id: str
    coverage_id: str
    payer_id: str
    payer_order: CoveragePriority
    date_of_service: date
    place_of_service: str
    modality: Modality
    patient_state: str
    patient_at_home: bool = False
    diagnoses: tuple[str, ...]
    lines: tuple[ServiceLine, ...] = Field(min_length=1, max_length=50)
    billing: BillingEntity
    rendering: ClaimProvider
    supervising: ClaimProvider | None = None
    prior_authorization_number: str | None = Field(default=None, description="REF*G1.")
    authorization_id: str | None = None
    note_signed: bool = True
    service_location: ServiceLocation | None = Field(
        default=None, description="Where the service was rendered, as the session reported it."
    )
    admission_date: date | None = Field(default=None, description="Inpatient admission date (DTP*435).")

    @property
    def service_facility(self) -> ServiceLocation | None:
        """The service facility location (2310C): the session's location, unless it is the
        billing provider's address (the guide: only when the place differs from 2010AA) or the
        service was in the patient's home (POS 10 or 12, where no facility is named)."""
        location = self.service_location
        if location is None or self.place_of_service in PATIENT_HOME_PLACES_OF_SERVICE:
            return None
        return None if location.address.same_place(self.billing.address) else location

    @property
    def inpatient(self) -> bool:
        """Whether any part of the claim is an inpatient visit (by the claim's or a line's POS)."""
        places = {self.place_of_service, *(line.place_of_service for line in self.lines)}
        return bool(places & INPATIENT_PLACES_OF_SERVICE)

    @property
    def renderers(self) -> tuple[tuple[str, ClaimProvider], ...]:
        """Each clinician named as rendering, with where: the claim's (2310B), then any line's own (2420A)."""
        named = {self.rendering.provider_id: ("rendering", self.rendering)}
        for line in self.lines:
            if line.rendering is not None:
                where = f"lines[{line.line_number}].rendering"
                named.setdefault(line.rendering.provider_id, (where, line.rendering))
        return tuple(named.values())

    @property
    def total_charge(self) -> Decimal:
        """Sum of the line charges (CLM02); unpriced lines count as zero."""
        return sum((line.charge or Decimal("0.00") for line in self.lines), Decimal("0.00"))

    @property
    def codes(self) -> tuple[str, ...]:
        """The procedure codes of the lines, in order."""
        return tuple(line.code for line in self.lines)


def claim_providers(
    *,
    rendering: Provider,
    supervisor: Provider | None,
    policy: SupervisingProviderPolicy,
    day: date,
    session_supervisor_id: str | None = None,
) -> tuple[ClaimProvider, ClaimProvider | None]:
    """Rendering and supervising provider on the claim, by the payer's supervision policy."""
    supervised = session_supervisor_id is not None or rendering.supervisor_on(day) is not None
    if policy is SupervisingProviderPolicy.BILL_AS_SUPERVISOR and supervised and supervisor is not None:
        return ClaimProvider.of(supervisor), None
    if policy is SupervisingProviderPolicy.NEVER or supervisor is None:
        return ClaimProvider.of(rendering), None
    if policy is SupervisingProviderPolicy.ALWAYS or supervised:
        return ClaimProvider.of(rendering), ClaimProvider.of(supervisor)
    return ClaimProvider.of(rendering), None


def build_claim(
    session: Session,
    coded: CodedSession,
    *,
    coverage: Coverage,
    billing: BillingEntity,
    rendering: Provider,
    rules: PayerRules,
    supervisor: Provider | None = None,
    authorizations: Sequence[Authorization] = (),
) -> ClaimDraft:
    """Assemble the claim draft for ``coverage``'s payer, with deterministic keys."""
    key = claim_key(session.session_id, payer_order=coverage.priority.rank)
    lines = tuple(
        ServiceLine(
            line_number=number,
            line_key=line_key(key, number),
            code=line.code,
            modifiers=line.modifiers,
            units=line.units,
            place_of_service=line.place_of_service,
            diagnosis_pointers=line.diagnosis_pointers,
            charge=line.charge,
            date_of_service=coded.date_of_service,
            rule=line.rule,
            modifier_rules=line.modifier_rules,
            add_on=line.add_on,
        )
        for number, line in enumerate(coded.lines, start=1)
    )
    rendering_ref, supervising_ref = claim_providers(
        rendering=rendering,
        supervisor=supervisor,
        policy=rules.supervising_provider,
        day=session.date_of_service,
        session_supervisor_id=session.supervising_provider_id,
    )
    needing_auth = [line.code for line in lines if rules.auth_requirement(line.code) is not None]
    auth = (
        matching_authorization(
            authorizations,
            patient_id=session.patient_id,
            payer_id=coverage.payer_id,
            codes=needing_auth,
            day=session.date_of_service,
            provider_id=rendering_ref.provider_id,
            preferred_id=session.authorization_id,
        )
        if needing_auth or session.authorization_id
        else None
    )
    return ClaimDraft(
        claim_key=key,
        session_id=session.session_id,
        patient_id=session.patient_id,
        coverage_id=coverage.coverage_id,
        payer_id=coverage.payer_id,
        payer_order=coverage.priority,
        date_of_service=session.date_of_service,
        place_of_service=coded.place_of_service,
        # a care-management month is not a telehealth visit however its contacts were made: its
        # claim is judged as an in-person service (no telehealth POS or modifiers, as coded)
        modality=Modality.IN_PERSON
        if session.service_kind is ServiceKind.CARE_MANAGEMENT
        else session.modality,
        patient_state=session.patient_location.state,
        patient_at_home=session.patient_location.at_home,
        diagnoses=coded.diagnoses,
        lines=lines,
        billing=billing,
        rendering=rendering_ref,
        supervising=supervising_ref,
        prior_authorization_number=auth.auth_number if auth else None,
        authorization_id=auth.authorization_id if auth else None,
        note_signed=session.note_signed,
        service_location=session.service_location,
        admission_date=session.admission_date,
    )
