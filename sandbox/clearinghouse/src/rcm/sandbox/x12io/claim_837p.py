"""837P in: the typed ``Claim837P`` of ``rcm.x12`` mapped to the engine's ``Claim``; and the other way
round, ``build_837p``, for tests and demos that play the practice.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal

from rcm.sandbox.engine.model import Adjustment, Claim, PriorLineAdjudication, ServiceLine
from rcm.sandbox.x12io.envelope import Interchange, date_period, money, organization, person, write
from rcm.x12.convert import transaction_model
from rcm.x12.errors import X12Error
from rcm.x12.models import claim_837p as x
from rcm.x12.models.common import (
    Address,
    AdjustmentGroup,
    Amount,
    Communication,
    Contact,
    DatePeriod,
    Demographics,
    EntityName,
    GeoLocation,
    HealthCode,
    HealthCodes,
    ProcedureCode,
    ProviderTaxonomy,
    Reference,
)
from rcm.x12.models.common import (
    Adjustment as CasAdjustment,
)
from rcm.x12.reader import ReadResult

__all__ = ["build_837p", "claim_of", "read_837p"]

log = logging.getLogger(__name__)


# ---------------------------------------------------------------------- reading


def read_837p(result: ReadResult, *, accepted: Iterable[tuple[str, str]], received: date) -> list[Claim]:
    """The claims of the 837P transaction sets the 999 accepted, keyed ``(GS06, ST02)``."""
    keep = set(accepted)
    claims: list[Claim] = []
    for tx in result.transactions:
        group = tx.group.control_number if tx.group else ""
        if (group, tx.control_number) not in keep:
            continue
        try:
            model = transaction_model(tx)
        except X12Error as exc:  # valid X12 the typed model cannot hold: nothing to adjudicate
            log.warning("837P set %s not mapped: %s", tx.control_number, type(exc).__name__)
            continue
        if isinstance(model, x.Claim837P):
            claims += [
                dataclasses.replace(
                    claim_of(provider, subscriber, patient, claim, received=received),
                    batch_reference=model.header.reference or "",
                )
                for provider, subscriber, patient, claim in model.claims()
            ]
    return claims


def claim_of(
    provider: x.BillingProviderLevel,
    subscriber: x.SubscriberLevel,
    patient: x.PatientLevel | None,
    claim: x.Claim,
    *,
    received: date,
) -> Claim:
    """One 2300 claim with its billing provider and subscriber, as the payer engine sees it."""
    billing = provider.provider.name
    patient_name = patient.patient.name if patient is not None else subscriber.subscriber.name
    place = claim.claim.facility.place_of_service
    rendering = claim.rendering_provider
    prior_paid = next((o.paid_amount for o in claim.other_subscribers if o.paid_amount is not None), None)
    return Claim(
        claim_id=claim.claim.claim_id,
        payer_id=subscriber.payer.name.identifier or "",
        member_id=subscriber.subscriber.name.identifier or "",
        patient_first_name=patient_name.first or "",
        patient_last_name=patient_name.last_or_organization or "",
        total_charge=claim.claim.total_charge,
        place_of_service=place,
        frequency_code=claim.frequency_code or "1",
        billing_npi=provider.provider.npi or "",
        billing_entity_type=billing.entity_type or "2",
        billing_name=billing.last_or_organization or "",
        billing_taxonomy=provider.taxonomy.taxonomy if provider.taxonomy else None,
        lines=tuple(
            _line(number, line, place, received) for number, line in enumerate(claim.service_lines, 1)
        ),
        received=received,
        rendering_npi=rendering.npi if rendering else None,
        rendering_taxonomy=rendering.taxonomy.taxonomy if rendering and rendering.taxonomy else None,
        prior_auth=claim.prior_authorization,
        original_icn=claim.original_reference,
        diagnoses=tuple(code.code for code in claim.diagnoses),
        responsibility=subscriber.coverage.payer_responsibility,
        prior_paid=prior_paid,
    )


def _line(number: int, line: x.ServiceLine, place: str, received: date) -> ServiceLine:
    service = line.service
    dates = line.service_date
    prior = None
    if line.adjudications:
        adjudication = line.adjudications[0]
        prior = PriorLineAdjudication(
            adjudication.adjudication.payer_id,
            adjudication.adjudication.paid,
            tuple(
                Adjustment(group.group, cas.reason, cas.amount)
                for group in adjudication.adjustments
                for cas in group.adjustments
            ),
        )
    return ServiceLine(
        number=number,  # LX01: the builder numbers lines 1..n, so the position is the number
        code=service.procedure.code,
        modifiers=tuple(m for m in service.procedure.modifiers if m),
        charge=service.charge,
        units=service.units,
        service_date=dates.start if dates is not None and dates.start is not None else received,
        place_of_service=service.place_of_service or place,
        prior=prior,
        control_number=line.line_item_control_number,
    )


# ---------------------------------------------------------------------- building (test input)


def build_837p(
    claims: Sequence[Claim],
    *,
    interchange: Interchange,
    submitter_name: str = "SANDBOX SUBMITTER",
    payer_name: str = "PAYER",
) -> str:
    """An 837P (005010X222A1) carrying ``claims``: one billing provider and subscriber HL per claim."""
    when = interchange.when
    transaction = x.Claim837P(
        control_number="0001",
        header=x.BeginningOfTransaction(
            reference=f"B{interchange.control_number}",
            created_on=when.date(),
            created_at=when.strftime("%H%M"),
            transaction_type="CH",
        ),
        submitter=x.Submitter(
            name=organization("41", submitter_name, "46", interchange.sender_id),
            contacts=[
                Contact(
                    function="IC",
                    name="BILLING OFFICE",
                    numbers=[Communication(qualifier="TE", number="8005550199")],
                )
            ],
        ),
        receiver=x.Receiver(name=organization("40", "SANDBOX CLEARINGHOUSE", "46", interchange.receiver_id)),
        billing_providers=[_billing_provider(claim, payer_name) for claim in claims],
    )
    return write([transaction], interchange)


def _billing_provider(claim: Claim, payer_name: str) -> x.BillingProviderLevel:
    name = claim.billing_name or "BILLING PRACTICE"
    billing = (
        organization("85", name, "XX", claim.billing_npi)
        if claim.billing_entity_type == "2"
        else person("85", name, "PROVIDER", "XX", claim.billing_npi)
    )
    return x.BillingProviderLevel(
        taxonomy=_taxonomy("BI", claim.billing_taxonomy),
        provider=x.BillingProvider(
            name=billing,
            address=Address(line1="1 MAIN ST"),
            location=GeoLocation(city="TESTVILLE", state="CA", postal_code="900010000"),
            references=[Reference(qualifier="EI", value="123456789")],
        ),
        subscribers=[
            x.SubscriberLevel(
                coverage=x.SubscriberInformation(
                    payer_responsibility=claim.responsibility, relationship="18", claim_filing_indicator="CI"
                ),
                subscriber=x.Subscriber(
                    name=_member(claim),
                    address=Address(line1="2 ELM ST"),
                    location=GeoLocation(city="TESTVILLE", state="CA", postal_code="900010000"),
                    demographics=Demographics(date_format="D8", birth_date=date(1980, 1, 1), gender="U"),
                ),
                payer=x.Payer(name=organization("PR", payer_name, "PI", claim.payer_id)),
                claims=[_claim(claim)],
            )
        ],
    )


def _member(claim: Claim) -> EntityName:
    return person("IL", claim.patient_last_name, claim.patient_first_name, "MI", claim.member_id)


def _taxonomy(code: str, taxonomy: str | None) -> ProviderTaxonomy | None:
    return ProviderTaxonomy(provider_code=code, qualifier="PXC", taxonomy=taxonomy) if taxonomy else None


def _claim(claim: Claim) -> x.Claim:
    references = []
    if claim.original_icn:
        references.append(Reference(qualifier="F8", value=claim.original_icn))
    if claim.prior_auth:
        references.append(Reference(qualifier="G1", value=claim.prior_auth))
    diagnoses = claim.diagnoses or ("F329",)
    rendering = None
    if claim.rendering_npi:
        rendering = x.RenderingProvider(
            name=person("82", "CLINICIAN", "RENDERING", "XX", claim.rendering_npi),
            taxonomy=_taxonomy("PE", claim.rendering_taxonomy),
        )
    return x.Claim(
        claim=x.ClaimInformation(
            claim_id=claim.claim_id,
            total_charge=money(claim.total_charge),
            facility=x.ClaimFacility(
                place_of_service=claim.place_of_service, frequency_code=claim.frequency_code
            ),
        ),
        references=references,
        health_codes=[
            HealthCodes(
                codes=[HealthCode(qualifier="ABF" if i else "ABK", code=dx) for i, dx in enumerate(diagnoses)]
            )
        ],
        rendering_provider=rendering,
        other_subscribers=_other_subscribers(claim),
        service_lines=[_service_line(line) for line in claim.lines],
    )


def _other_subscribers(claim: Claim) -> list[x.OtherSubscriber]:
    """2320/2330: the prior payer of a secondary claim, with what it paid (AMT*D)."""
    priors = sorted({line.prior.payer_id for line in claim.lines if line.prior is not None})
    paid = claim.prior_paid or sum(
        (line.prior.paid for line in claim.lines if line.prior is not None), Decimal(0)
    )
    return [
        x.OtherSubscriber(
            coverage=x.SubscriberInformation(
                payer_responsibility="P", relationship="18", claim_filing_indicator="CI"
            ),
            amounts=[Amount(qualifier="D", amount=money(paid))],
            other_insurance=x.OtherInsurance(benefits_assigned="Y", release_of_information="Y"),
            subscriber=x.OtherSubscriberName(name=_member(claim)),
            payer=x.OtherPayer(name=organization("PR", "PRIMARY PAYER", "PI", payer_id)),
        )
        for payer_id in priors
    ]


def _service_line(line: ServiceLine) -> x.ServiceLine:
    procedure = ProcedureCode(qualifier="HC", code=line.code, modifiers=list(line.modifiers))
    adjudications = []
    if line.prior is not None:
        groups = dict.fromkeys(a.group for a in line.prior.adjustments)
        adjudications.append(
            x.LineAdjudication(
                adjudication=x.LineAdjudicationInfo(
                    payer_id=line.prior.payer_id,
                    paid=money(line.prior.paid),
                    procedure=procedure,
                    units=money(line.units),
                ),
                adjustments=[
                    AdjustmentGroup(
                        group=group,
                        adjustments=[
                            CasAdjustment(reason=a.reason, amount=money(a.amount))
                            for a in line.prior.adjustments
                            if a.group == group
                        ],
                    )
                    for group in groups
                ],
                dates=[DatePeriod(qualifier="573", start=line.service_date)],
            )
        )
    return x.ServiceLine(
        service=x.ProfessionalService(
            procedure=procedure,
            charge=money(line.charge),
            units=money(line.units),
            place_of_service=line.place_of_service,
            diagnosis_pointers=["1"],
        ),
        dates=[date_period("472", line.service_date)],
        references=[Reference(qualifier="6R", value=line.control_number)] if line.control_number else [],
        adjudications=adjudications,
    )
